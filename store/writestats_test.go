package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestWriteStatsCountCommitsAndFailures: every transaction is counted once;
// only a failure of the database (not a refusal of the caller, not a constraint)
// is a write failure; the observer hears of every commit with its batch size.
func TestWriteStatsCountCommitsAndFailures(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	var mu sync.Mutex
	var batched, commits int
	db.ObserveCommits(func(batch int, took time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		batched += batch
		commits++
		if batch < 1 || took < 0 {
			t.Errorf("observed batch %d took %s", batch, took)
		}
	})
	before := db.WriteStats()
	cases := []struct {
		name    string
		fn      func(tx *Tx) error
		failure bool
	}{
		{"committed", func(tx *Tx) error { return ConsumeJTI(tx, JTIRegistrationRequest, "a", time.Now().Add(time.Hour)) }, false},
		{"refused by the caller", func(tx *Tx) error { return errors.New("refused") }, false},
		{"constraint", func(tx *Tx) error { return ConsumeJTI(tx, JTIRegistrationRequest, "a", time.Now().Add(time.Hour)) }, false},
		{"database error", func(tx *Tx) error { return tx.g.Exec("INSERT INTO no_such_table VALUES (1)").Error }, true},
		{"panic", func(tx *Tx) error { panic("boom") }, true},
	}
	failures := 0
	for _, tc := range cases {
		_ = db.Tx(ctx, tc.fn)
		if tc.failure {
			failures++
		}
		got := db.WriteStats()
		if int(got.Failures-before.Failures) != failures {
			t.Fatalf("%s: %d failures counted, want %d", tc.name, got.Failures-before.Failures, failures)
		}
	}
	// The writer counts a commit once its members are answered: wait for the last.
	settled := func(commits uint64) WriteStats {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if s := db.WriteStats(); s.Commits >= commits {
				return s
			}
		}
		t.Fatalf("commits did not reach %d: %+v", commits, db.WriteStats())
		return WriteStats{}
	}
	got := settled(before.Commits + uint64(len(cases)))
	if got.Transactions-before.Transactions != uint64(len(cases)) || got.Commits-before.Commits != uint64(len(cases)) {
		t.Errorf("stats %+v after %d lone transactions (before %+v)", got, len(cases), before)
	}
	if got.LastFailure.IsZero() || got.LastFailureError == "" {
		t.Errorf("last failure not kept: %+v", got)
	}
	mu.Lock()
	if batched != len(cases) || commits != len(cases) {
		t.Errorf("observer heard %d commits of %d transactions, want %d", commits, batched, len(cases))
	}
	mu.Unlock()

	// Concurrent transactions share commits: the totals still add up.
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = db.Tx(ctx, func(tx *Tx) error {
				return ConsumeJTI(tx, JTIClientAssertion, fmt.Sprintf("c%d", i), time.Now().Add(time.Hour))
			})
		}()
	}
	wg.Wait()
	end := db.WriteStats()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		mu.Lock()
		done := batched == len(cases)+n
		mu.Unlock()
		if done {
			break
		}
	}
	end.Commits = db.WriteStats().Commits
	mu.Lock()
	defer mu.Unlock()
	if end.Transactions-got.Transactions != n || batched != len(cases)+n || end.Commits-got.Commits > n {
		t.Errorf("after %d concurrent transactions: %+v, observer %d transactions in %d commits", n, end, batched, commits)
	}
}
