package web

import (
	"html"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/store"
)

// TestConsoleReplayAttempt: a stored attempt replayed as at its time shows
// every failing step, not only the first, says what it judged with, and is
// audited; an attempt without a kept request cannot be replayed.
func TestConsoleReplayAttempt(t *testing.T) {
	h := newHarness(t)
	viewer := h.operator(t, store.RoleViewer)
	jwt := h.requestFor(t, h.eco.ADRs[0], h.eco.Products[0], jwa.PS256, func(c map[string]any) {
		c["aud"] = "https://elsewhere.example"
		c["token_endpoint_auth_method"] = "client_secret_basic"
		c["redirect_uris"] = []any{"https://evil.example/cb"}
	})
	if r := h.register(jwt); r.status != http.StatusBadRequest {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	attempt := h.lastAudit(t)
	if attempt.Step != "request_signature" {
		t.Fatalf("the attempt failed at %s, want only its first failure (step 8)", attempt.Step)
	}
	id := strconv.FormatInt(attempt.ID, 10)
	if page := clientsGet(t, h, "/console/attempts/"+id, viewer); !strings.Contains(page, `action="/console/attempts/`+id+`/replay"`) {
		t.Fatal("no replay form on the attempt page")
	}
	r := h.console(http.MethodPost, "/console/attempts/"+id+"/replay", viewer, "")
	if r.status != http.StatusOK {
		t.Fatalf("replay: %d %.300s", r.status, r.body)
	}
	body := html.UnescapeString(string(r.body))
	for _, want := range []string{"Replay of attempt " + id, "It fails at 3 steps", "8. Request is signed by the ADR",
		"10. Client metadata rules", "11. Redirect URIs in the SSA", "token_endpoint_auth_method", "evil.example",
		"Clock: the attempt's time", "the copy cached here", "a replay never fetches"} {
		if !strings.Contains(body, want) {
			t.Errorf("replay page lacks %q", want)
		}
	}
	if ev := h.lastAudit(t); ev.Type != store.EventOperatorInspect || !strings.Contains(ev.Reason, "replay of attempt "+id) ||
		!strings.Contains(ev.Reason, "request_signature, metadata, redirect_uris") {
		t.Errorf("replay audit %+v", ev)
	}

	if r := h.register("not a jwt"); r.status != http.StatusBadRequest {
		t.Fatalf("garbage: %d", r.status)
	}
	garbage := strconv.FormatInt(h.lastAudit(t).ID, 10)
	cases := []struct {
		name, id string
		status   int
	}{
		{"no request kept", garbage, http.StatusUnprocessableEntity},
		{"not an attempt", "1", http.StatusNotFound},
		{"no such event", "999999", http.StatusNotFound},
		{"not a number", "x", http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := h.console(http.MethodPost, "/console/attempts/"+tc.id+"/replay", viewer, ""); r.status != tc.status {
				t.Errorf("%d, want %d", r.status, tc.status)
			}
		})
	}
}
