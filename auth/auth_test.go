package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

const goodPassword = "correct horse battery staple"

// fixture is a Service on a real temp SQLite file with a controllable clock.
type fixture struct {
	svc *Service
	db  *store.DB
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "auth.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{db: db, now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	f.svc = New(db, audit.New(db), Options{IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour, Hash: CheapHashParams})
	f.svc.Now = func() time.Time { return f.now }
	return f
}

func (f *fixture) user(t *testing.T, name, role string) *store.User {
	t.Helper()
	u, err := f.svc.CreateUser(t.Context(), "test", name, goodPassword, role, false, "")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) login(t *testing.T, name string) *Session {
	t.Helper()
	sess, err := f.svc.Login(t.Context(), name, goodPassword, "192.0.2.1", "test-agent")
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return sess
}

// events counts audit events of type with outcome.
func (f *fixture) events(t *testing.T, typ, outcome string) int64 {
	t.Helper()
	var n int64
	if err := storetest.Gorm(t, f.db).Model(&store.AuditEvent{}).Where("type = ? AND outcome = ?", typ, outcome).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) alive(t *testing.T, sess *Session) bool {
	t.Helper()
	_, err := f.svc.Authenticate(t.Context(), sess.Token)
	if err != nil && !errors.Is(err, ErrNoSession) {
		t.Fatal(err)
	}
	return err == nil
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name, username, password string
		ok                       bool
	}{
		{"too short", "alice", "elevenchars", false},
		{"twelve is enough", "alice", "twelve chars", true},
		{"too long", "alice", strings.Repeat("x", 257), false},
		{"256 is the maximum", "alice", strings.Repeat("x", 256), true},
		{"counts characters not bytes", "alice", strings.Repeat("é", 12), true},
		{"equals the username", "alice.operator", "alice.operator", false},
		{"equals the username in another case", "alice.operator", "ALICE.OPERATOR", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.username, tt.password)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrWeakPassword)) {
				t.Fatalf("CheckPassword = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestCreateUser(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.CreateUser(t.Context(), "test", "Alice", goodPassword, store.RoleOperator, true, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if n := f.events(t, "operator.user.create", "success"); n != 1 {
		t.Fatalf("%d create events", n)
	}
	tests := []struct {
		name, username, password, role string
		want                           error
	}{
		{"duplicate in another case", "alice", goodPassword, store.RoleViewer, store.ErrUsernameTaken},
		{"duplicate", "Alice", goodPassword, store.RoleViewer, store.ErrUsernameTaken},
		{"weak password", "bob", "short", store.RoleViewer, ErrWeakPassword},
		{"empty username", " ", goodPassword, store.RoleViewer, nil},
		{"username with a space", "bob smith", goodPassword, store.RoleViewer, nil},
		{"unknown role", "bob", goodPassword, "root", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.CreateUser(t.Context(), "test", tt.username, tt.password, tt.role, false, "")
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("CreateUser = %v, want %v", err, tt.want)
			}
		})
	}
	if n, _ := f.db.CountUsers(t.Context()); n != 1 {
		t.Fatalf("%d users", n)
	}
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice", store.RoleViewer)
	off := f.user(t, "mallory", store.RoleViewer)
	if err := f.svc.UpdateUser(t.Context(), "test", off.ID, store.RoleViewer, true, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, username, password string
		ok                       bool
		reason                   string
	}{
		{"success", "alice", goodPassword, true, ""},
		{"username ignores case", "ALICE", goodPassword, true, ""},
		{"wrong password", "alice", "wrong password!", false, "wrong password"},
		{"unknown user", "nobody", goodPassword, false, "unknown user"},
		{"disabled", "mallory", goodPassword, false, "account disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess, err := f.svc.Login(t.Context(), tt.username, tt.password, "192.0.2.1", "ua")
			if tt.ok {
				if err != nil || sess.Token == "" || sess.User.LastLoginAt == nil {
					t.Fatalf("Login = %+v, %v", sess, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("Login = %v, want ErrInvalidCredentials", err)
			}
			var ev store.AuditEvent
			storetest.Gorm(t, f.db).Order("id DESC").Take(&ev)
			if ev.Type != "operator.login" || ev.Outcome != "rejected" || ev.Reason != tt.reason {
				t.Fatalf("audit %+v", ev)
			}
		})
	}
	if n := f.events(t, "operator.login", "success"); n != 2 {
		t.Fatalf("%d successful logins audited", n)
	}
	var stored store.Session
	if err := storetest.Gorm(t, f.db).Take(&stored).Error; err != nil || stored.UserAgent != "ua" || stored.RemoteAddr != "192.0.2.1" {
		t.Fatalf("stored session %+v %v", stored, err)
	}
}

