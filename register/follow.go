package register

import (
	"context"
	"time"
)

// ReloadIfChanged loads the stored copy again when another replica's sync (or
// sync attempt) is newer than the copy in use: with several replicas on one
// database, only the leader syncs with the Register, and the others follow the
// copy it stores. It reports whether it reloaded.
func (r *Data) ReloadIfChanged(ctx context.Context) (bool, error) {
	r.current() // after the stored copy's first load
	stored, err := r.db.RegisterSyncHealth(ctx)
	if err != nil {
		return false, err
	}
	if h := r.health.Load(); h != nil && sameTime(h.LastAttemptAt, stored.LastAttemptAt) {
		return false, nil
	}
	return true, r.Load(ctx)
}

// SyncDue reports whether the last sync attempt any replica made (as loaded) is
// older than the interval, or there was none: a replica that becomes the leader
// syncs when the one before it stopped, not a whole interval later.
func (r *Data) SyncDue() bool {
	h := r.health.Load()
	return h == nil || h.LastAttemptAt == nil || r.opts.Now().Sub(*h.LastAttemptAt) >= r.opts.Interval
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
