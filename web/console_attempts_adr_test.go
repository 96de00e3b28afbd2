package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/store"
)

// attemptsRejectFor posts a registration of ADR i's product whose redirect_uri
// is not in its SSA (invalid_redirect_uri at step 11) and returns its event id.
func attemptsRejectFor(t *testing.T, h *harness, i int) string {
	t.Helper()
	jwt := h.requestFor(t, h.eco.ADRs[i], h.eco.Products[i], jwa.PS256, func(claims map[string]any) {
		claims["redirect_uris"] = []any{"https://evil.example/cb"}
	})
	if r := h.register(jwt); r.status != http.StatusBadRequest {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	return strconv.FormatInt(h.lastAudit(t).ID, 10)
}

// TestConsoleAttemptsPerADR: the brand and legal entity column and filters,
// and today's failures grouped by software product.
func TestConsoleAttemptsPerADR(t *testing.T) {
	h := newHarness(t)
	viewer := h.operator(t, store.RoleViewer)
	a0 := []string{attemptsRejectFor(t, h, 0), attemptsRejectFor(t, h, 0)}
	a1 := attemptsRejectFor(t, h, 1)
	adr0, adr1 := h.eco.ADRs[0], h.eco.ADRs[1]

	body := clientsGet(t, h, "/console/attempts", viewer)
	for _, want := range []string{adr0.Name(), adr0.LegalEntityName(), adr1.Name(),
		"Failures today", "2 failures today, all invalid_redirect_uri at Step 11"} {
		if !strings.Contains(body, want) {
			t.Errorf("attempts page lacks %q", want)
		}
	}
	cases := []struct {
		name, query string
		want        []string
	}{
		{"brand", "brand=" + url.QueryEscape(adr0.BrandID()), a0},
		{"legal entity", "legal_entity=" + url.QueryEscape(adr1.LegalEntityID()), []string{a1}},
		{"brand and its legal entity", "brand=" + url.QueryEscape(adr0.BrandID()) + "&legal_entity=" + url.QueryEscape(adr0.LegalEntityID()), a0},
		{"brand and another's legal entity", "brand=" + url.QueryEscape(adr0.BrandID()) + "&legal_entity=" + url.QueryEscape(adr1.LegalEntityID()), nil},
		{"unknown brand", "brand=no-such-brand", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := attemptsListed(clientsGet(t, h, "/console/attempts?"+tc.query, viewer))
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("listed %v, want %v", got, want)
			}
		})
	}
	if r := h.console(http.MethodGet, "/console/attempts?brand="+strings.Repeat("x", 300), viewer, ""); r.status != http.StatusBadRequest {
		t.Errorf("long brand: %d", r.status)
	}
}

// TestConsoleAttemptsCSV: the export keeps the filter, is audited, and defuses
// cells a spreadsheet would run as formulas.
func TestConsoleAttemptsCSV(t *testing.T) {
	h := newHarness(t)
	viewer := h.operator(t, store.RoleViewer)
	attemptsRejectFor(t, h, 0)
	attemptsRejectFor(t, h, 1)
	hostile := &store.AuditEvent{Type: store.EventRegistrationCreate, SoftwareID: "=HYPERLINK(\"https://evil.example\")"}
	hostile.Refused(store.OutcomeRejected, "invalid_client_metadata", "request", "+SUM(1,2)", "@cmd")
	if err := h.app.Audit.Record(context.Background(), hostile); err != nil {
		t.Fatal(err)
	}

	r := h.console(http.MethodGet, "/console/attempts.csv", viewer, "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", r.status, r.header)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][0] != "event_id" {
		t.Fatalf("rows %v", rows)
	}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("formula cell %q", cell)
			}
		}
	}
	if ev := h.lastAudit(t); ev.Type != store.EventOperatorExport || !strings.Contains(ev.Reason, "attempts.csv") {
		t.Errorf("export not audited: %+v", ev)
	}
	filtered := h.console(http.MethodGet, "/console/attempts.csv?brand="+url.QueryEscape(h.eco.ADRs[1].BrandID()), viewer, "")
	rows, _ = csv.NewReader(strings.NewReader(string(filtered.body))).ReadAll()
	if len(rows) != 2 || rows[1][6] != h.eco.ADRs[1].Name() || rows[1][8] != h.eco.ADRs[1].LegalEntityName() {
		t.Errorf("filtered export %v", rows)
	}
}
