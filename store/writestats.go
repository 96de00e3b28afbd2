package store

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// WriteStats are the single writer's running totals since Open, for monitoring
// (the metrics endpoint, and an alert on write failures).
type WriteStats struct {
	// Commits counts the writer's commits: one fsync each, for a batch of one or
	// more transactions.
	Commits uint64
	// Transactions counts the transactions the writer ran, committed or not.
	Transactions uint64
	// Failures counts the transactions refused by a failure of the database
	// itself (I/O error, disk full, a failed commit or begin, a panic), not by
	// the caller's own refusal or a constraint.
	Failures uint64
	// LastFailure is when the last such failure happened (zero: never), and
	// LastFailureError what it said.
	LastFailure      time.Time
	LastFailureError string
}

// CommitObserver is told of every commit of the writer: how many transactions
// it carried and how long the batch took from its begin to its commit. On
// PostgreSQL a batch is one PostgreSQL transaction, timed with its re-runs.
type CommitObserver func(batch int, took time.Duration)

// writeCounters are DB's WriteStats, kept as they happen.
type writeCounters struct {
	commits, transactions, failures atomic.Uint64
	observer                        atomic.Pointer[CommitObserver]

	mu          sync.Mutex
	lastFailure time.Time
	lastError   string

	// reported is the failure count last written to replica_write_failures;
	// replica names this process's row there (write_failures.go).
	reported    atomic.Uint64
	replicaOnce sync.Once
	replica     string
}

// WriteStats returns the writer's totals since Open.
func (db *DB) WriteStats() WriteStats {
	c := &db.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	return WriteStats{Commits: c.commits.Load(), Transactions: c.transactions.Load(), Failures: c.failures.Load(),
		LastFailure: c.lastFailure, LastFailureError: c.lastError}
}

// ObserveCommits makes fn hear of every later commit (nil: none). It runs on the
// writer, between a commit and the next batch: it must be quick.
func (db *DB) ObserveCommits(fn CommitObserver) {
	if fn == nil {
		db.stats.observer.Store(nil)
		return
	}
	db.stats.observer.Store(&fn)
}

// committed counts one commit of batch transactions and tells the observer.
func (c *writeCounters) committed(batch int, took time.Duration) {
	if fn := c.observer.Load(); fn != nil {
		(*fn)(batch, took)
	}
	c.commits.Add(1) // after the observer: whoever sees the count finds it observed
}

// ran counts one transaction the writer ran, err being what its caller is told.
func (c *writeCounters) ran(err error) {
	c.transactions.Add(1)
	if isWriteFailure(err) {
		c.failed(err)
	}
}

func (c *writeCounters) failed(err error) {
	c.failures.Add(1)
	c.mu.Lock()
	c.lastFailure, c.lastError = time.Now().UTC(), err.Error()
	c.mu.Unlock()
}

// errPanicked marks a transaction function that panicked (runSafely).
var errPanicked = errors.New("store: transaction panicked")

// isWriteFailure tells a failure of the database (which SQLite may have answered
// by rolling back the whole transaction, a failed begin or commit, PostgreSQL
// unreachable or failing a statement for another reason than a constraint, a
// panic) from a transaction its own function refused or a constraint stopped.
func isWriteFailure(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return !strings.HasPrefix(pe.Code, "23") // class 23: integrity constraint violation
	}
	return abortsTransaction(err) || IsUnavailable(err) || errors.Is(err, errPanicked)
}
