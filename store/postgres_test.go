package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store/pgtest"
)

// replicas opens n handles on one fresh PostgreSQL database, as n replicas do.
func replicas(t *testing.T, n int) []*DB {
	t.Helper()
	url := pgtest.URL(t)
	out := make([]*DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() { // all at once: migrations must be safe when replicas start together
			defer wg.Done()
			out[i], errs[i] = Open(context.Background(), url, Options{MaxOpenConns: 8})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { out[i].Close() })
	}
	return out
}

// TestReplicasStartingTogetherMigrateOnce: each migration is applied once.
func TestReplicasStartingTogetherMigrateOnce(t *testing.T) {
	dbs := replicas(t, 4)
	var n, v int
	dbs[0].r.Raw(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Row().Scan(&n, &v)
	if n != len(migrations) || v != len(migrations) {
		t.Fatalf("schema_migrations: %d rows, %d versions; want %d", n, v, len(migrations))
	}
}

// TestDuplicateRuleAcrossReplicas: concurrent registrations of one software_id
// on several replicas, exactly one is active.
func TestDuplicateRuleAcrossReplicas(t *testing.T) {
	dbs := replicas(t, 3)
	const tries = 24
	var wg sync.WaitGroup
	results := make(chan error, tries)
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- dbs[i%len(dbs)].Tx(context.Background(), func(tx *Tx) error {
				return CreateClient(tx, testClient(fmt.Sprintf("c%d", i), "Same-Software"))
			})
		}()
	}
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrDuplicate):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d registrations succeeded, want exactly 1", ok)
	}
}

// TestJTISingleUseAcrossReplicas: one use wins, and the losers' transactions
// can still write (a replay is not an aborted transaction on PostgreSQL).
func TestJTISingleUseAcrossReplicas(t *testing.T) {
	dbs := replicas(t, 2)
	exp := time.Now().Add(time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	used, replays := 0, 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := dbs[i%2].Tx(context.Background(), func(tx *Tx) error {
				err := ConsumeJTI(tx, JTIClientAssertion, "one-jti", exp)
				if errors.Is(err, ErrReplay) {
					mu.Lock()
					replays++
					mu.Unlock()
					// The transaction goes on, as a refusal's audit record does.
					return ConsumeJTI(tx, JTIRegistrationRequest, fmt.Sprintf("other-%d", i), exp)
				}
				if err == nil {
					mu.Lock()
					used++
					mu.Unlock()
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if used != 1 || replays != 15 {
		t.Fatalf("used %d, replays %d", used, replays)
	}
}

// TestAuditAppendsSerialisedAcrossReplicas: concurrent appends on several
// replicas make one chain: consecutive ids, each linking to the one before.
func TestAuditAppendsSerialisedAcrossReplicas(t *testing.T) {
	dbs := replicas(t, 3)
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := dbs[i%3].Tx(context.Background(), func(tx *Tx) error {
				if err := ConsumeJTI(tx, JTIRegistrationRequest, fmt.Sprintf("j%d", i), time.Now().Add(time.Hour)); err != nil {
					return err
				}
				id, hash, ok, err := AuditHead(tx)
				if err != nil {
					return err
				}
				if !ok {
					hash = "genesis"
				}
				e := &AuditEvent{ID: id + 1, Time: time.Now().UTC(), Type: EventRegistrationCreate, Outcome: OutcomeSuccess,
					PrevHash: hash, Hash: fmt.Sprintf("h%d", id+1)}
				return AppendAuditEvent(tx, e)
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	events, err := dbs[0].AuditEventsAfter(context.Background(), 0, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 60 {
		t.Fatalf("%d events, want 60", len(events))
	}
	prev := "genesis"
	for i, e := range events {
		if e.ID != int64(i+1) || e.PrevHash != prev {
			t.Fatalf("event %d: id %d prev %q, want prev %q", i, e.ID, e.PrevHash, prev)
		}
		prev = e.Hash
	}
}

// TestClientRowIDIsStable: the processing API's numeric clientId exists on both backends.
func TestClientRowIDIsStable(t *testing.T) {
	for _, backend := range pgtest.Backends() {
		t.Run(backend, func(t *testing.T) {
			db := openBackend(t, backend)
			ctx := context.Background()
			for _, id := range []string{"a", "b"} {
				if err := db.Tx(ctx, func(tx *Tx) error { return CreateClient(tx, testClient(id, "sw-"+id)) }); err != nil {
					t.Fatal(err)
				}
			}
			a, err1 := db.ClientRowID(ctx, "a")
			b, err2 := db.ClientRowID(ctx, "b")
			if err1 != nil || err2 != nil || a <= 0 || b <= a {
				t.Fatalf("row ids %d %d (%v %v)", a, b, err1, err2)
			}
		})
	}
}

// TestLeaderIsOneReplicaAndFailsOver: one replica leads; when its session
// dies (as with kill -9), another takes over at its next campaign.
func TestLeaderIsOneReplicaAndFailsOver(t *testing.T) {
	dbs := replicas(t, 2)
	ctx := context.Background()
	a, b := dbs[0].NewLeader(), dbs[1].NewLeader()
	if !a.Campaign(ctx) || b.Campaign(ctx) {
		t.Fatalf("first campaigns: a %v b %v, want only a", a.IsLeader(), b.IsLeader())
	}
	if !a.Campaign(ctx) || b.Campaign(ctx) {
		t.Fatal("leadership moved without a failure")
	}
	// The leader's session ends abruptly.
	var n int
	if err := dbs[1].r.Raw(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND ((classid::bigint << 32) | objid::bigint) = ? AND granted`,
		int64(lockKeyLeader)).Row().Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminated %d sessions: %v", n, err)
	}
	// pg_terminate_backend signals; the session ends (and frees the lock) soon after.
	for deadline := time.Now().Add(10 * time.Second); !b.Campaign(ctx); {
		if time.Now().After(deadline) {
			t.Fatal("b did not take over")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if a.Campaign(ctx) {
		t.Fatal("a still leads after its session died")
	}
	b.Resign()
	if !a.Campaign(ctx) {
		t.Fatal("a did not take over after b resigned")
	}
}

// TestSQLiteAlwaysLeads: one process per SQLite file.
func TestSQLiteAlwaysLeads(t *testing.T) {
	l := openBackend(t, pgtest.SQLite).NewLeader()
	if !l.IsLeader() || !l.Campaign(context.Background()) {
		t.Fatal("SQLite does not lead")
	}
}
