package web

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestWhileLeadingStartsAndStopsWithLeadership: the singleton jobs run while
// this replica leads, stop when it stops leading, run again when it leads
// again, and stop with the server; without a leader they just run.
func TestWhileLeadingStartsAndStopsWithLeadership(t *testing.T) {
	var leading, running, starts atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		whileLeading(ctx, func() bool { return leading.Load() == 1 }, time.Millisecond, func(ctx context.Context) {
			starts.Add(1)
			running.Add(1)
			<-ctx.Done()
			running.Add(-1)
		})
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting until %s (running=%d starts=%d)", what, running.Load(), starts.Load())
			}
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(20 * time.Millisecond)
	if starts.Load() != 0 {
		t.Fatalf("a follower started the jobs %d times", starts.Load())
	}
	leading.Store(1)
	waitFor("the leader runs the jobs", func() bool { return running.Load() == 1 })
	leading.Store(0)
	waitFor("the jobs stop with the leadership", func() bool { return running.Load() == 0 })
	leading.Store(1)
	waitFor("the jobs run again", func() bool { return starts.Load() == 2 && running.Load() == 1 })
	cancel()
	<-finished
	if running.Load() != 0 {
		t.Fatal("the jobs outlived the server")
	}

	ran := make(chan struct{})
	whileLeading(context.Background(), nil, time.Millisecond, func(context.Context) { close(ran) })
	<-ran
}
