package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

func TestVerifyEmptyLog(t *testing.T) {
	l := New(openDB(t, store.Options{}))
	res := mustVerify(t, l)
	wantOK(t, l, res, 0)
	if res.HeadHash != Genesis {
		t.Errorf("empty log head hash = %q, want Genesis", res.HeadHash)
	}
}

func TestVerifyAcrossBatches(t *testing.T) {
	db := openDB(t, store.Options{Synchronous: "NORMAL"})
	l := New(db)
	for _, n := range []int{verifyBatch, verifyBatch + 1} {
		seed(t, db, l, n-int(mustVerify(t, l).Events))
		wantOK(t, l, mustVerify(t, l), int64(n))
	}
}

// TestVerifyFindsTampering changes the database behind the log's back, the way
// someone with write access to the file would, and expects Verify to name the
// first event that no longer fits.
func TestVerifyFindsTampering(t *testing.T) {
	cases := []struct {
		name        string
		events      int // 10 unless set
		tamper      func(t *testing.T, db *store.DB)
		wantID      int64
		wantProblem string
	}{
		{
			name:        "edit a field",
			tamper:      exec(`UPDATE audit_events SET reason = 'nothing to see' WHERE id = 5`),
			wantID:      5,
			wantProblem: "event 5: hash does not match its content (edited?)",
		},
		{
			name:        "edit the outcome",
			tamper:      exec(`UPDATE audit_events SET outcome = 'success', error_code = '' WHERE id = 1`),
			wantID:      1,
			wantProblem: "event 1: hash does not match its content (edited?)",
		},
		{
			name: "edit the time by a microsecond",
			tamper: func(t *testing.T, db *store.DB) {
				e := load(t, db, 7)
				exec(`UPDATE audit_events SET time = ? WHERE id = 7`, e.Time.Add(time.Microsecond))(t, db)
			},
			wantID:      7,
			wantProblem: "event 7: hash does not match its content (edited?)",
		},
		{
			name:        "edit the duration",
			tamper:      exec(`UPDATE audit_events SET duration_us = duration_us + 1 WHERE id = 10`),
			wantID:      10,
			wantProblem: "event 10: hash does not match its content (edited?)",
		},
		{
			name:        "edit the stored hash",
			tamper:      exec(`UPDATE audit_events SET hash = ? WHERE id = 3`, strings.Repeat("a", 64)),
			wantID:      3,
			wantProblem: "event 3: hash does not match its content (edited?)",
		},
		{
			name:        "edit prev_hash",
			tamper:      exec(`UPDATE audit_events SET prev_hash = ? WHERE id = 1`, strings.Repeat("f", 64)),
			wantID:      1,
			wantProblem: "event 1: hash does not match its content (edited?)",
		},
		{
			name:        "make a field unreadable",
			tamper:      exec(`UPDATE audit_events SET duration_us = 'soon' WHERE id = 6`),
			wantID:      6,
			wantProblem: "event 6: its content cannot be read (edited?)",
		},
		{
			name:        "put a number in the time column",
			tamper:      exec(`UPDATE audit_events SET time = 1.5 WHERE id = 2`),
			wantID:      2,
			wantProblem: "event 2: its content cannot be read (edited?)",
		},
		{
			name:        "put text in the time column",
			tamper:      exec(`UPDATE audit_events SET time = 'yesterday' WHERE id = 2`),
			wantID:      2,
			wantProblem: "event 2: hash does not match its content (edited?)",
		},
		{
			name:        "delete a middle event",
			tamper:      exec(`DELETE FROM audit_events WHERE id = 5`),
			wantID:      6,
			wantProblem: "event 6 follows 4: event 5 is missing",
		},
		{
			name:        "delete several events",
			tamper:      exec(`DELETE FROM audit_events WHERE id BETWEEN 4 AND 6`),
			wantID:      7,
			wantProblem: "event 7 follows 3: events 4 to 6 are missing",
		},
		{
			name:        "delete the first event",
			tamper:      exec(`DELETE FROM audit_events WHERE id = 1`),
			wantID:      2,
			wantProblem: "event 2 is the first event: event 1 is missing",
		},
		{
			name: "edit and rehash",
			tamper: func(t *testing.T, db *store.DB) {
				rewrite(t, db, 5, func(e *store.AuditEvent) { e.Outcome, e.ErrorCode = store.OutcomeSuccess, "" })
			},
			wantID:      6,
			wantProblem: "event 6: prev_hash does not match event 5 (deleted or reordered?)",
		},
		{
			name: "rehash the first event onto a forged genesis",
			tamper: func(t *testing.T, db *store.DB) {
				rewrite(t, db, 1, func(e *store.AuditEvent) { e.PrevHash = strings.Repeat("1", 64) })
			},
			wantID:      1,
			wantProblem: "event 1: prev_hash is not the genesis value (events deleted before it?)",
		},
		{
			name: "delete and re-link the next event",
			tamper: func(t *testing.T, db *store.DB) {
				prev := load(t, db, 4)
				exec(`DELETE FROM audit_events WHERE id = 5`)(t, db)
				rewrite(t, db, 6, func(e *store.AuditEvent) { e.PrevHash = prev.Hash })
			},
			wantID:      6,
			wantProblem: "event 6 follows 4: event 5 is missing",
		},
		{
			name: "delete, renumber and re-link, but not the event after",
			tamper: func(t *testing.T, db *store.DB) {
				prev := load(t, db, 4)
				exec(`DELETE FROM audit_events WHERE id = 5`)(t, db)
				exec(`UPDATE audit_events SET id = 5 WHERE id = 6`)(t, db)
				rewrite(t, db, 5, func(e *store.AuditEvent) { e.PrevHash = prev.Hash })
				// The later events move down one id, and each is rehashed under its
				// new id, but their prev_hash links are left as they were.
				for id := int64(7); id <= 10; id++ {
					exec(`UPDATE audit_events SET id = ? WHERE id = ?`, id-1, id)(t, db)
					rewrite(t, db, id-1, func(*store.AuditEvent) {})
				}
			},
			wantID:      6,
			wantProblem: "event 6: prev_hash does not match event 5 (deleted or reordered?)",
		},
		{
			name:        "swap two events' content",
			tamper:      swap(5, 6, false),
			wantID:      5,
			wantProblem: "event 5: hash does not match its content (edited?)",
		},
		{
			name:        "swap two events' content and rehash both",
			tamper:      swap(5, 6, true),
			wantID:      5,
			wantProblem: "event 5: prev_hash does not match event 4 (deleted or reordered?)",
		},
		{
			name:        "edit in the second batch",
			events:      verifyBatch + 500,
			tamper:      exec(`UPDATE audit_events SET data = '{}' WHERE id = ?`, verifyBatch+300),
			wantID:      verifyBatch + 300,
			wantProblem: fmt.Sprintf("event %d: hash does not match its content (edited?)", verifyBatch+300),
		},
		{
			name:   "delete the first event of the second batch",
			events: verifyBatch + 10,
			tamper: exec(`DELETE FROM audit_events WHERE id = ?`, verifyBatch+1),
			wantID: verifyBatch + 2,
			wantProblem: fmt.Sprintf("event %d follows %d: event %d is missing",
				verifyBatch+2, verifyBatch, verifyBatch+1),
		},
		{
			name:   "rehash the last event of the first batch",
			events: verifyBatch + 10,
			tamper: func(t *testing.T, db *store.DB) {
				rewrite(t, db, verifyBatch, func(e *store.AuditEvent) { e.Actor = "someone else" })
			},
			wantID: verifyBatch + 1,
			wantProblem: fmt.Sprintf("event %d: prev_hash does not match event %d (deleted or reordered?)",
				verifyBatch+1, verifyBatch),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := openDB(t, store.Options{Synchronous: "NORMAL"})
			l := New(db)
			n := c.events
			if n == 0 {
				n = 10
			}
			seed(t, db, l, n)
			wantOK(t, l, mustVerify(t, l), int64(n))

			c.tamper(t, db)
			res := mustVerify(t, l)
			if res.OK || res.BrokenID != c.wantID || !strings.HasPrefix(res.Problem, c.wantProblem) {
				t.Fatalf("Verify = %+v,\nwant broken at %d: %q", res, c.wantID, c.wantProblem)
			}
			// Everything before the break is intact, and the head is its last event.
			if res.HeadID >= res.BrokenID || res.Events != res.HeadID {
				t.Fatalf("Verify = %+v, want the intact prefix before event %d", res, res.BrokenID)
			}
		})
	}
}

