package main

import (
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// withMetricsListen adds [metrics] listen = addr to the config file.
func withMetricsListen(t *testing.T, cfg testConfig, addr string) {
	t.Helper()
	f, err := os.OpenFile(cfg.Path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n[metrics]\nlisten = " + strconv.Quote(addr) + "\n"); err != nil {
		t.Fatal(err)
	}
}

// TestMetricsListener: the built server serves /metrics on metrics.listen and
// only there, counts a real registration, and closes the listener when it stops.
func TestMetricsListener(t *testing.T) {
	t.Parallel()
	e := newEcosystem(t, 0)
	cfg := writeConfig(t, e)
	addr := freeAddr(t)
	withMetricsListen(t, cfg, addr)
	s := startServer(t, cfg, nil)
	s.waitReady(t)
	s.waitLog(t, "metrics listening", readyDeadline)
	if r := s.register(t, e.request(t, e.products[0], cfg.URL)); r.status != http.StatusCreated {
		t.Fatalf("registration: %d %s", r.status, r.raw)
	}

	resp, err := httpClient.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	var created float64
	for _, m := range fams["dcrconsole_registrations_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "outcome" && l.GetValue() == "success" {
				created += m.GetCounter().GetValue()
			}
		}
	}
	if created != 1 {
		t.Errorf("dcrconsole_registrations_total{outcome=success} = %v after one registration", created)
	}
	if resp, err := httpClient.Get(s.URL + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the ADR-facing listener: %v %v", resp.Status, err)
	}

	if code := s.stop(t); code != 0 {
		t.Fatalf("graceful stop: exit code %d", code)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("the metrics listener is still open after the server stopped")
	}
}

// TestMetricsListenerInUseStopsTheStart: a metrics address that cannot be
// opened stops the server at start, naming the key.
func TestMetricsListenerInUseStopsTheStart(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := writeConfig(t, newEcosystem(t, 0))
	withMetricsListen(t, cfg, busy.Addr().String())
	s := startServer(t, cfg, nil)
	if code := s.wait(t); code == 0 || !strings.Contains(s.Stderr.String(), "metrics.listen") {
		t.Fatalf("exit code %d, output does not name metrics.listen:\n%s", code, s.Stderr.String())
	}
}
