package web

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dcrconsole/dcrconsole/config"
)

// withMetrics turns the metrics on (the harness serves them with serveMetrics).
func withMetrics(c *config.Config) { c.Metrics.Listen = "127.0.0.1:0" }

// serveMetrics serves the app's metrics on a real listener of their own, as
// main does, and returns the scrape URL.
func serveMetrics(t testing.TB, h *harness) string {
	t.Helper()
	if h.app.Metrics == nil {
		t.Fatal("metrics are off")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := h.app.Metrics.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String() + "/metrics"
}

// families is one scrape, parsed by the Prometheus text parser.
type families map[string]*dto.MetricFamily

func scrape(t testing.TB, metricsURL string) families {
	t.Helper()
	resp, err := http.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape does not parse: %v", err)
	}
	return fams
}

// value sums the samples of name whose labels include want: a counter's or a
// gauge's value, a histogram's count.
func (f families) value(name string, want map[string]string) (sum float64, found bool) {
	fam, ok := f[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range fam.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum, found
}

func labels(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// TestMetricsMoveWithRealTraffic drives registrations, refusals, tokens and
// management calls through the real engine and reads their counts back from a
// scrape of the metrics listener.
func TestMetricsMoveWithRealTraffic(t *testing.T) {
	h := newHarness(t, withMetrics)
	metricsURL := serveMetrics(t, h)
	before := scrape(t, metricsURL)

	id := driveTraffic(t, h)
	after := scrape(t, metricsURL)

	counters := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"dcrconsole_registrations_total", labels("outcome", "success"), 1},
		{"dcrconsole_registrations_total", labels("outcome", "rejected", "code", "invalid_request", "step", "transport"), 1},
		{"dcrconsole_registrations_total", labels("outcome", "rejected", "code", "invalid_client_metadata", "step", "request"), 1},
		{"dcrconsole_registrations_total", labels("outcome", "rejected", "code", "invalid_software_statement", "step", "software_statement"), 1},
		{"dcrconsole_registrations_total", labels("outcome", "rejected", "step", "duplicate"), 1},
		{"dcrconsole_registrations_total", labels("outcome", "rejected"), 4},
		{"dcrconsole_tokens_total", labels("outcome", "success"), 1},
		{"dcrconsole_tokens_total", labels("outcome", "rejected", "code", "invalid_client"), 1},
		{"dcrconsole_tokens_total", labels("outcome", "rejected"), 2},
		{"dcrconsole_management_calls_total", labels("operation", "read", "outcome", "success"), 1},
		{"dcrconsole_management_calls_total", labels("operation", "read", "outcome", "rejected", "code", "invalid_token"), 1},
		{"dcrconsole_management_calls_total", labels("operation", "update", "outcome", "rejected"), 1},
		{"dcrconsole_management_calls_total", labels("operation", "delete", "outcome", "success"), 1},
		{"dcrconsole_http_request_duration_seconds", labels("route", "/register", "method", "POST", "status", "201"), 1},
		{"dcrconsole_http_request_duration_seconds", labels("route", "/register", "method", "POST", "status", "415"), 1},
		{"dcrconsole_http_request_duration_seconds", labels("route", "/register/:clientID", "method", "GET", "status", "200"), 1},
		{"dcrconsole_http_request_duration_seconds", labels("route", "/register/:clientID", "method", "DELETE", "status", "204"), 1},
		{"dcrconsole_http_request_duration_seconds", labels("route", "/token", "method", "POST", "status", "200"), 1},
	}
	for _, c := range counters {
		was, _ := before.value(c.name, c.labels)
		now, found := after.value(c.name, c.labels)
		if !found || now-was != c.want {
			t.Errorf("%s%v moved by %v (found %v), want %v", c.name, c.labels, now-was, found, c.want)
		}
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"dcrconsole_outbound_fetch_duration_seconds", labels("target", "adr_jwks", "result", "ok")},
		{"dcrconsole_outbound_fetch_duration_seconds", labels("target", "register", "result", "ok")},
		{"dcrconsole_outbound_fetch_duration_seconds", labels("target", "register_jwks", "result", "ok")},
		{"dcrconsole_db_commit_duration_seconds", nil},
		{"dcrconsole_db_commit_batch_size", nil},
		{"dcrconsole_db_transactions_total", nil},
	} {
		if n, _ := after.value(c.name, c.labels); n < 1 {
			t.Errorf("%s%v is %v, want at least 1", c.name, c.labels, n)
		}
	}
	assertNoClientLabels(t, after, id, h.eco.Products[0].ID)
}

