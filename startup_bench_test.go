package main

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchmarkStartToReady starts the built binary on a database that already
// holds a synced copy of a simulated Register of n products (a warm start:
// the file and the binary are in the page cache) and measures the time from
// exec to the first GET /readyz 200, polling every 2 ms. It reports the
// median, the fastest and the slowest start of the b.N starts.
//
//	go test . -run '^$' -bench StartToReady -benchtime 10x -count 3
func BenchmarkStartToReady(b *testing.B) {
	for _, n := range []int{2, 10_000} {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			e := newEcosystem(b, n-2)
			cfg := writeConfig(b, e)
			first := startServer(b, cfg, nil)
			first.waitLog(b, fmt.Sprintf(`msg="register sync" products=%d`, n), readyDeadline)
			first.stop(b)
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				times = append(times, timeToReady(b, cfg))
			}
			b.StopTimer()
			slices.Sort(times)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(times[len(times)/2]), "ms-median")
			b.ReportMetric(ms(times[0]), "ms-min")
			b.ReportMetric(ms(times[len(times)-1]), "ms-max")
		})
	}
}

// readyPoller asks once per connection, so a poll never waits on a
// keep-alive connection of an earlier process.
var readyPoller = &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// timeToReady starts the server, waits for /readyz 200 and stops it again.
func timeToReady(b *testing.B, cfg testConfig) time.Duration {
	start := time.Now()
	s := startServer(b, cfg, nil)
	for {
		if s.exited() {
			b.Fatalf("dcrconsole exited before it was ready:\n%s", s.Stderr.String())
		}
		resp, err := readyPoller.Get(cfg.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > readyDeadline {
			b.Fatalf("no /readyz 200 within %s", readyDeadline)
		}
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	s.stop(b)
	return elapsed
}