func TestThrottlePerAccount(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice", store.RoleViewer)
	for i := range 5 {
		// From changing addresses: the account counter alone must stop this.
		if _, err := f.svc.Login(t.Context(), "alice", "wrong password!", "192.0.2."+string(rune('1'+i)), ""); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := f.svc.Login(t.Context(), "Alice", goodPassword, "198.51.100.1", ""); !errors.Is(err, ErrThrottled) {
		t.Fatalf("sixth attempt with the right password: %v", err)
	}
	f.now = f.now.Add(16 * time.Minute)
	f.login(t, "alice")
}

func TestThrottlePerAddress(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice", store.RoleViewer)
	for i := range 20 {
		if _, err := f.svc.Login(t.Context(), "guess"+string(rune('a'+i)), "wrong password!", "203.0.113.7", ""); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := f.svc.Login(t.Context(), "alice", goodPassword, "203.0.113.7", ""); !errors.Is(err, ErrThrottled) {
		t.Fatalf("address not throttled: %v", err)
	}
	if _, err := f.svc.Login(t.Context(), "alice", goodPassword, "203.0.113.8", ""); err != nil {
		t.Fatalf("another address was throttled: %v", err)
	}
	if n := f.events(t, "operator.login", "rejected"); n != 21 {
		t.Fatalf("%d rejected logins audited", n)
	}
}

func TestAuthenticateTimeouts(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice", store.RoleViewer)

	t.Run("idle", func(t *testing.T) {
		sess := f.login(t, "alice")
		f.now = f.now.Add(9 * time.Minute)
		if !f.alive(t, sess) {
			t.Fatal("ended before the idle timeout")
		}
		f.now = f.now.Add(11 * time.Minute)
		if f.alive(t, sess) {
			t.Fatal("idle session survived")
		}
		if _, err := f.db.SessionByHash(t.Context(), sess.IDHash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("idle session not deleted: %v", err)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		sess := f.login(t, "alice")
		for range 11 { // active every 5 minutes: 55 minutes
			f.now = f.now.Add(5 * time.Minute)
			if !f.alive(t, sess) {
				t.Fatal("active session ended early")
			}
		}
		f.now = f.now.Add(6 * time.Minute)
		if f.alive(t, sess) {
			t.Fatal("session outlived its absolute timeout")
		}
	})
	t.Run("garbage token", func(t *testing.T) {
		for _, tok := range []string{"", "nope", strings.Repeat("a", 101)} {
			if _, err := f.svc.Authenticate(t.Context(), tok); !errors.Is(err, ErrNoSession) {
				t.Fatalf("%q: %v", tok, err)
			}
		}
	})
}

func TestAuthenticateTouchesOnceAMinute(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice", store.RoleViewer)
	sess := f.login(t, "alice")
	start := f.now
	lastSeen := func() time.Time {
		sw, err := f.db.SessionByHash(t.Context(), sess.IDHash)
		if err != nil {
			t.Fatal(err)
		}
		return sw.Session.LastSeenAt
	}
	f.now = start.Add(30 * time.Second)
	f.alive(t, sess)
	if got := lastSeen(); !got.Equal(start) {
		t.Fatalf("touched after 30s: %v", got)
	}
	f.now = start.Add(90 * time.Second)
	f.alive(t, sess)
	if got := lastSeen(); !got.Equal(f.now) {
		t.Fatalf("not touched after 90s: %v, want %v", got, f.now)
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice", store.RoleViewer)
	one, two, three := f.login(t, "alice"), f.login(t, "alice"), f.login(t, "alice")
	if err := f.svc.Logout(t.Context(), one, false, ""); err != nil {
		t.Fatal(err)
	}
	if f.alive(t, one) || !f.alive(t, two) {
		t.Fatal("logout ended the wrong sessions")
	}
	if err := f.svc.Logout(t.Context(), two, true, ""); err != nil {
		t.Fatal(err)
	}
	if f.alive(t, two) || f.alive(t, three) {
		t.Fatal("logout everywhere left a session")
	}
	var ev store.AuditEvent
	storetest.Gorm(t, f.db).Order("id DESC").Take(&ev)
	if ev.Type != "operator.logout" || !strings.Contains(ev.Reason, "everywhere (2 sessions)") {
		t.Fatalf("audit %+v", ev)
	}
	if n := f.events(t, "operator.logout", "success"); n != 2 {
		t.Fatalf("%d logouts audited", n)
	}
}

func TestSetPassword(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "alice", store.RoleViewer)
	sess := f.login(t, "alice")
	if err := f.svc.SetPassword(t.Context(), "user:alice", u.ID, goodPassword, false, ""); !errors.Is(err, ErrWeakPassword) {
		t.Fatalf("same password accepted: %v", err)
	}
	if err := f.svc.SetPassword(t.Context(), "user:alice", u.ID, "alice", false, ""); !errors.Is(err, ErrWeakPassword) {
		t.Fatalf("weak password accepted: %v", err)
	}
	if !f.alive(t, sess) {
		t.Fatal("a refused change ended the session")
	}
	if err := f.svc.SetPassword(t.Context(), "admin", u.ID, "a brand new passphrase", true, ""); err != nil {
		t.Fatal(err)
	}
	if f.alive(t, sess) {
		t.Fatal("session survived the password change")
	}
	got, err := f.svc.Login(t.Context(), "alice", "a brand new passphrase", "", "")
	if err != nil || !got.User.MustChangePassword {
		t.Fatalf("new password: %+v %v", got, err)
	}
	if n := f.events(t, "operator.user.password", "success"); n != 1 {
		t.Fatalf("%d password events", n)
	}
}

func TestUpdateUser(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "alice", store.RoleViewer)
	sess := f.login(t, "alice")
	if err := f.svc.UpdateUser(t.Context(), "admin", u.ID, "root", false, ""); err == nil {
		t.Fatal("unknown role accepted")
	}
	if err := f.svc.UpdateUser(t.Context(), "admin", u.ID, store.RoleOperator, false, ""); err != nil {
		t.Fatal(err)
	}
	if !f.alive(t, sess) {
		t.Fatal("a role change ended the session")
	}
	if err := f.svc.UpdateUser(t.Context(), "admin", u.ID, store.RoleOperator, true, ""); err != nil {
		t.Fatal(err)
	}
	if f.alive(t, sess) {
		t.Fatal("session survived disabling")
	}
	if _, err := f.svc.Login(t.Context(), "alice", goodPassword, "", ""); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("disabled user signed in: %v", err)
	}
	if err := f.svc.UpdateUser(t.Context(), "admin", 9999, store.RoleViewer, false, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	var ev store.AuditEvent
	storetest.Gorm(t, f.db).Where("type = 'operator.user.update'").Order("id DESC").Take(&ev)
	if ev.Actor != "admin" || ev.Reason != "user alice: role operator disabled false -> role operator disabled true" {
		t.Fatalf("audit %+v", ev)
	}
	if n := f.events(t, "operator.user.update", "success"); n != 2 {
		t.Fatalf("%d update events", n)
	}
}

func TestEnsureAdminOnce(t *testing.T) {
	f := newFixture(t)
	password, err := f.svc.EnsureAdmin(t.Context())
	if err != nil || password == "" || CheckPassword("admin", password) != nil {
		t.Fatalf("%q %v", password, err)
	}
	if again, err := f.svc.EnsureAdmin(t.Context()); again != "" || err != nil {
		t.Fatalf("second call: %q %v", again, err)
	}
	u, err := f.db.UserByName(t.Context(), "admin")
	if err != nil || u.Role != store.RoleAdmin || !u.MustChangePassword {
		t.Fatalf("%+v %v", u, err)
	}
	if n := f.events(t, "operator.user.create", "success"); n != 1 {
		t.Fatalf("%d create events", n)
	}
}

func TestRoleAtLeast(t *testing.T) {
	tests := []struct {
		role, want string
		ok         bool
	}{
		{"admin", "viewer", true}, {"operator", "operator", true}, {"viewer", "operator", false},
		{"operator", "admin", false}, {"", "viewer", false}, {"admin", "", false}, {"root", "viewer", false},
	}
	for _, tt := range tests {
		if got := RoleAtLeast(tt.role, tt.want); got != tt.ok {
			t.Errorf("RoleAtLeast(%q, %q) = %v", tt.role, tt.want, got)
		}
	}
}

// TestLastAdminCannotBeRemoved: whoever asks (console or CLI), one enabled
// administrator always remains.
func TestLastAdminCannotBeRemoved(t *testing.T) {
	f := newFixture(t)
	root := f.user(t, "root", store.RoleAdmin)
	for _, tc := range []struct {
		role     string
		disabled bool
	}{{store.RoleOperator, false}, {store.RoleAdmin, true}, {store.RoleViewer, true}} {
		if err := f.svc.UpdateUser(t.Context(), "cli", root.ID, tc.role, tc.disabled, ""); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("%+v: %v", tc, err)
		}
	}
	other := f.user(t, "second", store.RoleAdmin)
	if err := f.svc.UpdateUser(t.Context(), "cli", root.ID, store.RoleViewer, false, ""); err != nil {
		t.Fatalf("with another admin: %v", err)
	}
	if err := f.svc.UpdateUser(t.Context(), "cli", other.ID, store.RoleAdmin, true, ""); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("the second became the last: %v", err)
	}
}

