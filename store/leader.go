package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"
	"sync/atomic"
	"time"
)

// Leader decides which replica runs the singletons (the Register sync, pruning,
// scheduled jobs): the one holding a session-level PostgreSQL advisory lock on a
// connection of its own. The lock lives as long as that session, so a replica
// that dies (kill -9, lost network) releases it when PostgreSQL notices the
// session end, and another replica takes it at its next attempt.
//
// On SQLite there is one process per database (the file lock): it always leads.
type Leader struct {
	db   *DB
	held atomic.Bool

	mu   sync.Mutex
	conn *sql.Conn
}

// NewLeader returns db's leadership, not yet held (always held on SQLite).
func (db *DB) NewLeader() *Leader {
	l := &Leader{db: db}
	if !db.pg {
		l.held.Store(true)
	}
	return l
}

// IsLeader reports whether this replica held the leadership at its last check.
func (l *Leader) IsLeader() bool { return l.held.Load() }

// Campaign checks a held leadership (its connection still answers) or tries to
// take it, without waiting; it reports whether this replica leads now.
func (l *Leader) Campaign(ctx context.Context) bool {
	if !l.db.pg {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if l.conn != nil {
		if err := l.conn.PingContext(ctx); err == nil {
			var one int
			if err := l.conn.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err == nil {
				return true
			}
		}
		l.dropLocked() // the session, and the lock with it, is gone
	}
	sqlDB, err := l.db.w.DB()
	if err != nil {
		return false
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return false
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, int64(lockKeyLeader)).Scan(&got); err != nil || !got {
		_ = conn.Close()
		return false
	}
	l.conn = conn
	l.held.Store(true)
	return true
}

func (l *Leader) dropLocked() {
	if l.conn != nil {
		_ = l.conn.Raw(func(any) error { return driver.ErrBadConn }) // discard: never return a lock-holding session to the pool
		_ = l.conn.Close()
		l.conn = nil
	}
	l.held.Store(false)
}

// Run campaigns at once and then every interval until ctx ends, then resigns.
// onChange, if not nil, is told each change of leadership.
func (l *Leader) Run(ctx context.Context, interval time.Duration, onChange func(leading bool)) {
	was := false
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		now := l.Campaign(ctx)
		if now != was && onChange != nil {
			onChange(now)
		}
		was = now
		select {
		case <-ctx.Done():
			l.Resign()
			return
		case <-t.C:
		}
	}
}

// Resign gives the leadership up, so another replica can take it at once.
func (l *Leader) Resign() {
	if !l.db.pg {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		_, _ = l.conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(lockKeyLeader))
	}
	l.dropLocked()
}
