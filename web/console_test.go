package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

func TestConsoleRequiresSignIn(t *testing.T) {
	h := newHarness(t)
	r := h.do(http.MethodGet, "/console/clients", "", "", nil)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/console/login?next=") {
		t.Fatalf("%d %v", r.status, r.header)
	}
	r = h.do(http.MethodGet, "/console/login", "", "", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `name="password"`) {
		t.Fatalf("login page %d", r.status)
	}
	for _, hdr := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
		if r.header.Get(hdr) == "" {
			t.Errorf("missing %s", hdr)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
}

func TestFirstAdminMustChangePassword(t *testing.T) {
	h := newHarness(t)
	password, err := h.app.Auth.EnsureAdmin(t.Context())
	if err != nil || password == "" {
		t.Fatalf("%q %v", password, err)
	}
	if again, _ := h.app.Auth.EnsureAdmin(t.Context()); again != "" {
		t.Fatal("a second admin password was made")
	}
	cookie := h.signIn(t, "admin", password)
	r := h.console(http.MethodGet, "/console/clients", cookie, "")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/account/password" {
		t.Fatalf("not forced to change: %d %v", r.status, r.header.Get("Location"))
	}
	form := url.Values{"current": {password}, "new": {"short"}, "confirm": {"short"}}.Encode()
	if r := h.console(http.MethodPost, "/console/account/password", cookie, form); r.status != 400 || !strings.Contains(string(r.body), "12 characters") {
		t.Fatalf("weak password accepted: %d", r.status)
	}
	form = url.Values{"current": {password}, "new": {"a much better password"}, "confirm": {"a much better password"}}.Encode()
	if r := h.console(http.MethodPost, "/console/account/password", cookie, form); r.status != 200 {
		t.Fatalf("change: %d %s", r.status, r.body)
	}
	// The old session ended with the change; the new password works.
	if r := h.console(http.MethodGet, "/console/", cookie, ""); r.status != http.StatusSeeOther {
		t.Fatalf("old session still valid: %d", r.status)
	}
	cookie = h.signIn(t, "admin", "a much better password")
	if r := h.console(http.MethodGet, "/console/account/password", cookie, ""); r.status != 200 {
		t.Fatalf("%d", r.status)
	}
}

func TestLoginThrottleAndAudit(t *testing.T) {
	h := newHarness(t)
	h.operator(t, store.RoleViewer)
	for i := 0; i < 5; i++ {
		r := h.do(http.MethodPost, "/console/login", "application/x-www-form-urlencoded", "username=viewer-user&password=wrong", nil)
		if r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, r.status)
		}
	}
	r := h.do(http.MethodPost, "/console/login", "application/x-www-form-urlencoded", "username=viewer-user&password="+url.QueryEscape(testPassword), nil)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("not throttled: %d", r.status)
	}
	var failed int64
	storetest.Gorm(t, h.db).Table("audit_events").Where("type = 'operator.login' AND outcome = 'rejected'").Count(&failed)
	if failed != 6 {
		t.Fatalf("%d failed logins audited", failed)
	}
}

func TestLogoutAndCrossSiteRefused(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleOperator)
	cross := h.do(http.MethodPost, "/console/logout", "application/x-www-form-urlencoded", "", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "cross-site"})
	if cross.status != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", cross.status)
	}
	cross = h.do(http.MethodPost, "/console/logout", "application/x-www-form-urlencoded", "", map[string]string{"Cookie": cookie, "Origin": "https://evil.example"})
	if cross.status != http.StatusForbidden {
		t.Fatalf("foreign Origin POST: %d", cross.status)
	}
	if r := h.console(http.MethodPost, "/console/logout", cookie, ""); r.status != http.StatusSeeOther {
		t.Fatalf("logout %d", r.status)
	}
	if r := h.console(http.MethodGet, "/console/", cookie, ""); r.status != http.StatusSeeOther {
		t.Fatalf("session survived logout: %d", r.status)
	}
}

func TestLogoutEverywhere(t *testing.T) {
	h := newHarness(t)
	first := h.operator(t, store.RoleViewer)
	second := h.signIn(t, "viewer-user", testPassword)
	if r := h.console(http.MethodPost, "/console/logout", first, "everywhere=1"); r.status != http.StatusSeeOther {
		t.Fatal(r.status)
	}
	if r := h.console(http.MethodGet, "/console/", second, ""); r.status != http.StatusSeeOther {
		t.Fatalf("other session survived: %d", r.status)
	}
}

func TestStaticFilesAreEmbedded(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/static/app.css", "/static/app.js", "/static/favicon.svg"} {
		r := h.do(http.MethodGet, p, "", "", nil)
		if r.status != 200 || len(r.body) == 0 || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	if r := h.do(http.MethodGet, "/static/../main.go", "", "", nil); r.status == 200 {
		t.Error("path traversal")
	}
}
