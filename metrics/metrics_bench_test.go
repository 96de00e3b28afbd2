package metrics

import (
	"testing"
	"time"
)

// BenchmarkObserveHTTP is what the metrics add to every request of the
// ADR-facing listener: one histogram observation under three labels.
//
//	go test ./metrics -run '^$' -bench . -count 5
func BenchmarkObserveHTTP(b *testing.B) {
	m := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveHTTP("/register", "POST", 201, 600*time.Microsecond)
		}
	})
}

// BenchmarkObserveCommit is what the metrics add to every commit of the writer.
func BenchmarkObserveCommit(b *testing.B) {
	observe := New().CommitObserver()
	b.ReportAllocs()
	for b.Loop() {
		observe(8, 2*time.Millisecond)
	}
}
