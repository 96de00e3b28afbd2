package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// restart stops the service as a restart would (the database closed, every
// in-memory state gone) and builds it again over the same file.
func (h *harness) restart(t *testing.T) {
	t.Helper()
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, h.cfg.Database.DSN(), store.Options{MaxOpenConns: h.cfg.Database.MaxOpenConns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app, err := Build(ctx, h.cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)),
		BuildOptions{RootCAs: h.ca.Pool(), ForcedRefreshMinInterval: -1, PasswordHash: auth.CheapHashParams})
	if err != nil {
		t.Fatal(err)
	}
	h.db, h.app = db, app
}

func (h *harness) loginStatus(username, password string) int {
	return h.do(http.MethodPost, "/console/login", "application/x-www-form-urlencoded",
		"username="+url.QueryEscape(username)+"&password="+url.QueryEscape(password), nil).status
}

func TestThrottleSurvivesRestartAndAdminUnlocks(t *testing.T) {
	h := newHarness(t)
	if _, err := h.app.Auth.CreateUser(t.Context(), "test", "viewer-user", testPassword, store.RoleViewer, false, ""); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if s := h.loginStatus("viewer-user", "wrong password!"); s != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, s)
		}
	}
	h.restart(t)
	if s := h.loginStatus("Viewer-User", testPassword); s != http.StatusTooManyRequests {
		t.Fatalf("a restart forgave the failures: %d", s)
	}
	admin := h.operator(t, store.RoleAdmin)
	r := h.console(http.MethodGet, "/console/sessions", admin, "")
	if r.status != 200 || !strings.Contains(string(r.body), `<span class="mono">viewer-user</span>`) {
		t.Fatalf("lockout not listed: %d\n%s", r.status, r.body)
	}
	if r := h.console(http.MethodPost, "/console/sessions/unlock", admin, "kind=account&subject=viewer-user"); r.status != http.StatusSeeOther {
		t.Fatalf("unlock: %d %s", r.status, r.body)
	}
	if ev := h.lastAudit(t); ev.Type != store.EventOperatorUnlock || ev.Actor != "user:admin-user" || !strings.Contains(ev.Reason, "viewer-user") {
		t.Fatalf("audit: %+v", ev)
	}
	if s := h.loginStatus("viewer-user", testPassword); s != http.StatusSeeOther {
		t.Fatalf("still locked after the unlock: %d", s)
	}
	// Unlocking what is not locked says so; a viewer cannot unlock.
	if r := h.console(http.MethodPost, "/console/sessions/unlock", admin, "kind=account&subject=nobody"); r.status != http.StatusSeeOther {
		t.Fatalf("unlock of nothing: %d", r.status)
	}
	viewer := h.signIn(t, "viewer-user", testPassword)
	if r := h.console(http.MethodPost, "/console/sessions/unlock", viewer, "kind=account&subject=viewer-user"); r.status != http.StatusForbidden {
		t.Fatalf("viewer unlocked: %d", r.status)
	}
}

func sessionIDOf(t *testing.T, h *harness, username string) []string {
	t.Helper()
	u, err := h.db.UserByName(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	storetest.Gorm(t, h.db).Table("sessions").Where("user_id = ?", u.ID).Order("created_at").Pluck("id_hash", &ids)
	return ids
}

func TestAdminListsAndEndsSessions(t *testing.T) {
	h := newHarness(t)
	admin := h.operator(t, store.RoleAdmin)
	if _, err := h.app.Auth.CreateUser(t.Context(), "test", "viewer-user", testPassword, store.RoleViewer, false, ""); err != nil {
		t.Fatal(err)
	}
	r := h.do(http.MethodPost, "/console/login", "application/x-www-form-urlencoded",
		"username=viewer-user&password="+url.QueryEscape(testPassword), map[string]string{"User-Agent": "TestBrowser/1.0 (session list)"})
	viewer := sessionCookie(t, r)
	if r := h.console(http.MethodGet, "/console/sessions", viewer, ""); r.status != http.StatusForbidden {
		t.Fatalf("a viewer saw the sessions page: %d", r.status)
	}
	page := h.console(http.MethodGet, "/console/sessions", admin, "")
	id := sessionIDOf(t, h, "viewer-user")[0]
	for _, want := range []string{"viewer-user", "TestBrowser/1.0 (session list)", "192.0.2.10", id, "this session"} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("sessions page lacks %q", want)
		}
	}
	if r := h.console(http.MethodPost, "/console/sessions/end", admin, "id="+id); r.status != http.StatusSeeOther {
		t.Fatalf("end: %d %s", r.status, r.body)
	}
	if r := h.console(http.MethodGet, "/console/", viewer, ""); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/console/login?") {
		t.Fatalf("the ended session's cookie still works: %d", r.status)
	}
	if ev := h.lastAudit(t); ev.Type != store.EventOperatorSessionEnd || !strings.Contains(ev.Reason, "session of viewer-user") {
		t.Fatalf("audit: %+v", ev)
	}
}

