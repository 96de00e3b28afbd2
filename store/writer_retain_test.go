package store

import (
	"context"
	"runtime"
	"testing"
	"weak"
)

// TestIdleWriterKeepsNothing: once a transaction has returned, the writer holds
// nothing its function referenced (the Register sync writes megabytes; an idle
// writer must not keep the last batch alive until the next write).
func TestIdleWriterKeepsNothing(t *testing.T) {
	db := openTest(t)
	for _, n := range []int{1, 3} {
		ptrs := txsHolding(t, db, n)
		runtime.GC()
		runtime.GC()
		for i, p := range ptrs {
			if p.Value() != nil {
				t.Fatalf("batch of %d: transaction %d's data is still reachable after it returned", n, i+1)
			}
		}
	}
}

// txsHolding runs n concurrent transactions, each referencing its own buffer,
// and returns weak pointers to the buffers, which nothing else holds.
func txsHolding(t *testing.T, db *DB, n int) []weak.Pointer[[1 << 20]byte] {
	t.Helper()
	ptrs := make([]weak.Pointer[[1 << 20]byte], n)
	errs := make(chan error, n)
	for i := range n {
		buf := new([1 << 20]byte)
		ptrs[i] = weak.Make(buf)
		go func() {
			errs <- db.Tx(context.Background(), func(*Tx) error { buf[0]++; return nil })
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	return ptrs
}
