package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

func serve(e *gin.Engine, method, path, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.RemoteAddr = "192.0.2.10:40000"
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// TestConsoleListenerOwnsTheConsole: with console.listen the console and its
// static files are served only by the console's engine; the main one answers
// 404 there and keeps every ADR-facing endpoint, which the console's lacks.
func TestConsoleListenerOwnsTheConsole(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Console.Listen = "127.0.0.1:0" })
	main, con := h.app.Engine, h.app.ConsoleEngine
	if con == nil || con == main {
		t.Fatal("no engine of its own for the console")
	}
	cases := []struct {
		name         string
		engine       *gin.Engine
		method, path string
		want         int
	}{
		{"main: no console login", main, http.MethodGet, "/console/login", http.StatusNotFound},
		{"main: no console pages", main, http.MethodGet, "/console/clients", http.StatusNotFound},
		{"main: no /console redirect", main, http.MethodGet, "/console", http.StatusNotFound},
		{"main: no static files", main, http.MethodGet, "/static/app.css", http.StatusNotFound},
		{"main: no SSO callback", main, http.MethodGet, "/console/sso/callback", http.StatusNotFound},
		{"main: health", main, http.MethodGet, "/healthz", http.StatusOK},
		{"main: discovery", main, http.MethodGet, "/.well-known/openid-configuration", http.StatusOK},
		{"main: jwks", main, http.MethodGet, "/jwks", http.StatusOK},
		{"console: login", con, http.MethodGet, "/console/login", http.StatusOK},
		{"console: pages need a session", con, http.MethodGet, "/console/clients", http.StatusSeeOther},
		{"console: static files", con, http.MethodGet, "/static/app.css", http.StatusOK},
		{"console: root leads to the console", con, http.MethodGet, "/", http.StatusSeeOther},
		{"console: health", con, http.MethodGet, "/healthz", http.StatusOK},
		{"console: no registration endpoint", con, http.MethodPost, "/register", http.StatusNotFound},
		{"console: no token endpoint", con, http.MethodPost, "/token", http.StatusNotFound},
		{"console: no discovery", con, http.MethodGet, "/.well-known/openid-configuration", http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := serve(tc.engine, tc.method, tc.path, "", ""); r.Code != tc.want {
				t.Fatalf("%s %s: %d, want %d", tc.method, tc.path, r.Code, tc.want)
			}
		})
	}
	// The ADR-facing API is unaffected: a registration on the main engine succeeds.
	if r := serve(main, http.MethodPost, "/register", "application/jwt", h.validRequest(t)); r.Code != http.StatusCreated {
		t.Fatalf("registration on the main listener: %d %s", r.Code, r.Body)
	}
	// Signing in works on the console's engine.
	if _, err := h.app.Auth.CreateUser(context.Background(), "test", "viewer-user", testPassword, store.RoleViewer, false, ""); err != nil {
		t.Fatal(err)
	}
	r := serve(con, http.MethodPost, "/console/login", "application/x-www-form-urlencoded",
		url.Values{"username": {"viewer-user"}, "password": {testPassword}}.Encode())
	if r.Code != http.StatusSeeOther || !strings.Contains(r.Header().Get("Set-Cookie"), "dcr_session=") {
		t.Fatalf("sign-in on the console listener: %d %v", r.Code, r.Header())
	}
}

// TestConsoleOnMainListenerByDefault: without console.listen nothing moves.
func TestConsoleOnMainListenerByDefault(t *testing.T) {
	h := newHarness(t)
	if h.app.ConsoleEngine != nil {
		t.Fatal("a console engine without console.listen")
	}
	if r := serve(h.app.Engine, http.MethodGet, "/console/login", "", ""); r.Code != http.StatusOK {
		t.Fatalf("console login on the main listener: %d", r.Code)
	}
}

// TestLocalLoginForAdminsOnly: allow_local_login = false leaves password
// sign-in to administrators (break-glass); others are told to use SSO, audited.
func TestLocalLoginForAdminsOnly(t *testing.T) {
	t.Setenv(ssoSecretEnv, ssoClientSecret)
	h := newHarness(t, func(c *config.Config) {
		c.Console.OIDC.Issuer, c.Console.OIDC.ClientID, c.Console.OIDC.ClientSecretEnv = "http://127.0.0.1:1", ssoClientID, ssoSecretEnv
		c.Console.OIDC.Roles = ssoRoles
		c.Console.OIDC.AllowLocalLogin = false
	})
	page := h.do(http.MethodGet, "/console/login", "", "", nil)
	if !strings.Contains(string(page.body), "Sign in with SSO") || !strings.Contains(string(page.body), "break-glass") {
		t.Fatalf("login page: %s", page.body)
	}
	for _, role := range []string{store.RoleViewer, store.RoleOperator, store.RoleAdmin} {
		if _, err := h.app.Auth.CreateUser(context.Background(), "test", role+"-user", testPassword, role, false, ""); err != nil {
			t.Fatal(err)
		}
		r := h.do(http.MethodPost, "/console/login", "application/x-www-form-urlencoded",
			url.Values{"username": {role + "-user"}, "password": {testPassword}}.Encode(), nil)
		want := http.StatusForbidden
		if role == store.RoleAdmin {
			want = http.StatusSeeOther
		}
		if r.status != want {
			t.Errorf("%s: %d, want %d", role, r.status, want)
		}
	}
	var n int64
	h.gormCount(t, &n, "type = ? AND outcome = ? AND reason LIKE ?", store.EventOperatorLogin, store.OutcomeRejected, "%administrators only%")
	if n != 2 {
		t.Errorf("%d refusals audited", n)
	}
}

// TestSSOCallbackWithoutFlowIsRefused: a callback this browser did not start
// (no flow cookie, or a forged one) is refused and audited, before any
// request to the IdP.
func TestSSOCallbackWithoutFlowIsRefused(t *testing.T) {
	t.Setenv(ssoSecretEnv, ssoClientSecret)
	h := newHarness(t, func(c *config.Config) {
		c.Console.OIDC.Issuer, c.Console.OIDC.ClientID, c.Console.OIDC.ClientSecretEnv = "http://127.0.0.1:1", ssoClientID, ssoSecretEnv
		c.Console.OIDC.Roles = ssoRoles
	})
	for name, cookie := range map[string]string{"no cookie": "", "forged cookie": "dcr_sso=eyJzIjoieCJ9.AAAA"} {
		t.Run(name, func(t *testing.T) {
			r := h.do(http.MethodGet, "/console/sso/callback?state=x&code=y", "", "", map[string]string{"Cookie": cookie})
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Sign-in expired") {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	var n int64
	h.gormCount(t, &n, "type = ? AND outcome = ? AND reason LIKE ?", store.EventOperatorSSOLogin, store.OutcomeRejected, "%state%")
	if n != 2 {
		t.Errorf("%d refusals audited", n)
	}
}

// gormCount counts audit events matching where.
func (h *harness) gormCount(t *testing.T, n *int64, where string, args ...any) {
	t.Helper()
	if err := storetest.Gorm(t, h.db).Table("audit_events").Where(where, args...).Count(n).Error; err != nil {
		t.Fatal(err)
	}
}
