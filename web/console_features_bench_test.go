package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// The console's search, per-ADR, history and Register pages on the seeded
// database (100,000 clients, 1,000,000 audit events; see console_bench_test.go):
//
//	go test ./web -run '^$' -bench 'BenchmarkConsole(Search|ADR|AttemptsPerADR|BulkConfirm|RegisterFiltered)' -benchtime 300x -timeout 60m

// measureAnswers is measurePages for pages that may answer 303 (a search
// that jumps to its single match) as well as 200.
func measureAnswers(b *testing.B, h *harness, cookie string, paths func(i int) string) {
	durations := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		r := h.console(http.MethodGet, paths(i), cookie, "")
		durations = append(durations, time.Since(start))
		if r.status != http.StatusOK && r.status != http.StatusSeeOther {
			b.Fatalf("%s: %d %.300s", paths(i), r.status, r.body)
		}
	}
	b.StopTimer()
	slices.Sort(durations)
	pct := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// seededSample is a few clients of the seeded database, picked at random.
func seededSample(b *testing.B, h *harness) []store.Client {
	var rows []store.Client
	storetest.Gorm(b, h.db).Raw("SELECT id, software_id, org_id, legal_entity_id FROM clients ORDER BY random() LIMIT 50").Scan(&rows)
	if len(rows) == 0 {
		b.Fatal("no seeded clients")
	}
	return rows
}

func BenchmarkConsoleSearch(b *testing.B) {
	h, cookie := benchHarness(b)
	sample := seededSample(b, h)
	var queries []string
	for _, c := range sample[:5] {
		queries = append(queries, c.ID[:8], c.ID, c.SoftwareID, c.OrgID, c.LegalEntityID[:7])
	}
	queries = append(queries, "Entity 42", "budget", "123456", "500000", "zz-nothing", "Brand 4999")
	measureAnswers(b, h, cookie, func(i int) string { return "/console/search?q=" + urlQuery(queries[i%len(queries)]) })
}

func BenchmarkConsoleADRPage(b *testing.B) {
	h, cookie := benchHarness(b)
	sample := seededSample(b, h)
	measureAnswers(b, h, cookie, func(i int) string {
		c := sample[i%len(sample)]
		if i%2 == 0 {
			return "/console/adr?kind=brand&id=" + urlQuery(c.OrgID)
		}
		return "/console/adr?kind=legal_entity&id=" + urlQuery(c.LegalEntityID)
	})
}

func BenchmarkConsoleAttemptsPerADR(b *testing.B) {
	h, cookie := benchHarness(b)
	sample := seededSample(b, h)
	measureAnswers(b, h, cookie, func(i int) string {
		c := sample[i%len(sample)]
		switch i % 3 {
		case 0:
			return "/console/attempts" // with today's failures grouped by product
		case 1:
			return "/console/attempts?brand=" + urlQuery(c.OrgID)
		default:
			return "/console/attempts?legal_entity=" + urlQuery(c.LegalEntityID)
		}
	})
}

func BenchmarkConsoleBulkConfirm(b *testing.B) {
	h, _ := benchHarness(b)
	name := fmt.Sprintf("bench-op-%d", time.Now().UnixNano())
	if _, err := h.app.Auth.CreateUser(context.Background(), "bench", name, testPassword, store.RoleOperator, false, ""); err != nil {
		b.Fatal(err)
	}
	cookie := h.signIn(b, name, testPassword)
	sample := seededSample(b, h)
	measureAnswers(b, h, cookie, func(i int) string {
		c := sample[i%len(sample)]
		if i%2 == 0 {
			return "/console/bulk?action=revoke&kind=legal_entity&id=" + urlQuery(c.LegalEntityID)
		}
		return "/console/bulk?action=block&kind=brand&id=" + urlQuery(c.OrgID)
	})
}

func BenchmarkConsoleRegisterFiltered(b *testing.B) {
	h, cookie := benchHarness(b)
	p := h.eco.Products[0]
	paths := []string{"/console/register?q=simulated", "/console/register?status=ACTIVE", "/console/register/products/" + p.ID}
	measureAnswers(b, h, cookie, func(i int) string { return paths[i%len(paths)] })
}

func urlQuery(s string) string { return url.QueryEscape(s) }
