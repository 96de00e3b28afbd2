package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/dcrconsole/dcrconsole/register"
	"github.com/dcrconsole/dcrconsole/store"
)

// With several replicas on one PostgreSQL database, the singletons (the Register
// sync, jti and session pruning) run on the leader only: the replica holding
// the leader advisory lock (store.Leader). Every replica campaigns every
// leaderInterval, so when the leader dies another takes over within one
// interval. What every replica needs for itself runs everywhere: the holder
// key reload (each replica signs with the current key) and following the
// stored copy of the Register.
const leaderInterval = 5 * time.Second

// startLeadership campaigns in the background; on SQLite the one process leads.
func startLeadership(ctx context.Context, db *store.DB, log *slog.Logger) *store.Leader {
	l := db.NewLeader()
	if db.Postgres() {
		go l.Run(ctx, leaderInterval, func(leading bool) {
			if leading {
				log.Info("leader: this replica runs the Register sync and the pruning jobs")
			} else {
				log.Info("leader: another replica runs the Register sync and the pruning jobs")
			}
		})
	}
	return l
}

// onLeader is fn on the leader, nothing elsewhere.
func onLeader(l *store.Leader, fn func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		if !l.IsLeader() {
			return nil
		}
		return fn(ctx)
	}
}

// followRegister keeps a replica's copy of the Register current: the leader
// syncs when a sync is due, the others reload the copy the leader stored when
// it changed. It checks every leaderInterval until ctx ends.
func followRegister(ctx context.Context, r *register.Data, l *store.Leader, log *slog.Logger) {
	t := time.NewTicker(leaderInterval)
	defer t.Stop()
	for {
		if l.IsLeader() {
			if r.SyncDue() {
				_ = r.Sync(ctx) // failures are recorded in the sync health
			}
		} else if _, err := r.ReloadIfChanged(ctx); err != nil && ctx.Err() == nil {
			log.Warn("register data: reload of the stored copy failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
