package web

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/config"
)

// signRegistrations creates n software products at the simulated Register (one
// legal entity), and a signed registration request for each, using all cores.
func signRegistrations(b *testing.B, h *harness, n int) []string {
	b.Helper()
	adr := h.eco.ADRs[0]
	products := make([]*cdrsim.Product, n)
	for i := range products {
		products[i] = adr.NewProduct("", fmt.Sprintf("Bench product %d", i))
	}
	h.eco.Register.AddLegalEntity(adr.NewLegalEntity(append(products, h.eco.Products[0])...))
	if err := h.app.RegisterData.Sync(b.Context()); err != nil {
		b.Fatal(err)
	}
	bodies := make([]string, n)
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				bodies[i] = h.requestFor(b, adr, products[i], jwa.PS256, nil)
			}
		}()
	}
	wg.Wait()
	return bodies
}

// BenchmarkRegister is POST /register end to end: loopback HTTP, the real Gin
// engine, a real SQLite file with synchronous=FULL, warm JWKS caches and Register
// data, every request for a distinct software product, signed before the timer.
//
//	go test ./web -run '^$' -bench BenchmarkRegister -benchtime 4000x
func BenchmarkRegister(b *testing.B) { benchmarkRegister(b, false) }

// BenchmarkRegisterWithOps is BenchmarkRegister with the operations jobs
// running: the audit stream to a file (fsync per batch) and the alert evaluator
// every second, to measure what they cost the registrations.
func BenchmarkRegisterWithOps(b *testing.B) { benchmarkRegister(b, true) }

func benchmarkRegister(b *testing.B, ops bool) {
	h := newHarness(b, func(c *config.Config) {
		c.Outbound.MaxResponseBytes = 64 << 20
		if ops {
			c.Audit.Stream = "file:" + filepath.Join(b.TempDir(), "audit.jsonl")
			c.Alerts.EvaluateEvery = config.Duration{Duration: time.Second}
		}
	})
	if ops {
		if h.app.Stream == nil {
			b.Fatal("no stream")
		}
		h.app.RunOps(b.Context(), h.cfg, slog.New(slog.DiscardHandler))
	}
	bodies := signRegistrations(b, h, b.N)
	srv := httptest.NewServer(h.app.Engine)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	// Warm the JWKS caches and connections.
	warm := h.requestFor(b, h.eco.ADRs[0], h.eco.Products[0], jwa.PS256, nil)
	if status := post(b, client, srv.URL, warm); status != http.StatusCreated {
		b.Fatalf("warm-up registration: %d", status)
	}
	var next atomic.Int64
	var failures atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			if post(b, client, srv.URL, bodies[i]) != http.StatusCreated {
				failures.Add(1)
			}
		}
	})
	b.StopTimer()
	if f := failures.Load(); f > 0 {
		b.Fatalf("%d registrations failed", f)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "registrations/s")
}

func post(b *testing.B, c *http.Client, base, body string) int {
	resp, err := c.Post(base+"/register", "application/jwt", strings.NewReader(body))
	if err != nil {
		b.Error(err)
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