// driveTraffic makes one registration (201), four refused ones, an issued and
// two refused tokens, and a read, a refused read, a refused update and a delete
// of the registration, whose client_id it returns.
func driveTraffic(t *testing.T, h *harness) string {
	t.Helper()
	id := h.registered(t)                                                                     // 201
	h.do(http.MethodPost, "/register", "text/plain", h.validRequest(t), nil)                  // 415: transport
	h.register("hello")                                                                       // step 1
	h.register(edited(func(c map[string]any) { delete(c, "software_statement") })(t, h))      // step 2
	h.register(h.requestFor(t, h.eco.ADRs[0], h.eco.Products[0], jwa.PS256, nil))             // duplicate
	tok := h.accessToken(t, id)                                                               // token issued
	h.token(tokenForm(assertionFor(t, h.eco.ADRs[0], "no-such-client", jwa.ES256, nil), nil)) // token refused
	h.do(http.MethodPost, "/token", "application/json", "{}", nil)                            // token refused (transport)
	h.do(http.MethodGet, "/register/"+id, "", "", bearer(tok))                                // read
	h.do(http.MethodGet, "/register/"+id, "", "", bearer("not-a-token"))                      // read refused
	h.do(http.MethodPut, "/register/"+id, "text/plain", "x", bearer(tok))                     // update refused
	if r := h.do(http.MethodDelete, "/register/"+id, "", "", bearer(tok)); r.status != 204 {  // delete
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	return id
}

// assertNoClientLabels: no label value carries a client id, a software id or a
// raw path, and every error code and step is of the closed sets.
func assertNoClientLabels(t *testing.T, f families, clientID, softwareID string) {
	t.Helper()
	for name, fam := range f {
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				v := l.GetValue()
				if strings.Contains(v, clientID) || strings.Contains(strings.ToLower(v), strings.ToLower(softwareID)) {
					t.Errorf("%s has label %s=%q: a client or software id", name, l.GetName(), v)
				}
				if (l.GetName() == "code" || l.GetName() == "step" || l.GetName() == "status") && v == "other" {
					t.Errorf("%s has label %s=other: a value outside the closed set", name, l.GetName())
				}
			}
		}
	}
}

// TestMetricsGaugesAreSane: the state read at scrape time is there and
// plausible: a Register synced just now with its products, a fresh signing key,
// the audit chain's head, the runtime and process collectors.
func TestMetricsGaugesAreSane(t *testing.T) {
	h := newHarness(t, withMetrics)
	h.registered(t)
	f := scrape(t, serveMetrics(t, h))
	within := func(name string, lo, hi float64, want map[string]string) {
		t.Helper()
		v, found := f.value(name, want)
		if !found || v < lo || v > hi {
			t.Errorf("%s%v = %v (found %v), want %v..%v", name, want, v, found, lo, hi)
		}
	}
	within("dcrconsole_register_sync_age_seconds", 0, 120, nil)
	within("dcrconsole_register_sync_consecutive_failures", 0, 0, nil)
	within("dcrconsole_register_last_success_timestamp_seconds", 1e9, 1e10, nil)
	within("dcrconsole_register_products", float64(len(h.eco.Products)), float64(len(h.eco.Products)), labels("status", "ACTIVE"))
	within("dcrconsole_signing_key_age_seconds", 0, 120, nil)
	within("dcrconsole_audit_chain_head_id", 1, 1e6, nil)
	within("dcrconsole_db_write_failures_total", 0, 0, nil)
	within("go_goroutines", 1, 1e6, nil)
	within("process_resident_memory_bytes", 1, 1e12, nil)
	if _, found := f.value("dcrconsole_audit_last_verification_ok", nil); found {
		t.Error("a verification result before any verification ran")
	}
}

// TestMetricsOff: without metrics.listen nothing is collected and the
// ADR-facing listener serves no /metrics.
func TestMetricsOff(t *testing.T) {
	h := newHarness(t)
	if h.app.Metrics != nil {
		t.Fatal("metrics built without metrics.listen")
	}
	if r := h.do(http.MethodGet, "/metrics", "", "", nil); r.status != http.StatusNotFound {
		t.Errorf("GET /metrics on the ADR-facing listener: %d", r.status)
	}
	h = newHarness(t, withMetrics)
	if r := h.do(http.MethodGet, "/metrics", "", "", nil); r.status != http.StatusNotFound {
		t.Errorf("GET /metrics on the ADR-facing listener with metrics on: %d", r.status)
	}
	if _, err := url.Parse(serveMetrics(t, h)); err != nil {
		t.Fatal(err)
	}
}

// TestMetricsRegisterSyncFailing: a Register that stops answering shows as
// failed syncs in a row, failed fetches of the Register, and data that keeps
// ageing; a sync that succeeds again resets the failures.
func TestMetricsRegisterSyncFailing(t *testing.T) {
	h := newHarness(t, withMetrics)
	metricsURL := serveMetrics(t, h)
	h.eco.Register.SetDown(true)
	for range 2 {
		if err := h.app.RegisterData.Sync(t.Context()); err == nil {
			t.Fatal("a sync against a Register that is down succeeded")
		}
	}
	f := scrape(t, metricsURL)
	if n, _ := f.value("dcrconsole_register_sync_consecutive_failures", nil); n != 2 {
		t.Errorf("consecutive failures %v after two failed syncs", n)
	}
	failed := 0.0
	for _, fam := range f["dcrconsole_outbound_fetch_duration_seconds"].GetMetric() {
		target, result := "", ""
		for _, l := range fam.GetLabel() {
			switch l.GetName() {
			case "target":
				target = l.GetValue()
			case "result":
				result = l.GetValue()
			}
		}
		if target == "register" && result != "ok" {
			failed += float64(fam.GetHistogram().GetSampleCount())
		}
	}
	if failed < 2 {
		t.Errorf("%v failed Register fetches counted after two failed syncs", failed)
	}
	if age, _ := f.value("dcrconsole_register_sync_age_seconds", nil); age < 0 {
		t.Errorf("sync age %v", age)
	}

	h.eco.Register.SetDown(false)
	if err := h.app.RegisterData.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n, _ := scrape(t, metricsURL).value("dcrconsole_register_sync_consecutive_failures", nil); n != 0 {
		t.Errorf("consecutive failures %v after a successful sync", n)
	}
}