func TestUserEndsOwnOtherSessions(t *testing.T) {
	h := newHarness(t)
	admin := h.operator(t, store.RoleAdmin)
	first := h.operator(t, store.RoleViewer)
	second := h.signIn(t, "viewer-user", testPassword)
	ids := sessionIDOf(t, h, "viewer-user")
	if len(ids) != 2 {
		t.Fatalf("%d sessions", len(ids))
	}
	page := h.console(http.MethodGet, "/console/account", first, "")
	if strings.Count(string(page.body), `action="/console/account/sessions/end"`) != 1 {
		t.Fatalf("the account page does not offer to end exactly the other session:\n%s", page.body)
	}
	// Another account's session cannot be ended from the account page.
	adminID := sessionIDOf(t, h, "admin-user")[0]
	if r := h.console(http.MethodPost, "/console/account/sessions/end", first, "id="+adminID); r.status != http.StatusSeeOther {
		t.Fatalf("%d", r.status)
	}
	if r := h.console(http.MethodGet, "/console/", admin, ""); r.status != 200 {
		t.Fatalf("a viewer ended the admin's session: %d", r.status)
	}
	other := ids[1]
	if r := h.console(http.MethodPost, "/console/account/sessions/end", first, "id="+other); r.status != http.StatusSeeOther {
		t.Fatalf("%d", r.status)
	}
	if r := h.console(http.MethodGet, "/console/", second, ""); r.status != http.StatusSeeOther {
		t.Fatalf("the other session survived: %d", r.status)
	}
	if r := h.console(http.MethodGet, "/console/", first, ""); r.status != 200 {
		t.Fatalf("this session ended too: %d", r.status)
	}
}

func TestAdminResetsMFA(t *testing.T) {
	h, clock := mfaHarness(t, "none")
	admin := h.operator(t, store.RoleAdmin)
	viewer := h.operator(t, store.RoleViewer)
	h.enrolTOTP(t, viewer, clock)
	u, _ := h.db.UserByName(t.Context(), "viewer-user")
	me, _ := h.db.UserByName(t.Context(), "admin-user")
	if r := h.console(http.MethodPost, "/console/users/"+strconv.FormatInt(me.ID, 10)+"/mfa/reset", admin, ""); r.status != http.StatusBadRequest {
		t.Fatalf("own reset: %d", r.status)
	}
	if r := h.console(http.MethodPost, "/console/users/"+strconv.FormatInt(u.ID, 10)+"/mfa/reset", viewer, ""); r.status != http.StatusForbidden {
		t.Fatalf("a viewer reset MFA: %d", r.status)
	}
	if r := h.console(http.MethodPost, "/console/users/"+strconv.FormatInt(u.ID, 10)+"/mfa/reset", admin, ""); r.status != http.StatusSeeOther {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	f, err := h.app.Auth.Factors(t.Context(), u.ID)
	if err != nil || f.Any() || f.RecoveryLeft != 0 {
		t.Fatalf("factors left: %+v %v", f, err)
	}
	if r := h.console(http.MethodGet, "/console/", viewer, ""); r.status != http.StatusSeeOther {
		t.Fatalf("the user's session survived the reset: %d", r.status)
	}
	if ev := h.lastAudit(t); ev.Type != store.EventOperatorMFAReset || !strings.Contains(ev.Reason, "viewer-user") {
		t.Fatalf("audit: %+v", ev)
	}
	if _, next := h.passwordStep(t, "viewer-user", testPassword); next != "/console/" {
		t.Fatalf("after the reset the password leads to %s", next)
	}
}
