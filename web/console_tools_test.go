package web

import (
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/store"
)

// inspectPost pastes jwt into the inspector and returns the response.
func inspectPost(h *harness, cookie, jwt string) response {
	return h.console(http.MethodPost, "/console/tools/inspect", cookie, url.Values{"jwt": {jwt}}.Encode())
}

func TestInspectValidRequestDryRunsWithoutRegistering(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)
	if body := dashboardGet(t, h, "/console/tools/inspect", cookie); !strings.Contains(body, `name="jwt"`) || !strings.Contains(body, "Nothing inspected yet") {
		t.Fatal("inspect form missing")
	}
	jwt := h.validRequest(t)
	r := inspectPost(h, cookie, jwt)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	body := string(r.body)
	for _, want := range []string{"Registration request", "Every step passed", "1. Registration request is a JWT",
		"11. Redirect URIs in the SSA", "13. Duplicate registration", "verified with Register key kid",
		"verified with ADR key kid", h.eco.Register.KeyID(), `&#34;software_statement&#34;`} {
		if !strings.Contains(body, want) {
			t.Errorf("lacks %q", want)
		}
	}
	if n := strings.Count(body, `<li class="pass">`); n != 13 {
		t.Errorf("%d steps passed, want 13", n)
	}
	ev := h.lastAudit(t)
	if ev.Type != "operator.inspect" || ev.Outcome != "success" || ev.Reason != "dry run: passed" || ev.Actor != "user:viewer-user" ||
		ev.SoftwareID != h.eco.Products[0].ID {
		t.Fatalf("audit: %+v", ev)
	}
	// Nothing was stored and the jti was not consumed: the same JWT registers.
	if n := h.countClients(t); n != 0 {
		t.Fatalf("%d clients after a dry run", n)
	}
	if r := h.register(jwt); r.status != http.StatusCreated {
		t.Fatalf("register after the dry run: %d %s", r.status, r.body)
	}
	// Now a second request for the product would be a duplicate (step 13).
	body = string(inspectPost(h, cookie, h.validRequest(t)).body)
	if !strings.Contains(body, "ERR-DCR-001: Duplicate registrations") || !strings.Contains(body, `<li class="fail"><strong>13. Duplicate registration`) {
		t.Error("duplicate not found by the dry run")
	}
}

func TestInspectRequestWithBadRedirectURI(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)
	jwt := h.requestFor(t, h.eco.ADRs[0], h.eco.Products[0], jwa.PS256, func(c map[string]any) {
		c["redirect_uris"] = []any{"https://evil.example/cb"}
	})
	body := string(inspectPost(h, cookie, jwt).body)
	desc := "ERR-DCR-003: The redirect_uri 'https://evil.example/cb' is not valid as it is not included in the software_statement"
	for _, want := range []string{
		html.EscapeString(desc), "invalid_redirect_uri", "rejected at step <strong>11. Redirect URIs in the SSA</strong>",
		`<li class="fail"><strong>11. Redirect URIs in the SSA`, `<li class="skip"><strong>13. Duplicate registration`,
		"is not in the SSA&#39;s redirect_uris", // the internal detail
	} {
		if !strings.Contains(body, want) {
			t.Errorf("lacks %q", want)
		}
	}
	if ev := h.lastAudit(t); ev.Type != "operator.inspect" || ev.Reason != "dry run: failed at step 11 (redirect_uris)" {
		t.Fatalf("audit: %+v", ev)
	}
	// The dry run did not spend the jti either: registering gets the real answer, not a replay.
	if r := h.register(jwt); r.status != http.StatusBadRequest || r.json["error"] != "invalid_redirect_uri" {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
}

func TestInspectSSA(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)
	ssa, err := h.eco.Register.SignSSA(h.eco.Products[1])
	if err != nil {
		t.Fatal(err)
	}
	body := string(inspectPost(h, cookie, ssa).body)
	for _, want := range []string{"Software statement (SSA)", "Every step passed",
		"verified with Register key kid &#34;" + h.eco.Register.KeyID() + "&#34;", "5. Software product, brand and legal entity are ACTIVE",
		"exp</dt>", "</time> (in "} {
		if !strings.Contains(body, want) {
			t.Errorf("lacks %q", want)
		}
	}
	if strings.Contains(body, "Request signature") {
		t.Error("an SSA has no request signature")
	}
	if ev := h.lastAudit(t); ev.Reason != "ssa check: passed" || ev.SoftwareID != h.eco.Products[1].ID {
		t.Fatalf("audit: %+v", ev)
	}
	// Signed by another key under the Register's kid: not verified.
	forged, err := h.eco.ADRs[0].SignWith(jwa.PS256, nil, h.eco.Register.KeyID(), h.eco.Register.SSAClaims(h.eco.Products[1]))
	if err != nil {
		t.Fatal(err)
	}
	body = string(inspectPost(h, cookie, forged).body)
	if !strings.Contains(body, "ERR-DCR-005: SSA validation failed.") || !strings.Contains(body, "not verified:") {
		t.Error("a forged SSA is not reported")
	}
}

func TestInspectGarbageAndHostileInput(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)
	r := inspectPost(h, cookie, "hello there")
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "This is not a JWT") {
		t.Fatalf("garbage: %d", r.status)
	}
	if ev := h.lastAudit(t); ev.Type != "operator.inspect" || ev.Reason != "not a JWT" {
		t.Fatalf("audit: %+v", ev)
	}
	if r := inspectPost(h, cookie, "  "); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Paste a JWT first") {
		t.Fatalf("empty: %d", r.status)
	}
	if r := inspectPost(h, cookie, strings.Repeat("a", 70<<10)); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized: %d", r.status)
	}

	// Whatever a pasted JWT carries is shown escaped.
	enc := base64.RawURLEncoding.EncodeToString
	hostile := enc([]byte(`{"alg":"none","kid":"<img src=x onerror=alert(1)>"}`)) + "." +
		enc([]byte(`{"iss":"<script>alert(1)</script>","exp":"soon"}`)) + "."
	body := string(inspectPost(h, cookie, hostile).body)
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
		t.Fatal("pasted content rendered unescaped")
	}
	for _, want := range []string{"Unrecognised JWT", "not checked", "not a valid NumericDate", "&lt;script&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("lacks %q", want)
		}
	}
}

func TestInspectToolsNeedSameSite(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)
	r := h.do(http.MethodPost, "/console/tools/inspect", "application/x-www-form-urlencoded", "jwt=x",
		map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "cross-site"})
	if r.status != http.StatusForbidden {
		t.Fatalf("cross-site inspect: %d", r.status)
	}
}
