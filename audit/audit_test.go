package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// openDB opens a fresh SQLite database in a temp directory, closed when t ends.
func openDB(tb testing.TB, opts store.Options) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "a.db"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// sampleEvent is a registration-like event with every field set, so each one is
// exercised by the hash and by the round trip through SQLite.
func sampleEvent(i int) *store.AuditEvent {
	return &store.AuditEvent{
		Type:           store.EventRegistrationCreate,
		Actor:          fmt.Sprintf("software:sw-%d", i),
		Outcome:        store.OutcomeRejected,
		ErrorCode:      "invalid_software_statement",
		Step:           "ssa",
		Reason:         "SSA signature does not verify | kid abc not in the Register JWKS",
		SoftwareID:     fmt.Sprintf("sw-%d", i),
		OrgID:          "org-1",
		ClientID:       fmt.Sprintf("client-%d", i),
		JTI:            fmt.Sprintf("jti-%d", i),
		RemoteAddr:     "192.0.2.7:51234",
		CertThumbprint: "mHrI3MbaQ6Lh9Q0Hf0f2Zx6wYV5dj0rZ3i8tX8E9t5A",
		RequestID:      fmt.Sprintf("req-%d", i),
		DurationUS:     int64(1200 + i),
		Data:           `{"source_bytes":1834,"request_jwt":"eyJhbGciOiJQUzI1NiJ9.eyJpc3MiOiJzdyJ9.c2ln"}`,
	}
}

// seed appends n events in one transaction: quick, and the same chain as n Records.
func seed(tb testing.TB, db *store.DB, l *Log, n int) {
	tb.Helper()
	err := db.Tx(context.Background(), func(tx *store.Tx) error {
		for i := range n {
			if err := l.Append(tx, sampleEvent(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// mustVerify runs Verify and fails the test on an error (not on a broken chain).
func mustVerify(t *testing.T, l *Log) Result {
	t.Helper()
	res, err := l.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

// wantOK fails unless res is an intact chain of n events whose head is the log's head.
func wantOK(t *testing.T, l *Log, res Result, n int64) {
	t.Helper()
	if !res.OK || res.Events != n || res.HeadID != n || res.BrokenID != 0 || res.Problem != "" {
		t.Fatalf("Verify = %+v, want OK with %d events", res, n)
	}
	id, hash, err := l.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if id != res.HeadID || hash != res.HeadHash {
		t.Fatalf("Head = (%d, %s), Verify head = (%d, %s)", id, hash, res.HeadID, res.HeadHash)
	}
}

func TestAppendSetsChainFields(t *testing.T) {
	db := openDB(t, store.Options{})
	l := New(db)
	ctx := context.Background()

	sydney := time.FixedZone("AEST", 10*3600)
	given := time.Date(2025, 3, 4, 15, 6, 7, 123456789, sydney)
	first := sampleEvent(1)
	first.Time = given
	before := time.Now().UTC().Truncate(time.Microsecond)
	second := sampleEvent(2) // zero Time: Append stamps it
	third := sampleEvent(3)
	for _, e := range []*store.AuditEvent{first, second, third} {
		if err := l.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	after := time.Now().UTC()

	if want := given.UTC().Truncate(time.Microsecond); !first.Time.Equal(want) || first.Time.Location() != time.UTC {
		t.Errorf("first.Time = %v, want %v in UTC", first.Time, want)
	}
	if second.Time.Before(before) || second.Time.After(after) || second.Time.Location() != time.UTC {
		t.Errorf("second.Time = %v, want UTC now between %v and %v", second.Time, before, after)
	}
	if second.Time.Nanosecond()%1000 != 0 {
		t.Errorf("second.Time = %v, want whole microseconds", second.Time)
	}
	for i, c := range []struct {
		e        *store.AuditEvent
		id       int64
		prevHash string
	}{{first, 1, Genesis}, {second, 2, first.Hash}, {third, 3, second.Hash}} {
		if c.e.ID != c.id || c.e.PrevHash != c.prevHash || c.e.Hash != Hash(c.e) || len(c.e.Hash) != 64 {
			t.Errorf("event %d = id %d prev %s hash %s, want id %d prev %s and its own hash",
				i, c.e.ID, c.e.PrevHash, c.e.Hash, c.id, c.prevHash)
		}
		// What comes back from SQLite must hash the same, or Verify would report
		// every event as edited.
		var got store.AuditEvent
		if err := storetest.Gorm(t, db).Where("id = ?", c.e.ID).Take(&got).Error; err != nil {
			t.Fatal(err)
		}
		if !got.Time.Equal(c.e.Time) || Hash(&got) != c.e.Hash || got.Hash != c.e.Hash || got.PrevHash != c.e.PrevHash {
			t.Errorf("event %d read back as %+v, want %+v", c.id, got, *c.e)
		}
	}
	wantOK(t, l, mustVerify(t, l), 3)
}

func TestAppendRejectsIncompleteEvents(t *testing.T) {
	db := openDB(t, store.Options{})
	l := New(db)
	for name, e := range map[string]*store.AuditEvent{
		"no type":         {Outcome: store.OutcomeSuccess},
		"no outcome":      {Type: store.EventTokenIssue},
		"unknown outcome": {Type: store.EventTokenIssue, Outcome: "ok"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := l.Record(context.Background(), e); !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("Record = %v, want ErrInvalidEvent", err)
			}
			if id, _, _ := l.Head(context.Background()); id != 0 {
				t.Fatalf("head id = %d after a refused event, want 0", id)
			}
		})
	}
}

func TestAppendRollsBackWithTheTransaction(t *testing.T) {
	db := openDB(t, store.Options{})
	l := New(db)
	ctx := context.Background()
	seed(t, db, l, 3)

	boom := errors.New("boom")
	err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.SaveRegisterSyncHealth(tx, &store.RegisterSync{LastError: "x"}); err != nil {
			return err
		}
		if err := l.Append(tx, sampleEvent(99)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v, want boom", err)
	}
	if h, _ := db.RegisterSyncHealth(ctx); h.LastError != "" {
		t.Fatalf("the state change survived the rollback: %+v", h)
	}
	wantOK(t, l, mustVerify(t, l), 3)

	// The next event takes the id the rolled-back one had, and links to event 3.
	e := sampleEvent(4)
	if err := l.Record(ctx, e); err != nil {
		t.Fatal(err)
	}
	if e.ID != 4 {
		t.Fatalf("id after rollback = %d, want 4", e.ID)
	}
	wantOK(t, l, mustVerify(t, l), 4)
}

func TestConcurrentRecord(t *testing.T) {
	db := openDB(t, store.Options{Synchronous: "NORMAL"})
	l := New(db)
	const workers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	ids := make(chan int64, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				e := sampleEvent(w*each + i)
				if err := l.Record(context.Background(), e); err != nil {
					errs <- err
					return
				}
				ids <- e.ID
			}
		})
	}
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("id %d given twice", id)
		}
		seen[id] = true
	}
	wantOK(t, l, mustVerify(t, l), workers*each)
}

// BenchmarkAppend is the audit cost on the registration path: one Record (its own
// transaction) per op. With synchronous=FULL the fsync dominates; NORMAL shows the
// CPU and SQLite cost.
func BenchmarkAppend(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("synchronous="+sync, func(b *testing.B) {
			l := New(openDB(b, store.Options{Synchronous: sync}))
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := l.Record(ctx, sampleEvent(i)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
