package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Group commit on PostgreSQL. Each replica (each DB) has one writer goroutine,
// as on SQLite: it takes every transaction waiting, runs each inside its own
// SAVEPOINT of one PostgreSQL transaction and commits them together, so a
// batch costs one WAL flush (synchronous_commit stays on: nobody is answered
// before the COMMIT that holds their change).
//
// The audit chain's advisory lock is taken once, when the batch begins, not at
// its first audit append. A batch goes on after that append (the next members
// insert clients, consume jtis, update rows), so a lock taken mid-batch would
// be held while waiting for row locks: batch A holds the chain and waits for a
// client row that batch B of another replica inserted, while B waits for the
// chain before its own append, and PostgreSQL breaks the deadlock after
// deadlock_timeout (a second) by aborting one of them. Taken first, the chain
// lock is the only lock a batch ever waits for while holding nothing, so
// batches of different replicas cannot deadlock on it: they take turns, and
// each turn carries everything its replica queued meanwhile. Nothing is lost
// by taking it early: every statement of a batch runs on one connection, one
// after the other, whether or not it holds the lock.

// maxPgBatch bounds how many transactions share one PostgreSQL commit. Each
// member is a subtransaction, and a transaction with more than 64 of them that
// wrote (PGPROC_MAX_CACHED_SUBXIDS) overflows its backend's subtransaction
// cache, which makes every other session's snapshot checks consult pg_subtrans.
// A member may open a nested savepoint (savepoint()), so the bound leaves room.
const maxPgBatch = 40

// pgTxTimeout bounds a transaction's wait for its commit, so a hung database
// does not hold requests forever.
const pgTxTimeout = 60 * time.Second

// maxConnLossAttempts bounds how often a batch whose connection was lost before
// its COMMIT is run again on another connection.
const maxConnLossAttempts = 3

// pgBatch is what the members of one PostgreSQL batch share.
type pgBatch struct {
	// chainLocked: the batch's transaction holds the audit chain's advisory
	// lock, which lockAuditChain then need not take again.
	chainLocked bool
}

// errCommitOutcomeUnknown marks a COMMIT whose answer was lost with the
// connection: it may have committed, so the batch must not run again.
var errCommitOutcomeUnknown = errors.New("store: commit outcome unknown")

// commitPostgres runs batch as one PostgreSQL transaction, again as a whole
// when PostgreSQL aborts it for a serialization failure or a deadlock or when
// its connection is lost before the commit, and answers every member.
func (db *DB) commitPostgres(batch []*writeRequest) {
	batch = db.dropExpired(batch)
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), batch[0].deadline)
	defer cancel()
	var errs []error
	var err error
	for attempt := 1; ; attempt++ {
		errs, err = db.runPgBatch(ctx, batch)
		if !rerunnable(err, attempt) || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(attempt) * time.Duration(1+rand.IntN(5)) * time.Millisecond)
	}
	if err == nil || IsUnavailable(err) {
		db.health.observe(err)
	}
	for i, req := range batch {
		switch {
		case err == nil:
			req.done <- errs[i]
		case errs != nil && errs[i] != nil:
			req.done <- errs[i] // refused on its own before the batch failed
		default:
			req.done <- err
		}
	}
}

// dropExpired answers the requests that waited longer than pgTxTimeout for a
// batch (the writer was held by a hung database) without running them, and
// returns the others. Requests are queued in order, so the first one left has
// the earliest deadline.
func (db *DB) dropExpired(batch []*writeRequest) []*writeRequest {
	now := time.Now()
	kept := batch[:0]
	for _, req := range batch {
		if now.Before(req.deadline) {
			kept = append(kept, req)
			continue
		}
		req.done <- fmt.Errorf("%w: no commit within %s: %w", ErrUnavailable, pgTxTimeout, context.DeadlineExceeded)
	}
	return kept
}

// rerunnable reports whether a batch that failed with err may run again as its
// attempt-th try: PostgreSQL asked for it (serialization failure, deadlock), or
// the connection was lost before the commit and the database can still be
// reached (a lost database is answered at once: the replica reports 503).
func rerunnable(err error, attempt int) bool {
	switch {
	case err == nil || errors.Is(err, errCommitOutcomeUnknown):
		return false
	case retryable(err):
		return attempt < maxTxAttempts
	case IsUnavailable(err):
		var ce *pgconn.ConnectError
		return !errors.As(err, &ce) && attempt < maxConnLossAttempts
	}
	return false
}

// runPgBatch runs the members of batch in one transaction. errs are the
// members' own outcomes, valid only when err, the batch's, is nil: then the
// transaction committed, with the work of every member whose errs[i] is nil.
func (db *DB) runPgBatch(ctx context.Context, batch []*writeRequest) (errs []error, err error) {
	tx := db.w.WithContext(ctx).Begin()
	if tx.Error != nil {
		return nil, tx.Error
	}
	done := false
	defer func() {
		if !done {
			_ = tx.Rollback().Error
		}
	}()
	b := &pgBatch{}
	if err := lockAuditChain(&Tx{g: tx, pg: true, batch: b}); err != nil {
		return nil, err
	}
	errs = make([]error, len(batch))
	for i, req := range batch {
		if errs[i], err = runPgMember(tx, b, i, req); err != nil {
			return errs, err
		}
	}
	done = true
	if err := tx.Commit().Error; err != nil {
		if IsUnavailable(err) {
			return errs, fmt.Errorf("%w: %w", errCommitOutcomeUnknown, err)
		}
		return errs, fmt.Errorf("store: commit: %w", err)
	}
	return errs, nil
}

// runPgMember runs req.fn in the savepoint m<i> of the batch's transaction tx.
// memberErr is req's own failure, undone by rolling back to the savepoint, the
// batch going on; batchErr is a failure that ends the whole batch: the
// transaction is in an unknown state (a savepoint statement failed, the
// connection is lost), or PostgreSQL asked for the whole transaction to be run
// again.
func runPgMember(tx *gorm.DB, b *pgBatch, i int, req *writeRequest) (memberErr, batchErr error) {
	name := "m" + strconv.Itoa(i)
	if err := tx.Exec("SAVEPOINT " + name).Error; err != nil {
		return nil, err
	}
	err := runSafely(func() error { return req.fn(&Tx{g: tx, pg: true, batch: b}) })
	if err == nil {
		rerr := tx.Exec("RELEASE SAVEPOINT " + name).Error
		if rerr == nil {
			return nil, nil
		}
		if IsUnavailable(rerr) {
			return nil, rerr
		}
		// fn ignored a failed statement: the subtransaction is aborted and its
		// work cannot commit. It failed, whatever it returned.
		err = fmt.Errorf("store: a statement of the transaction failed: %w", rerr)
	}
	if retryable(err) {
		return err, err
	}
	if rerr := tx.Exec("ROLLBACK TO SAVEPOINT " + name).Error; rerr != nil {
		return err, fmt.Errorf("store: roll back to savepoint: %w (after %w)", rerr, err)
	}
	return err, nil
}
