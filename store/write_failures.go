package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"
)

// Several replicas on one PostgreSQL each count their own write failures (a
// replica whose connections fail, whose pool is exhausted, whose statements
// time out), but the alerts are evaluated by the leader alone. Each replica
// therefore reports its count to replica_write_failures (ReportWriteFailures,
// called periodically on every replica) and the leader's check adds them up
// (ClusterWriteFailures). SQLite is one process: its count is the whole story.

// replicaStaleAfter is how long a replica's row outlives its last report: a
// replica gone for that long is gone for good.
const replicaStaleAfter = 7 * 24 * time.Hour

// ReplicaWriteFailure is one replica's reported write failures.
type ReplicaWriteFailure struct {
	Replica       string `gorm:"primaryKey"`
	Failures      int64
	LastFailureAt *time.Time
	LastError     string
	ReportedAt    time.Time
}

// TableName is the replica_write_failures table.
func (ReplicaWriteFailure) TableName() string { return "replica_write_failures" }

// Replica names this process's handle on the database in reports:
// host/pid/random, so two handles in one process are two replicas too.
func (db *DB) Replica() string {
	c := &db.stats
	c.replicaOnce.Do(func() {
		host, _ := os.Hostname()
		var b [3]byte
		_, _ = rand.Read(b[:])
		c.replica = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	})
	return c.replica
}

// ReportWriteFailures writes this replica's failure count and last failure to
// replica_write_failures when it changed since the last report, and forgets
// replicas silent for a week. It writes on the pool, outside DB.Tx: a report
// that fails (the database is why there are failures) is not itself counted,
// and the next call tries again. SQLite: nothing to do.
func (db *DB) ReportWriteFailures(ctx context.Context) error {
	if !db.pg {
		return nil
	}
	wf := db.WriteFailures()
	if wf.Count == db.stats.reported.Load() {
		return nil
	}
	now := time.Now().UTC()
	last := wf.Last.UTC()
	err := db.w.WithContext(ctx).Exec(`INSERT INTO replica_write_failures
			(replica, failures, last_failure_at, last_error, reported_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (replica) DO UPDATE SET failures = excluded.failures,
			last_failure_at = excluded.last_failure_at, last_error = excluded.last_error,
			reported_at = excluded.reported_at`,
		db.Replica(), int64(wf.Count), last, StorableText(ClipText(wf.Err, 500)), now).Error
	if err != nil {
		return fmt.Errorf("store: report write failures: %w", err)
	}
	db.stats.reported.Store(wf.Count)
	return db.w.WithContext(ctx).Where("reported_at < ?", now.Add(-replicaStaleAfter)).
		Delete(&ReplicaWriteFailure{}).Error
}

// ClusterWriteFailures is WriteFailures over every replica: this one's own
// count (current, reported or not) plus what the others last reported; Last,
// Err and Replica are the latest failure's. Replicas counts the replicas with
// failures. On SQLite it is this process's count.
func (db *DB) ClusterWriteFailures(ctx context.Context) (WriteFailure, error) {
	own := db.WriteFailures()
	if own.Count > 0 {
		own.Replicas, own.Replica = 1, db.Replica()
	}
	if !db.pg {
		return own, nil
	}
	var rows []ReplicaWriteFailure
	if err := db.r.WithContext(ctx).Where("replica <> ? AND failures > 0", db.Replica()).Find(&rows).Error; err != nil {
		return own, err
	}
	out := own
	for _, r := range rows {
		out.Count += uint64(r.Failures)
		out.Replicas++
		if r.LastFailureAt != nil && r.LastFailureAt.After(out.Last) {
			out.Last, out.Err, out.Replica = *r.LastFailureAt, r.LastError, r.Replica
		}
	}
	return out, nil
}
