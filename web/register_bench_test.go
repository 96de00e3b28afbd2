package web

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
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

// registerBenchVariants are the configurations BenchmarkRegister compares: the
// server as it is by default, and with each optional cost on the request path
// turned on. An optional feature that adds work per registration adds its row,
// so its overhead is measured against "plain" in the same run.
var registerBenchVariants = []struct {
	name string
	opts []harnessOption
}{
	{"plain", nil},
	{"metrics", []harnessOption{withMetrics}},
	{"stream", []harnessOption{withStream}},
	{"metrics+stream", []harnessOption{withMetrics, withStream}}, // the "metrics and stream enabled"
}

// withStream turns the operations jobs on: the audit stream to a file (fsync
// per batch) and the alert evaluator every second (issue 12 items 2-4).
func withStream(c *config.Config) {
	c.Audit.Stream = "file:" + filepath.Join(os.TempDir(), fmt.Sprintf("dcr-bench-stream-%d.jsonl", time.Now().UnixNano()))
	c.Alerts.EvaluateEvery = config.Duration{Duration: time.Second}
}

// BenchmarkRegister is POST /register end to end: loopback HTTP, the real Gin
// engine, a real SQLite file with synchronous=FULL, warm JWKS caches and Register
// data, every request for a distinct software product, signed before the timer;
// once per variant of registerBenchVariants:
//
//	go test ./web -run '^$' -bench 'BenchmarkRegister$' -benchtime 4000x
//	go test ./web -run '^$' -bench 'BenchmarkRegister$/plain' -benchtime 4000x
func BenchmarkRegister(b *testing.B) {
	for _, v := range registerBenchVariants {
		b.Run(v.name, func(b *testing.B) { benchmarkRegister(b, v.opts...) })
	}
}

func benchmarkRegister(b *testing.B, opts ...harnessOption) {
	h := newHarness(b, append([]harnessOption{func(c *config.Config) { c.Outbound.MaxResponseBytes = 64 << 20 }}, opts...)...)
	if h.app.Metrics != nil {
		// Scraped every second while it runs (Prometheus scrapes every 15 s or
		// so), so the scrapes' cost is in the figures too.
		stop := scrapeEvery(b, serveMetrics(b, h), time.Second)
		defer stop()
	}
	if h.app.Stream != nil {
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
	cpuBefore, cpuOK := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			if post(b, client, srv.URL, bodies[i]) != http.StatusCreated {
				failures.Add(1)
			}
		}
	})
	b.StopTimer()
	if cpuAfter, ok := processCPU(); ok && cpuOK {
		// CPU per registration holds still on a busy machine, where the wall clock does not.
		b.ReportMetric(float64((cpuAfter-cpuBefore).Microseconds())/float64(b.N), "cpu-µs/op")
	}
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

// scrapeEvery scrapes metricsURL every interval until stop is called.
func scrapeEvery(b *testing.B, metricsURL string, interval time.Duration) (stop func()) {
	scrape(b, metricsURL)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if resp, err := http.Get(metricsURL); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