// TestConcurrentGuessesAreThrottled: a burst of parallel wrong passwords gets no
// more password checks than the per-account limit.
func TestConcurrentGuessesAreThrottled(t *testing.T) {
	f := newFixture(t)
	f.user(t, "target", store.RoleViewer)
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, _ = f.svc.Verify(t.Context(), "target", "wrong password number "+strconv.Itoa(i), "192.0.2."+strconv.Itoa(i%50))
		}(i)
	}
	wg.Wait()
	var checked int64
	storetest.Gorm(t, f.db).Table("audit_events").Where("type = 'operator.login' AND reason = 'wrong password'").Count(&checked)
	if checked > 5 {
		t.Fatalf("%d passwords were checked in a burst; the limit is 5", checked)
	}
	if _, err := f.svc.Verify(t.Context(), "target", goodPassword, "198.51.100.1"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("the right password right after the burst: %v", err)
	}
}

// TestSignInLosesARaceWithDisableOrReset: the sign-in's own write is guarded, so
// an account disabled or reset while its password was being checked stays so.
func TestSignInLosesARaceWithDisableOrReset(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "racer", store.RoleAdmin)
	f.user(t, "other-admin", store.RoleAdmin)
	checked, err := f.db.UserByName(t.Context(), "racer")
	if err != nil {
		t.Fatal(err)
	}
	// The administrator disables the account after its password was checked.
	if err := f.svc.UpdateUser(t.Context(), "user:other-admin", u.ID, store.RoleViewer, true, ""); err != nil {
		t.Fatal(err)
	}
	err = f.db.Tx(t.Context(), func(tx *store.Tx) error { return store.RecordLogin(tx, u.ID, checked.PasswordHash, f.now) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the stale sign-in was recorded: %v", err)
	}
	after, _ := f.db.UserByName(t.Context(), "racer")
	if !after.Disabled || after.Role != store.RoleViewer {
		t.Fatalf("the disable was undone: %+v", after)
	}
	// A password reset likewise invalidates the checked hash.
	if err := f.svc.UpdateUser(t.Context(), "user:other-admin", u.ID, store.RoleViewer, false, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPassword(t.Context(), "user:other-admin", u.ID, "a brand new passphrase", true, ""); err != nil {
		t.Fatal(err)
	}
	err = f.db.Tx(t.Context(), func(tx *store.Tx) error { return store.RecordLogin(tx, u.ID, checked.PasswordHash, f.now) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a sign-in with the old password was recorded after a reset: %v", err)
	}
}
