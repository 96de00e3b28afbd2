package register

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/fetch"
)

// BenchmarkSyncHeap measures the heap a Data keeps once a simulated Register of
// n products is synced (heap-MB), and once a fresh Data has loaded the stored
// copy, as at a restart (load-heap-MB): runtime.MemStats.HeapInuse after two
// GCs, minus the same figure before the Data existed.
//
//	go test ./register -run '^$' -bench SyncHeap -benchtime 1x -count 3
func BenchmarkSyncHeap(b *testing.B) {
	for _, n := range []int{10_000, 30_000} {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			eco := newProductEcosystem(b, n)
			f, err := fetch.NewFetcher(fetch.Options{RootCAs: eco.CA.Pool(), AllowPrivateNetworks: true, Timeout: 30 * time.Second, MaxBytes: 256 << 20})
			if err != nil {
				b.Fatal(err)
			}
			db := openRegisterTestStore(b)
			opts := Options{BaseURI: eco.Register.BaseURI()}
			for range b.N {
				base := heapInuse()
				r := New(db, f, opts, nil)
				mustRegisterSync(b, r)
				synced := heapInuse() - base
				if got := len(r.Products()); got != n {
					b.Fatalf("%d products indexed, want %d", got, n)
				}
				runtime.KeepAlive(r)
				r = nil
				base = heapInuse()
				loaded := New(db, f, opts, nil)
				if err := loaded.Load(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(synced)/(1<<20), "heap-MB")
				b.ReportMetric(float64(heapInuse()-base)/(1<<20), "load-heap-MB")
				runtime.KeepAlive(loaded)
			}
		})
	}
}

// newProductEcosystem is a simulated Register publishing n products, spread
// over ten ADRs (each ADR is a TLS server; one per product would not scale).
func newProductEcosystem(b *testing.B, n int) *cdrsim.Ecosystem {
	b.Helper()
	const adrs = 10
	eco, err := cdrsim.NewEcosystem(nil, adrs)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(eco.Close)
	for i, adr := range eco.ADRs {
		owned := []*cdrsim.Product{eco.Products[i]}
		for j := 1; j < n/adrs; j++ {
			owned = append(owned, adr.NewProduct("", fmt.Sprintf("ADR %d app %d", i+1, j+1)))
		}
		eco.Register.AddLegalEntity(adr.NewLegalEntity(owned...))
	}
	return eco
}

func heapInuse() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
