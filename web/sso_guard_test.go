package web

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/console"
	"github.com/dcrconsole/dcrconsole/oidctest"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/pgtest"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// ssoHTTPSignIn signs username in through the console's single sign-on with a
// plain HTTP client (a cookie jar, redirects followed): the console's start,
// the IdP's sign-in form, the callback. It returns the console's session
// cookie ("" when none was set) and the last answer's status and body.
func ssoHTTPSignIn(t *testing.T, base string, idp *oidctest.Provider, username, password string) (string, int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Get(base + "/console/sso/start")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("id")
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("IdP sign-in page: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	resp, err = client.PostForm(idp.Issuer+"/login", url.Values{"id": {id}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		body.Write(buf[:n])
		if err != nil {
			break
		}
	}
	u, _ := url.Parse(base)
	for _, c := range jar.Cookies(u) {
		if c.Name == console.SessionCookie && c.Value != "" {
			return console.SessionCookie + "=" + c.Value, resp.StatusCode, body.String()
		}
	}
	return "", resp.StatusCode, body.String()
}

// TestSSOAccountIsRefusedMFAAndPasskeyRoutes: an account that signs in with
// single sign-on has its second factors at its IdP: every second-factor and
// passkey enrolment route of the console answers it 403 (the LocalAccountOnly
// guard), while a local account reaches them.
func TestSSOAccountIsRefusedMFAAndPasskeyRoutes(t *testing.T) {
	for _, backend := range pgtest.Backends() {
		t.Run(backend, func(t *testing.T) {
			h, base, idp := ssoHarness(t, withBackend(t, backend))
			idp.AddUser(oidctest.User{Subject: "00u-erin", Username: "erin", Password: "erin-pw", Groups: []string{"dcr-admins"}})
			sso, status, _ := ssoHTTPSignIn(t, base, idp, "erin", "erin-pw")
			if sso == "" || status != http.StatusOK {
				t.Fatalf("SSO sign-in: %d, cookie %q", status, sso)
			}
			if u := ssoUser(t, h, "erin"); !u.IsSSO() {
				t.Fatalf("erin is not an SSO account: %+v", u)
			}
			local := h.operator(t, "admin")
			routes := []struct{ method, path, form string }{
				{http.MethodGet, "/console/account/mfa", ""},
				{http.MethodGet, "/console/account/mfa/totp", ""},
				{http.MethodPost, "/console/account/mfa/totp", "code=123456"},
				{http.MethodPost, "/console/account/mfa/totp/remove", ""},
				{http.MethodPost, "/console/account/mfa/recovery", ""},
				{http.MethodPost, "/console/account/passkeys/begin", ""},
				{http.MethodPost, "/console/account/passkeys/finish", ""},
				{http.MethodPost, "/console/account/passkeys/remove", "id=x"},
			}
			for _, rt := range routes {
				t.Run(rt.method+" "+rt.path, func(t *testing.T) {
					r := h.console(rt.method, rt.path, sso, rt.form)
					if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "Not for single sign-on accounts") {
						t.Fatalf("SSO account: %d %.300s", r.status, r.body)
					}
					if r := h.console(rt.method, rt.path, local, rt.form); r.status == http.StatusForbidden {
						t.Fatalf("local account refused too: %d %.300s", r.status, r.body)
					}
				})
			}
			erin := ssoUser(t, h, "erin")
			for _, table := range []string{"user_totp", "recovery_codes", "passkeys", "webauthn_ceremonies"} {
				var n int64
				if err := storetest.Gorm(t, h.db).Table(table).Where("user_id = ?", erin.ID).Count(&n).Error; err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Fatalf("%d %s rows stored for the SSO account", n, table)
				}
			}
		})
	}
}

// TestSSOSubjectWithNULIsRefused: an ID token whose sub holds a NUL (which no
// text column of PostgreSQL can hold) is a refused sign-in, 403, audited, with
// no account provisioned, on both backends; never a 500.
func TestSSOSubjectWithNULIsRefused(t *testing.T) {
	for _, backend := range pgtest.Backends() {
		t.Run(backend, func(t *testing.T) {
			h, base, idp := ssoHarness(t, withBackend(t, backend))
			idp.AddUser(oidctest.User{Subject: "00u-nul", Username: "nul", Password: "nul-pw", Groups: []string{"dcr-viewers"}})
			idp.TamperIDTokens(func(c map[string]any) { c["sub"] = "00u-\x00nul" })
			cookie, status, body := ssoHTTPSignIn(t, base, idp, "nul", "nul-pw")
			if cookie != "" || status != http.StatusForbidden || !strings.Contains(body, "Single sign-on refused") {
				t.Fatalf("sign-in: %d, cookie %q: %.300s", status, cookie, body)
			}
			var n int64
			storetest.Gorm(t, h.db).Table("users").Where("idp_subject <> ''").Count(&n)
			if n != 0 {
				t.Fatalf("%d SSO accounts provisioned", n)
			}
			if countAudit(t, h, store.EventOperatorSSOLogin, store.OutcomeRejected, "NUL character") != 1 {
				t.Fatal("the refusal is not audited")
			}
		})
	}
}
