package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store/pgtest"
)

// pgRequest is a transaction as DB.Tx queues it on PostgreSQL.
func pgRequest(fn func(tx *Tx) error) *writeRequest {
	return &writeRequest{fn: fn, done: make(chan error, 1), deadline: time.Now().Add(pgTxTimeout)}
}

// commitBatch runs fns as one batch through the writer's batch function and
// returns what each caller is told.
func commitBatch(db *DB, fns ...func(tx *Tx) error) []error {
	batch := make([]*writeRequest, len(fns))
	for i, fn := range fns {
		batch[i] = pgRequest(fn)
	}
	db.commitPostgres(batch)
	errs := make([]error, len(batch))
	for i, req := range batch {
		errs[i] = <-req.done
	}
	return errs
}

func consume(jti string) func(tx *Tx) error {
	return func(tx *Tx) error { return ConsumeJTI(tx, JTIRegistrationRequest, jti, time.Now().Add(time.Hour)) }
}

// jtisUsed reports which of jtis are recorded.
func jtisUsed(t *testing.T, db *DB, jtis ...string) []bool {
	t.Helper()
	out := make([]bool, len(jtis))
	for i, j := range jtis {
		used, err := db.JTIUsed(context.Background(), JTIRegistrationRequest, j)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = used
	}
	return out
}

// TestPostgresBatchMemberFailuresStayTheirOwn: in one PostgreSQL transaction, a
// member refused by a unique violation, one that panics and one that ignores a
// failed statement are each undone alone; the others commit.
func TestPostgresBatchMemberFailuresStayTheirOwn(t *testing.T) {
	db := openBackend(t, pgtest.Postgres)
	errs := commitBatch(db,
		consume("a"),
		func(tx *Tx) error { // a real unique violation: "a" is the first member's, uncommitted
			if err := ConsumeJTI(tx, JTIRegistrationRequest, "b", time.Now().Add(time.Hour)); err != nil {
				return err
			}
			return tx.g.Exec(`INSERT INTO used_jtis (kind, jti, expires_at) VALUES (?, 'a', 0)`, JTIRegistrationRequest).Error
		},
		consume("c"),
		func(tx *Tx) error {
			if err := ConsumeJTI(tx, JTIRegistrationRequest, "d", time.Now().Add(time.Hour)); err != nil {
				return err
			}
			panic("member bug")
		},
		func(tx *Tx) error { // swallows its failed statement and says it succeeded
			_ = ConsumeJTI(tx, JTIRegistrationRequest, "e", time.Now().Add(time.Hour))
			_ = tx.g.Exec(`SELECT 1/0`).Error
			return nil
		},
		consume("f"),
	)
	if errs[0] != nil || errs[2] != nil || errs[5] != nil {
		t.Fatalf("members that did nothing wrong failed: %v", errs)
	}
	if !IsUniqueViolation(errs[1]) {
		t.Errorf("unique violation member: %v", errs[1])
	}
	if !errors.Is(errs[3], errPanicked) {
		t.Errorf("panicking member: %v", errs[3])
	}
	if errs[4] == nil {
		t.Error("a member that hid a failed statement was told it committed")
	}
	want := []bool{true, false, true, false, false, true}
	if got := jtisUsed(t, db, "a", "b", "c", "d", "e", "f"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("jtis committed %v, want %v", got, want)
	}
}

// TestPostgresBatchRerunsOnRetryableError: PostgreSQL's serialization failure
// (40001) raised in one member rolls the whole batch back and runs it again;
// every member's work commits once.
func TestPostgresBatchRerunsOnRetryableError(t *testing.T) {
	db := openBackend(t, pgtest.Postgres)
	var runs, failing atomic.Int32
	errs := commitBatch(db,
		func(tx *Tx) error {
			runs.Add(1)
			return ConsumeJTI(tx, JTIRegistrationRequest, "x", time.Now().Add(time.Hour))
		},
		func(tx *Tx) error {
			if failing.Add(1) < 3 { // the first two attempts fail
				return tx.g.Exec(`DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = '40001'; END $$`).Error
			}
			return ConsumeJTI(tx, JTIRegistrationRequest, "y", time.Now().Add(time.Hour))
		},
	)
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("errs %v", errs)
	}
	if runs.Load() != 3 {
		t.Fatalf("first member ran %d times, want 3 (the batch re-ran whole)", runs.Load())
	}
	if got := jtisUsed(t, db, "x", "y"); !got[0] || !got[1] {
		t.Fatalf("jtis %v", got)
	}
}

