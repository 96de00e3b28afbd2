package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/console"
	"github.com/dcrconsole/dcrconsole/store"
)

var otpPattern = regexp.MustCompile(`<code class="otp-value"[^>]*>([^<]+)</code>`)

// issuedPassword is the one-time password shown on a users page response.
func issuedPassword(t *testing.T, r response) string {
	t.Helper()
	m := otpPattern.FindSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		t.Fatalf("no one-time password shown: %d %s", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("one-time password page may be cached: %q", r.header.Get("Cache-Control"))
	}
	password := string(m[1])
	for k, vs := range r.header {
		if strings.Contains(strings.Join(vs, " "), password) {
			t.Fatalf("one-time password in header %s", k)
		}
	}
	return password
}

func userPathOf(t *testing.T, h *harness, name, suffix string) string {
	t.Helper()
	u, err := h.db.UserByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return "/console/users/" + strconv.FormatInt(u.ID, 10) + suffix
}

func userNamed(t *testing.T, h *harness, name string) *store.User {
	t.Helper()
	u, err := h.db.UserByName(t.Context(), name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return u
}

// signedIn reports whether a session cookie still opens a console page.
func signedIn(h *harness, cookie string) bool {
	return h.console(http.MethodGet, "/console/account", cookie, "").status == http.StatusOK
}

func TestUsersAdminCreatesAccount(t *testing.T) {
	h := newHarness(t)
	admin := h.operator(t, store.RoleAdmin)
	r := h.console(http.MethodGet, "/console/users", admin, "")
	if r.status != 200 || !strings.Contains(string(r.body), "admin-user") || !strings.Contains(string(r.body), "(you)") {
		t.Fatalf("list: %d %s", r.status, r.body)
	}

	r = h.console(http.MethodPost, "/console/users", admin, "username=alice&role=operator")
	password := issuedPassword(t, r)
	if !strings.Contains(string(r.body), "shown only this once") {
		t.Fatal("the page does not say the password is shown once")
	}
	if ev := h.lastAudit(t); ev.Type != "operator.user.create" || ev.Actor != "user:admin-user" || strings.Contains(ev.Reason, password) {
		t.Fatalf("audit %+v", ev)
	}
	if u := userNamed(t, h, "alice"); u.Role != store.RoleOperator || !u.MustChangePassword {
		t.Fatalf("stored %+v", u)
	}
	list := h.console(http.MethodGet, "/console/users", admin, "")
	if strings.Contains(string(list.body), password) || !strings.Contains(string(list.body), "must change password") {
		t.Fatal("the list shows the password again, or not the pending change")
	}

	alice := h.signIn(t, "alice", password)
	if r := h.console(http.MethodGet, "/console/", alice, ""); r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/account/password" {
		t.Fatalf("not forced to change: %d %q", r.status, r.header.Get("Location"))
	}

	if r := h.console(http.MethodPost, "/console/users", admin, "username=ALICE&role=viewer"); r.status != http.StatusConflict || !strings.Contains(string(r.body), "already exists") {
		t.Fatalf("duplicate: %d", r.status)
	}
	if r := h.console(http.MethodPost, "/console/users", admin, "username=bob&role=root"); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "choose the role") {
		t.Fatalf("bad role: %d", r.status)
	}
	if r := h.console(http.MethodPost, "/console/users", admin, "username=&role=viewer"); r.status != http.StatusBadRequest {
		t.Fatalf("empty username: %d", r.status)
	}
}

func TestUsersUpdateRoleDisableEnable(t *testing.T) {
	h := newHarness(t)
	admin := h.operator(t, store.RoleAdmin)
	viewer := h.operator(t, store.RoleViewer)
	path := userPathOf(t, h, "viewer-user", "")

	r := h.console(http.MethodPost, path, admin, "role=operator")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/users" {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	if u := userNamed(t, h, "viewer-user"); u.Role != store.RoleOperator || u.Disabled {
		t.Fatalf("stored %+v", u)
	}
	if !signedIn(h, viewer) {
		t.Fatal("a role change ended the session")
	}
	if ev := h.lastAudit(t); ev.Type != "operator.user.update" || ev.Actor != "user:admin-user" {
		t.Fatalf("audit %+v", ev)
	}

	if r := h.console(http.MethodPost, path, admin, "role=operator&disabled=1"); r.status != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.status)
	}
	if !userNamed(t, h, "viewer-user").Disabled {
		t.Fatal("not disabled")
	}
	if signedIn(h, viewer) {
		t.Fatal("the disabled user's session still works")
	}
	bad := h.do(http.MethodPost, "/console/login", "application/x-www-form-urlencoded",
		"username=viewer-user&password="+url.QueryEscape(testPassword), nil)
	if bad.status != http.StatusUnauthorized {
		t.Fatalf("disabled user signed in: %d", bad.status)
	}
	page := h.console(http.MethodGet, "/console/users", admin, "")
	if !strings.Contains(string(page.body), `badge-bad">disabled`) {
		t.Fatal("the list does not show the account as disabled")
	}

	if r := h.console(http.MethodPost, path, admin, "role=operator"); r.status != http.StatusSeeOther {
		t.Fatalf("enable: %d", r.status)
	}
	h.signIn(t, "viewer-user", testPassword)
}

