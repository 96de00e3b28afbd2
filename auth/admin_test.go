package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

func TestCheckAccount(t *testing.T) {
	tests := []struct {
		name, username, role string
		ok                   bool
	}{
		{"plain", "alice", "viewer", true},
		{"email-like", "alice.ops@example.com", "admin", true},
		{"markup without spaces is only text", "<b>bob</b>", "operator", true},
		{"empty", "", "viewer", false},
		{"space", "<img src=x onerror=alert(1)>", "viewer", false},
		{"tab", "a\tb", "viewer", false},
		{"control character", "a\x00b", "viewer", false},
		{"invalid UTF-8", "a\xffb", "viewer", false},
		{"65 bytes", strings.Repeat("a", 65), "viewer", false},
		{"unknown role", "alice", "root", false},
		{"empty role", "alice", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckAccount(tt.username, tt.role)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidAccount)) {
				t.Fatalf("CheckAccount = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestAddUserIssuesOneTimePassword(t *testing.T) {
	f := newFixture(t)
	u, password, err := f.svc.AddUser(t.Context(), "user:root", " carol ", store.RoleOperator, "192.0.2.1")
	if err != nil || u.Username != "carol" || !u.MustChangePassword || CheckPassword("carol", password) != nil {
		t.Fatalf("%+v %q %v", u, password, err)
	}
	sess, err := f.svc.Login(t.Context(), "carol", password, "", "")
	if err != nil || !sess.User.MustChangePassword {
		t.Fatalf("one-time password: %v", err)
	}
	if _, _, err := f.svc.AddUser(t.Context(), "user:root", "CAROL", store.RoleViewer, ""); !errors.Is(err, store.ErrUsernameTaken) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, _, err := f.svc.AddUser(t.Context(), "user:root", "dave", "root", ""); !errors.Is(err, ErrInvalidAccount) {
		t.Fatalf("bad role: %v", err)
	}
	var ev store.AuditEvent
	storetest.Gorm(t, f.db).Where("type = 'operator.user.create'").Take(&ev)
	if ev.Actor != "user:root" || ev.RemoteAddr != "192.0.2.1" || strings.Contains(ev.Reason, password) {
		t.Fatalf("audit %+v", ev)
	}
}

func TestChangeUserRefusesSelfLockout(t *testing.T) {
	f := newFixture(t)
	root := f.user(t, "root", store.RoleAdmin)
	other := f.user(t, "alice", store.RoleViewer)
	for _, tc := range []struct {
		role     string
		disabled bool
	}{{store.RoleOperator, false}, {store.RoleViewer, false}, {store.RoleAdmin, true}, {"", true}} {
		if _, err := f.svc.ChangeUser(t.Context(), root, root.ID, tc.role, tc.disabled, ""); !errors.Is(err, ErrSelfChange) {
			t.Fatalf("%+v: %v", tc, err)
		}
	}
	if u, _ := f.db.UserByID(t.Context(), root.ID); u.Role != store.RoleAdmin || u.Disabled {
		t.Fatalf("own account changed: %+v", u)
	}
	if n := f.events(t, "operator.user.update", "rejected"); n != 4 {
		t.Fatalf("%d refusals audited", n)
	}
	if _, err := f.svc.ChangeUser(t.Context(), root, root.ID, store.RoleAdmin, false, ""); err != nil {
		t.Fatalf("a no-op on oneself: %v", err)
	}
	u, err := f.svc.ChangeUser(t.Context(), root, other.ID, "", true, "")
	if err != nil || u.Role != store.RoleViewer || !u.Disabled {
		t.Fatalf("empty role keeps the role: %+v %v", u, err)
	}
	if _, err := f.svc.ChangeUser(t.Context(), root, other.ID, "root", false, ""); !errors.Is(err, ErrInvalidAccount) {
		t.Fatalf("bad role: %v", err)
	}
	if _, err := f.svc.ChangeUser(t.Context(), root, 9999, store.RoleViewer, false, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestResetPassword(t *testing.T) {
	f := newFixture(t)
	root := f.user(t, "root", store.RoleAdmin)
	f.user(t, "alice", store.RoleViewer)
	sess := f.login(t, "alice")
	if _, _, err := f.svc.ResetPassword(t.Context(), root, root.ID, ""); !errors.Is(err, ErrSelfChange) {
		t.Fatalf("own reset: %v", err)
	}
	u, password, err := f.svc.ResetPassword(t.Context(), root, sess.User.ID, "")
	if err != nil || u.Username != "alice" || password == "" {
		t.Fatalf("%+v %v", u, err)
	}
	if f.alive(t, sess) {
		t.Fatal("session survived the reset")
	}
	got, err := f.svc.Login(t.Context(), "alice", password, "", "")
	if err != nil || !got.User.MustChangePassword {
		t.Fatalf("reset password: %v", err)
	}
	var ev store.AuditEvent
	storetest.Gorm(t, f.db).Where("type = 'operator.user.password' AND outcome = 'success'").Take(&ev)
	if ev.Actor != "user:root" {
		t.Fatalf("audit %+v", ev)
	}
}

func TestActiveSessions(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice", store.RoleViewer)
	f.user(t, "bob", store.RoleViewer)
	old := f.login(t, "alice")
	f.now = f.now.Add(8 * time.Minute)
	recent := f.login(t, "alice")
	f.login(t, "bob")
	list, err := f.svc.ActiveSessions(t.Context(), recent.User.ID)
	if err != nil || len(list) != 2 || list[0].IDHash != recent.IDHash || list[1].IDHash != old.IDHash {
		t.Fatalf("%+v %v", list, err)
	}
	f.now = f.now.Add(5 * time.Minute) // old has been idle 13 minutes
	list, err = f.svc.ActiveSessions(t.Context(), recent.User.ID)
	if err != nil || len(list) != 1 || list[0].IDHash != recent.IDHash {
		t.Fatalf("idle session listed: %+v %v", list, err)
	}
}