// TestVerifyCannotSeeATruncatedTail documents the chain's limit: deleting the last
// events leaves a valid, shorter chain. Only a head anchored elsewhere shows it.
func TestVerifyCannotSeeATruncatedTail(t *testing.T) {
	db := openDB(t, store.Options{Synchronous: "NORMAL"})
	l := New(db)
	seed(t, db, l, 10)
	anchorID, anchorHash, err := l.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	exec(`DELETE FROM audit_events WHERE id > 8`)(t, db)
	res := mustVerify(t, l)
	wantOK(t, l, res, 8)
	if res.HeadID == anchorID || res.HeadHash == anchorHash {
		t.Fatalf("head %d/%s still equals the anchor %d/%s after truncation", res.HeadID, res.HeadHash, anchorID, anchorHash)
	}
}

func TestVerifyHonoursContext(t *testing.T) {
	db := openDB(t, store.Options{})
	l := New(db)
	seed(t, db, l, 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Verify(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with a cancelled context = %v, want context.Canceled", err)
	}
}

// exec returns a tamper step that runs one SQL statement on the writer.
func exec(sql string, args ...any) func(t *testing.T, db *store.DB) {
	return func(t *testing.T, db *store.DB) {
		t.Helper()
		if err := storetest.Gorm(t, db).Exec(sql, args...).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func load(t *testing.T, db *store.DB, id int64) store.AuditEvent {
	t.Helper()
	var e store.AuditEvent
	if err := storetest.Gorm(t, db).Where("id = ?", id).Take(&e).Error; err != nil {
		t.Fatal(err)
	}
	return e
}

func save(t *testing.T, db *store.DB, e *store.AuditEvent) {
	t.Helper()
	if err := storetest.Gorm(t, db).Save(e).Error; err != nil {
		t.Fatal(err)
	}
}

// rewrite edits event id the way a forger who knows the hash would: change it,
// then recompute its hash so that the event on its own looks intact.
func rewrite(t *testing.T, db *store.DB, id int64, change func(e *store.AuditEvent)) {
	t.Helper()
	e := load(t, db, id)
	change(&e)
	e.Hash = Hash(&e)
	save(t, db, &e)
}

// swap exchanges every column but the id of events a and b, rehashing each under
// its new id when rehash is set.
func swap(a, b int64, rehash bool) func(t *testing.T, db *store.DB) {
	return func(t *testing.T, db *store.DB) {
		ea, eb := load(t, db, a), load(t, db, b)
		ea.ID, eb.ID = b, a
		for _, e := range []*store.AuditEvent{&ea, &eb} {
			if rehash {
				e.Hash = Hash(e)
			}
			save(t, db, e)
		}
	}
}

// BenchmarkVerify walks a 100,000-event chain; events/s is the figure to quote.
func BenchmarkVerify(b *testing.B) {
	const n = 100_000
	db := openDB(b, store.Options{Synchronous: "NORMAL"})
	l := New(db)
	seed(b, db, l, n)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, err := l.Verify(ctx)
		if err != nil || !res.OK || res.Events != n {
			b.Fatalf("Verify = %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