// TestPostgresBatchGivesUpAfterMaxAttempts: a batch PostgreSQL aborts every
// time fails every member, and nothing of it commits.
func TestPostgresBatchGivesUpAfterMaxAttempts(t *testing.T) {
	db := openBackend(t, pgtest.Postgres)
	var attempts atomic.Int32
	errs := commitBatch(db, consume("p"), func(tx *Tx) error {
		attempts.Add(1)
		return tx.g.Exec(`DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = '40P01'; END $$`).Error
	})
	if attempts.Load() != maxTxAttempts {
		t.Fatalf("%d attempts, want %d", attempts.Load(), maxTxAttempts)
	}
	for i, err := range errs {
		if !retryable(err) {
			t.Errorf("member %d told %v, want the deadlock", i, err)
		}
	}
	if jtisUsed(t, db, "p")[0] {
		t.Fatal("a member of a failed batch committed")
	}
}

// TestPostgresBatchRerunsAfterLosingItsConnection: the batch's connection dies
// mid-batch (its backend is terminated); the batch runs again on another one.
func TestPostgresBatchRerunsAfterLosingItsConnection(t *testing.T) {
	db := openBackend(t, pgtest.Postgres)
	var killed atomic.Bool
	var runs atomic.Int32
	errs := commitBatch(db, func(tx *Tx) error { runs.Add(1); return consume("k1")(tx) }, func(tx *Tx) error {
		if !killed.Swap(true) {
			_ = tx.g.Exec(`SELECT pg_terminate_backend(pg_backend_pid())`).Error
		}
		return ConsumeJTI(tx, JTIRegistrationRequest, "k2", time.Now().Add(time.Hour))
	})
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("errs %v", errs)
	}
	if runs.Load() != 2 {
		t.Fatalf("first member ran %d times, want 2", runs.Load())
	}
	if got := jtisUsed(t, db, "k1", "k2"); !got[0] || !got[1] {
		t.Fatalf("jtis %v", got)
	}
}

// TestPostgresBatchCommitFailureFailsEveryMember: the members' statements all
// succeed, but the COMMIT fails (a deferred unique constraint): nobody is told
// they committed, and nothing did.
func TestPostgresBatchCommitFailureFailsEveryMember(t *testing.T) {
	db := openBackend(t, pgtest.Postgres)
	if err := db.w.Exec(`CREATE TABLE deferred_probe (k TEXT, CONSTRAINT deferred_probe_k UNIQUE (k) DEFERRABLE INITIALLY DEFERRED)`).Error; err != nil {
		t.Fatal(err)
	}
	insert := func(tx *Tx) error { return tx.g.Exec(`INSERT INTO deferred_probe (k) VALUES ('same')`).Error }
	errs := commitBatch(db, consume("q"), insert, insert)
	for i, err := range errs {
		if !IsUniqueViolation(err) {
			t.Errorf("member %d told %v, want the commit's unique violation", i, err)
		}
	}
	if jtisUsed(t, db, "q")[0] {
		t.Fatal("a member of a batch whose commit failed is in the database")
	}
}

// TestPostgresRequestPastItsDeadlineDoesNotRun: a transaction that waited
// pgTxTimeout for the writer is answered unavailable and never runs.
func TestPostgresRequestPastItsDeadlineDoesNotRun(t *testing.T) {
	db := openBackend(t, pgtest.Postgres)
	late := pgRequest(consume("late"))
	late.deadline = time.Now().Add(-time.Second)
	onTime := pgRequest(consume("on-time"))
	db.commitPostgres([]*writeRequest{late, onTime})
	if err := <-late.done; !IsUnavailable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("late request: %v", err)
	}
	if err := <-onTime.done; err != nil {
		t.Fatal(err)
	}
	if got := jtisUsed(t, db, "late", "on-time"); got[0] || !got[1] {
		t.Fatalf("jtis %v", got)
	}
}

// TestPostgresTransactionsShareCommits: transactions queued while the writer
// is busy go out in one commit, and each caller hears only after it.
func TestPostgresTransactionsShareCommits(t *testing.T) {
	db := openBackend(t, pgtest.Postgres)
	const waiting = 20
	before := db.WriteStats()
	shared := make(chan struct{})
	db.ObserveCommits(func(batch int, _ time.Duration) {
		if batch == waiting {
			close(shared)
		}
	})
	running, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.Tx(context.Background(), func(tx *Tx) error {
			close(running)
			<-release
			return ConsumeJTI(tx, "t", "first", time.Now().Add(time.Hour))
		})
	}()
	<-running // the writer holds the first: the others queue behind it
	var wg sync.WaitGroup
	errs := make(chan error, waiting)
	for i := range waiting {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.Tx(context.Background(), consume(fmt.Sprintf("w%d", i)))
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); len(db.writes) < waiting; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("%d of %d transactions queued", len(db.writes), waiting)
		}
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	select {
	case <-shared:
	case <-time.After(30 * time.Second):
		t.Fatalf("no commit carried the %d waiting transactions", waiting)
	}
	if s := db.WriteStats(); s.Transactions-before.Transactions != waiting+1 {
		t.Fatalf("transactions %d, want %d", s.Transactions-before.Transactions, waiting+1)
	}
}
