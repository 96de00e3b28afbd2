package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// maxBatch bounds how many write transactions share one commit.
const maxBatch = 128

// writeRequest is one transaction waiting for the writer.
type writeRequest struct {
	fn   func(tx *Tx) error
	done chan error
	// deadline (PostgreSQL) bounds the wait for the commit: see commitPostgres.
	deadline time.Time
}

// Tx is a write transaction handed to the function given to DB.Tx. Only store
// functions use what is inside it: every statement on the database is in this
// package. It must not be kept after that function returns.
type Tx struct {
	g  *gorm.DB
	pg bool // PostgreSQL: see postgres.go
	// batch is the PostgreSQL batch tx belongs to (pgwriter.go).
	batch *pgBatch
}

// run runs req.fn as a GORM transaction on g: a SAVEPOINT when g is already one.
func (req *writeRequest) run(g *gorm.DB) error {
	return g.Transaction(func(g *gorm.DB) error { return req.fn(&Tx{g: g}) })
}

// ErrClosed is returned by Tx after Close.
var ErrClosed = errors.New("store: closed")

// Tx runs fn in a write transaction: everything fn writes commits together or
// not at all, and when Tx returns nil it is durable (synchronous=FULL).
//
// Transactions are group-committed: the single writer takes every transaction
// waiting at that moment, runs each inside its own SAVEPOINT of one SQLite
// transaction, and commits them with one fsync. A failing fn rolls back to its
// savepoint and affects no other. Under load this turns one fsync per
// registration into one per batch, without weakening durability: nobody is
// answered before the commit that holds their change.
//
// fn must not keep tx, and must not depend on ctx being live: once queued, the
// transaction runs (cancelling ctx only stops waiting for a place in the queue).
//
// On PostgreSQL each replica group-commits the same way, in one PostgreSQL
// transaction per batch (pgwriter.go); replicas take turns on the audit chain.
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) error {
	req := &writeRequest{fn: fn, done: make(chan error, 1)}
	if db.pg {
		if err := ctx.Err(); err != nil {
			return err
		}
		req.deadline = time.Now().Add(pgTxTimeout)
	}
	// The read lock keeps Close from starting while a request is being queued, so
	// every queued request is seen by the writer before it stops.
	db.closeMu.RLock()
	if db.closed {
		db.closeMu.RUnlock()
		return ErrClosed
	}
	select {
	case db.writes <- req:
	case <-ctx.Done():
		db.closeMu.RUnlock()
		return ctx.Err()
	}
	db.closeMu.RUnlock()
	err := <-req.done
	db.stats.ran(err) // before the caller hears: it finds itself counted
	return err
}

// writer owns all transactional writes; it exits when db.closing is closed.
func (db *DB) writer() {
	defer close(db.writerDone)
	batch := make([]*writeRequest, 0, maxBatch)
	for {
		select {
		case req := <-db.writes:
			batch = append(batch[:0], req)
		case <-db.closing:
			db.drain(batch)
			return
		}
		batch = db.collect(batch)
		if len(batch) > 1 && len(batch) < db.batchLimit() {
			// Others were waiting, so more are likely on their way: give them a
			// moment to share this commit's fsync (as PostgreSQL's commit_delay).
			// A lone transaction never waits.
			timer := time.NewTimer(commitDelay)
		wait:
			for len(batch) < db.batchLimit() {
				select {
				case req := <-db.writes:
					batch = append(batch, req)
				case <-timer.C:
					break wait
				}
			}
			timer.Stop()
		}
		started := time.Now()
		db.commit(batch)
		db.stats.committed(len(batch), time.Since(started))
		// An idle writer must not keep the last batch alive: a request's closure
		// holds whatever its caller wrote (a Register answer is megabytes).
		clear(batch)
	}
}

// commitDelay is how long a busy writer waits for more transactions to join a batch.
const commitDelay = 300 * time.Microsecond

// batchLimit is how many transactions one commit may carry.
func (db *DB) batchLimit() int {
	if db.pg {
		return maxPgBatch
	}
	return maxBatch
}

// collect adds to batch every request already waiting, up to batchLimit.
func (db *DB) collect(batch []*writeRequest) []*writeRequest {
	for len(batch) < db.batchLimit() {
		select {
		case req := <-db.writes:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// drain commits what was queued before Close: nothing can be queued after it.
func (db *DB) drain(batch []*writeRequest) {
	for {
		batch = db.collect(batch[:0])
		if len(batch) == 0 {
			return
		}
		started := time.Now()
		db.commit(batch)
		db.stats.committed(len(batch), time.Since(started))
	}
}

func (db *DB) commit(batch []*writeRequest) {
	if db.pg {
		db.commitPostgres(batch)
		return
	}
	if len(batch) == 1 {
		req := batch[0]
		req.done <- runSafely(func() error { return req.run(db.w) })
		return
	}
	errs := make([]error, len(batch))
	tx := db.w.Begin()
	if tx.Error != nil {
		for _, req := range batch {
			req.done <- tx.Error
		}
		return
	}
	for i, req := range batch {
		// sqlite-only: group commit runs each member in a SAVEPOINT of one transaction and tells a statement error from one that aborts the whole transaction by SQLite result codes (abortsTransaction); PostgreSQL aborts the transaction on any error, so its dialect needs its own rule.
		// A nested GORM transaction is a SAVEPOINT: fn's failure undoes only fn.
		errs[i] = runSafely(func() error { return req.run(tx) })
		if abortsTransaction(errs[i]) {
			// SQLite may have rolled back the whole transaction (disk full, I/O
			// error): the work of the members before this one may be gone, so
			// nobody in the batch may be told it committed.
			_ = tx.Rollback().Error
			for j := range batch {
				if errs[j] == nil {
					errs[j] = fmt.Errorf("store: batch aborted by another transaction's failure: %w", errs[i])
				}
			}
			for j, req := range batch {
				req.done <- errs[j]
			}
			return
		}
	}
	if err := tx.Commit().Error; err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("store: commit: %w", err)
			}
		}
	}
	for i, req := range batch {
		req.done <- errs[i]
	}
}

// runSafely turns a panic in a transaction function into an error, so one bad
// request cannot take the writer (and every later write) down with it.
func runSafely(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %v", errPanicked, v)
		}
	}()
	return fn()
}