func TestUsersResetPassword(t *testing.T) {
	h := newHarness(t)
	admin := h.operator(t, store.RoleAdmin)
	viewer := h.operator(t, store.RoleViewer)
	r := h.console(http.MethodPost, userPathOf(t, h, "viewer-user", "/password"), admin, "")
	password := issuedPassword(t, r)
	if signedIn(h, viewer) {
		t.Fatal("session survived the reset")
	}
	if ev := h.lastAudit(t); ev.Type != "operator.user.password" || ev.Actor != "user:admin-user" {
		t.Fatalf("audit %+v", ev)
	}
	cookie := h.signIn(t, "viewer-user", password)
	if r := h.console(http.MethodGet, "/console/account", cookie, ""); r.header.Get("Location") != "/console/account/password" {
		t.Fatalf("not forced to change: %d", r.status)
	}
}

func TestUsersAdminOnly(t *testing.T) {
	h := newHarness(t)
	h.operator(t, store.RoleAdmin)
	adminPath := userPathOf(t, h, "admin-user", "")
	for _, role := range []string{store.RoleOperator, store.RoleViewer} {
		cookie := h.operator(t, role)
		for _, req := range []struct{ method, path, form string }{
			{http.MethodGet, "/console/users", ""},
			{http.MethodPost, "/console/users", "username=sneaky&role=admin"},
			{http.MethodPost, adminPath, "role=viewer&disabled=1"},
			{http.MethodPost, adminPath + "/password", ""},
			{http.MethodPost, userPathOf(t, h, role+"-user", ""), "role=admin"},
		} {
			if r := h.console(req.method, req.path, cookie, req.form); r.status != http.StatusForbidden {
				t.Errorf("%s %s %s as %s: %d", req.method, req.path, req.form, role, r.status)
			}
		}
		if userNamed(t, h, role+"-user").Role != role {
			t.Fatalf("%s promoted itself", role)
		}
	}
	if _, err := h.db.UserByName(t.Context(), "sneaky"); err == nil {
		t.Fatal("an account was created")
	}
	if u := userNamed(t, h, "admin-user"); u.Disabled || u.Role != store.RoleAdmin {
		t.Fatalf("admin changed: %+v", u)
	}
}

func TestUsersCrossSiteRefused(t *testing.T) {
	h := newHarness(t)
	admin := h.operator(t, store.RoleAdmin)
	h.operator(t, store.RoleViewer)
	viewerPath := userPathOf(t, h, "viewer-user", "")
	for _, hdr := range []map[string]string{
		{"Cookie": admin, "Sec-Fetch-Site": "cross-site"},
		{"Cookie": admin, "Origin": "https://evil.example"},
	} {
		for _, req := range []struct{ path, form string }{
			{"/console/users", "username=mallory&role=admin"},
			{viewerPath, "role=admin"},
			{viewerPath + "/password", ""},
		} {
			if r := h.do(http.MethodPost, req.path, "application/x-www-form-urlencoded", req.form, hdr); r.status != http.StatusForbidden {
				t.Errorf("cross-site POST %s: %d", req.path, r.status)
			}
		}
	}
	if n, _ := h.db.CountUsers(t.Context()); n != 2 {
		t.Fatalf("%d users", n)
	}
	if userNamed(t, h, "viewer-user").Role != store.RoleViewer {
		t.Fatal("role changed by a cross-site POST")
	}
}

func TestUsersSelfChangeRefused(t *testing.T) {
	h := newHarness(t)
	admin := h.operator(t, store.RoleAdmin)
	self := userPathOf(t, h, "admin-user", "")
	for _, form := range []string{"role=operator", "role=viewer", "role=admin&disabled=1"} {
		r := h.console(http.MethodPost, self, admin, form)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "cannot demote or disable your own account") {
			t.Fatalf("%s: %d %s", form, r.status, r.body)
		}
	}
	if r := h.console(http.MethodPost, self+"/password", admin, ""); r.status != http.StatusBadRequest || otpPattern.Match(r.body) {
		t.Fatalf("own reset: %d", r.status)
	}
	if u := userNamed(t, h, "admin-user"); u.Role != store.RoleAdmin || u.Disabled {
		t.Fatalf("own account changed: %+v", u)
	}
	if !signedIn(h, admin) {
		t.Fatal("session ended")
	}
	if ev := h.lastAudit(t); ev.Outcome != "rejected" || ev.Actor != "user:admin-user" {
		t.Fatalf("refusal not audited: %+v", ev)
	}
}

