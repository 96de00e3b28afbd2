// Package metrics is dcrconsole's Prometheus endpoint: a registry of its own
// (never the global default), the instruments fed as things happen (HTTP
// requests, outbound fetches, database commits) and a collector that reads the
// state of the other packages at scrape time (the registrar's and the token
// endpoint's tallies, the Register's health, the audit chain, the signing key,
// the writer's totals). Those packages know nothing of Prometheus: each exposes
// a small read function or a hook, which this package turns into metrics.
//
// Label values are closed sets: route templates (never raw paths), HTTP methods,
// status codes, outcomes, error codes and pipeline steps (dcr.BoundCode,
// dcr.BoundStep), fetch targets and results, Register statuses. No client id or
// software id is ever a label.
package metrics

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dcrconsole/dcrconsole/fetch"
	"github.com/dcrconsole/dcrconsole/store"
)

// namespace prefixes every metric of dcrconsole's own.
const namespace = "dcrconsole"

// Metrics is the registry and the instruments fed as things happen.
type Metrics struct {
	reg      *prometheus.Registry
	http     *prometheus.HistogramVec
	fetches  *prometheus.HistogramVec
	commits  prometheus.Histogram
	batches  prometheus.Histogram
	statuses [600]string // strconv of each HTTP status, so a request allocates no label
}

// New returns the registry with the Go runtime, process and build collectors
// and dcrconsole's instruments. Call Watch once the services exist.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	for i := range m.statuses {
		m.statuses[i] = strconv.Itoa(i)
	}
	m.http = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "http_request_duration_seconds",
		Help: "HTTP requests served by the ADR-facing listener, by route template, method and status: latency (its _count counts requests)."},
		[]string{"route", "method", "status"})
	m.fetches = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "outbound_fetch_duration_seconds",
		Help:    "Outbound requests by target (register, register_jwks, adr_jwks, sector_identifier) and result (ok, http_error, timeout, refused, too_large, error): latency (its _count counts fetches).",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}},
		[]string{"target", "result"})
	m.commits = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "db_commit_duration_seconds",
		Help:    "Commits of the database's single writer (one fsync each, for a batch of transactions): latency from begin to commit.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})
	m.batches = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "db_commit_batch_size",
		Help:    "Transactions per commit of the database's single writer (group commit).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 8)})
	m.reg.MustRegister(m.http, m.fetches, m.commits, m.batches,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector())
	return m
}

// Registry is the registry behind /metrics, for a package that adds collectors
// of its own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats. A collector
// that fails (a database read at scrape time) is logged and left out; the rest
// is served.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             30 * time.Second,
	})
}

// NewServer is the HTTP server of the metrics listener: GET /metrics and
// nothing else, with timeouts.
func (m *Metrics) NewServer(log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler(log))
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      45 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// ObserveHTTP records one request of the ADR-facing listener. route is the
// route template ("" for no route: "unmatched"); an unusual method is "OTHER".
func (m *Metrics) ObserveHTTP(route, method string, status int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	code := "other"
	if status > 0 && status < len(m.statuses) {
		code = m.statuses[status]
	}
	m.http.WithLabelValues(route, boundMethod(method), code).Observe(took.Seconds())
}

// boundMethod keeps the label to the methods HTTP defines.
func boundMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// FetchObserver is the observer of an outbound fetcher (fetch.Fetcher.Observed);
// nil when m is nil, so a server without metrics observes nothing.
func (m *Metrics) FetchObserver() fetch.Observer {
	if m == nil {
		return nil
	}
	return func(target, result string, took time.Duration) {
		m.fetches.WithLabelValues(target, result).Observe(took.Seconds())
	}
}

// CommitObserver is the observer of the database's writer
// (store.DB.ObserveCommits); nil when m is nil.
func (m *Metrics) CommitObserver() store.CommitObserver {
	if m == nil {
		return nil
	}
	return func(batch int, took time.Duration) {
		m.commits.Observe(took.Seconds())
		m.batches.Observe(float64(batch))
	}
}
