package web

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
)

// dashboardGet fetches a console page that must answer 200 and returns its body.
func dashboardGet(t *testing.T, h *harness, path, cookie string) string {
	t.Helper()
	r := h.console(http.MethodGet, path, cookie, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	if strings.Contains(string(r.body), " style=") {
		t.Errorf("GET %s: inline style attribute (the CSP forbids them)", path)
	}
	return string(r.body)
}

func TestDashboardShowsClientsChartReasonsAndHealth(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)

	// Empty: every section says so, and the chart still draws its axes.
	body := dashboardGet(t, h, "/console/", cookie)
	for _, want := range []string{"No client has registered yet", "No rejected registration", "<svg", `role="img"`, "Verify now"} {
		if !strings.Contains(body, want) {
			t.Errorf("empty dashboard lacks %q", want)
		}
	}

	if r := h.register(h.validRequest(t)); r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	adr, p := h.eco.ADRs[1], h.eco.Products[1]
	for i := 0; i < 2; i++ { // two requests: a rejected request's jti is spent
		bad := h.requestFor(t, adr, p, jwa.PS256, func(c map[string]any) { c["redirect_uris"] = []any{"https://evil.example/cb"} })
		if r := h.register(bad); r.status != http.StatusBadRequest {
			t.Fatalf("bad redirect: %d", r.status)
		}
	}
	if r := h.register("not a jwt"); r.status != http.StatusBadRequest {
		t.Fatalf("garbage: %d", r.status)
	}

	body = dashboardGet(t, h, "/console/", cookie)
	today := time.Now().UTC().Format(time.DateOnly)
	for _, want := range []string{
		`<rect class="bar-ok"`, "<title>" + today + ": 1 registered</title>",
		`<rect class="bar-bad"`, "<title>" + today + ": 3 rejected</title>",
		`aria-label="Registration attempts per day over 30 days: 1 succeeded, 3 rejected`,
		`class="legend"`, `class="sw sw-ok"`,
		// the most frequent reason first, its public description only
		"invalid_redirect_uri", html.EscapeString("ERR-DCR-003: The redirect_uri 'https://evil.example/cb' is not valid"),
		"ERR-DCR-002: Registration request is empty",
		// recent failures link to the attempt
		`href="/console/attempts/`,
		// Register health: synced at start
		"Register sync", `<span class="badge badge-ok">ok</span>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if strings.Contains(body, "is not in the SSA&#39;s redirect_uris") {
		t.Error("the internal detail of a rejection is on the dashboard")
	}
	// Clients by status: one active.
	if !regexp.MustCompile(`badge-ok">active</span></dt><dd class="num"><a href="/console/clients\?status=active">1</a>`).MatchString(body) {
		t.Error("no active client count")
	}
	// The redirect reason (2) ranks above the empty body (1).
	if strings.Index(body, "invalid_redirect_uri") > strings.Index(body, "ERR-DCR-002") {
		t.Error("reasons are not ordered by count")
	}
	// The audit head is the newest event.
	head := h.lastAudit(t)
	if !strings.Contains(body, head.Hash) {
		t.Error("audit head hash missing")
	}
}

func TestDashboardRegisterNeverSyncedIsStale(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Register.CheckStatus = false }) // the harness syncs only with status checks on
	cookie := h.operator(t, store.RoleViewer)
	body := dashboardGet(t, h, "/console/", cookie)
	if !strings.Contains(body, `<span class="badge badge-warn">stale</span>`) || !strings.Contains(body, "never") {
		t.Fatal("a Register never synced is not shown as stale")
	}
}