func TestUsersUnknownOrBadID(t *testing.T) {
	h := newHarness(t)
	admin := h.operator(t, store.RoleAdmin)
	for _, p := range []string{"/console/users/abc", "/console/users/-1", "/console/users/99999", "/console/users/99999/password"} {
		if r := h.console(http.MethodPost, p, admin, "role=viewer"); r.status != http.StatusNotFound {
			t.Errorf("%s: %d", p, r.status)
		}
	}
}

func TestUsersHostileUsername(t *testing.T) {
	h := newHarness(t)
	admin := h.operator(t, store.RoleAdmin)
	form := url.Values{"username": {"<img src=x onerror=alert(1)>"}, "role": {"viewer"}}.Encode()
	r := h.console(http.MethodPost, "/console/users", admin, form)
	if r.status != http.StatusBadRequest || strings.Contains(string(r.body), "<img src=x") {
		t.Fatalf("rejected but echoed raw, or accepted: %d", r.status)
	}
	// Without spaces it is a legal (if odd) name: it must come back as text.
	hostile := "<img/src=x/onerror=alert(1)>"
	r = h.console(http.MethodPost, "/console/users", admin, url.Values{"username": {hostile}, "role": {"viewer"}}.Encode())
	password := issuedPassword(t, r)
	for _, page := range []response{r, h.console(http.MethodGet, "/console/users", admin, "")} {
		if strings.Contains(string(page.body), "<img/src") || !strings.Contains(string(page.body), "&lt;img/src=x/onerror=alert(1)&gt;") {
			t.Fatalf("username not escaped: %s", page.body)
		}
	}
	cookie := h.signIn(t, hostile, password)
	form = url.Values{"current": {password}, "new": {"a perfectly fine password"}, "confirm": {"a perfectly fine password"}}.Encode()
	if r := h.console(http.MethodPost, "/console/account/password", cookie, form); r.status != 200 {
		t.Fatalf("change: %d", r.status)
	}
	cookie = h.signIn(t, hostile, "a perfectly fine password")
	if r := h.console(http.MethodGet, "/console/account", cookie, ""); r.status != 200 || strings.Contains(string(r.body), "<img/src") {
		t.Fatalf("account page: %d", r.status)
	}
}

// signInWithAgent signs in from a browser identifying itself as agent.
func signInWithAgent(t *testing.T, h *harness, username, agent string) string {
	t.Helper()
	r := h.do(http.MethodPost, "/console/login", "application/x-www-form-urlencoded",
		"username="+url.QueryEscape(username)+"&password="+url.QueryEscape(testPassword), map[string]string{"User-Agent": agent})
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == console.SessionCookie && c.Value != "" {
			return console.SessionCookie + "=" + c.Value
		}
	}
	t.Fatalf("login failed: %d", r.status)
	return ""
}

func TestAccountListsSessions(t *testing.T) {
	h := newHarness(t)
	h.operator(t, store.RoleOperator) // another account's session must not show
	if _, err := h.app.Auth.CreateUser(t.Context(), "test", "viewer-user", testPassword, store.RoleViewer, false, ""); err != nil {
		t.Fatal(err)
	}
	signInWithAgent(t, h, "viewer-user", "<script>alert(1)</script> Laptop")
	current := signInWithAgent(t, h, "viewer-user", "Firefox/140 Desktop")
	r := h.console(http.MethodGet, "/console/account", current, "")
	body := string(r.body)
	if r.status != 200 || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %q", r.status, r.header.Get("Cache-Control"))
	}
	for _, want := range []string{"viewer-user", "Firefox/140 Desktop", "&lt;script&gt;alert(1)&lt;/script&gt; Laptop", "192.0.2.10",
		`href="/console/account/password"`, `action="/console/logout"`, `name="everywhere" value="1"`, "Log out everywhere"} {
		if !strings.Contains(body, want) {
			t.Errorf("account page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("user agent rendered unescaped")
	}
	if n := strings.Count(body, "this session</span>"); n != 1 {
		t.Errorf("%d sessions marked current", n)
	}
	if n := strings.Count(body, "<tr"); n != 3 {
		t.Errorf("%d table rows, want a header and two sessions", n)
	}
	// The "Log out everywhere" form ends both sessions.
	if r := h.console(http.MethodPost, "/console/logout", current, "everywhere=1"); r.status != http.StatusSeeOther {
		t.Fatal(r.status)
	}
	if signedIn(h, current) {
		t.Fatal("session survived logout everywhere")
	}
}

func TestAccountForEveryRole(t *testing.T) {
	h := newHarness(t)
	for _, role := range []string{store.RoleViewer, store.RoleOperator, store.RoleAdmin} {
		r := h.console(http.MethodGet, "/console/account", h.operator(t, role), "")
		if r.status != 200 || !strings.Contains(string(r.body), role+"-user") || !strings.Contains(string(r.body), "Change password") {
			t.Errorf("%s: %d", role, r.status)
		}
	}
}
