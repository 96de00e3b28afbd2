package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// request is one pre-built HTTP request of a phase.
type request struct {
	method, path, contentType, body, bearer string
	wantStatus                              int
}

// phase is one timed run of requests against the server.
type phase struct {
	name string
	// next returns the i-th request, or false when the phase has no more.
	next func(i int) (request, bool)
	// onOK, when set, sees the body of every answer with the wanted status.
	onOK func(i int, body []byte)
	// duration bounds the phase (0: until next is exhausted).
	duration time.Duration
}

// maxErrorBodies is how many error answers a phase keeps to print.
const maxErrorBodies = 3

// phaseResult is what one phase measured.
type phaseResult struct {
	name        string
	requests    int64 // answered with the wanted status or not, interrupted ones excluded
	errors      int64
	errorBodies []string
	elapsed     time.Duration
	latencies   []time.Duration
	serverCPU   time.Duration
	peakRSSKB   int64
	note        string
}

// runner sends the requests of a phase with a fixed number of workers.
type runner struct {
	client      *http.Client
	baseURL     string
	concurrency int
	urls        []string // baseURL and the other replicas
	turn        atomic.Uint64
}

// replicaURLs are the other replicas' addresses (-replicas): each runner
// spreads its requests round-robin over its base URL and these.
var replicaURLs []string

func newRunner(baseURL string, concurrency int) *runner {
	t := &http.Transport{MaxIdleConns: concurrency, MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency}
	t.MaxConnsPerHost = concurrency
	return &runner{client: &http.Client{Transport: t, Timeout: 60 * time.Second}, baseURL: baseURL, concurrency: concurrency,
		urls: append([]string{baseURL}, replicaURLs...)}
}

// run runs ph until its requests or its duration run out, or ctx ends.
// Requests cut off by ctx are not counted: their outcome is unknown.
func (r *runner) run(ctx context.Context, ph phase) phaseResult {
	res := phaseResult{name: ph.name}
	if ph.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ph.duration)
		defer cancel()
	}
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	began := time.Now()
	for range r.concurrency {
		wg.Go(func() {
			var lat []time.Duration
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				req, ok := ph.next(i)
				if !ok {
					break
				}
				t0 := time.Now()
				status, body, err := r.do(ctx, req)
				d := time.Since(t0)
				if err != nil && ctx.Err() != nil {
					break // cut off: neither success nor error
				}
				lat = append(lat, d)
				mu.Lock()
				res.record(req, status, body, err)
				mu.Unlock()
				if err == nil && status == req.wantStatus && ph.onOK != nil {
					ph.onOK(i, body)
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(began)
	return res
}

// record counts one answered request (called under the result's lock).
func (res *phaseResult) record(req request, status int, body []byte, err error) {
	res.requests++
	if err == nil && status == req.wantStatus {
		return
	}
	res.errors++
	if len(res.errorBodies) < maxErrorBodies {
		msg := fmt.Sprintf("%s %s: %d %s", req.method, req.path, status, strings.TrimSpace(string(body)))
		if err != nil {
			msg = fmt.Sprintf("%s %s: %v", req.method, req.path, err)
		}
		res.errorBodies = append(res.errorBodies, msg)
	}
}

// do sends one request and reads the whole answer.
func (r *runner) do(ctx context.Context, req request) (int, []byte, error) {
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	base := r.urls[r.turn.Add(1)%uint64(len(r.urls))]
	hr, err := http.NewRequestWithContext(ctx, req.method, base+req.path, body)
	if err != nil {
		return 0, nil, err
	}
	if req.contentType != "" {
		hr.Header.Set("Content-Type", req.contentType)
	}
	if req.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+req.bearer)
	}
	resp, err := r.client.Do(hr)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// percentile returns the p-th percentile (0..100) of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// print writes the phase's figures.
func (res phaseResult) print(w io.Writer) {
	slices.Sort(res.latencies)
	rate := float64(res.requests) / res.elapsed.Seconds()
	var cpuPerReq time.Duration
	if res.requests > 0 {
		cpuPerReq = res.serverCPU / time.Duration(res.requests)
	}
	fmt.Fprintf(w, "%-12s requests=%d req/s=%.0f p50=%s p95=%s p99=%s errors=%d server_cpu/req=%s peak_rss=%.1fMB elapsed=%s\n",
		res.name, res.requests, rate,
		roundLatency(percentile(res.latencies, 50)), roundLatency(percentile(res.latencies, 95)),
		roundLatency(percentile(res.latencies, 99)), res.errors, cpuPerReq.Round(time.Microsecond),
		float64(res.peakRSSKB)/1024, res.elapsed.Round(time.Millisecond))
	if res.note != "" {
		fmt.Fprintf(w, "             note: %s\n", res.note)
	}
	for _, b := range res.errorBodies {
		fmt.Fprintf(w, "             error: %.300s\n", b)
	}
}

func roundLatency(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(10 * time.Microsecond)
}
