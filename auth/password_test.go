package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// passwordCases are passwords at and around the policy's bounds; the policy
// counts characters, so the multi-byte ones are far over bcrypt's 72 bytes.
var passwordCases = []struct {
	name     string
	password string
	allowed  bool
}{
	{"11 characters", strings.Repeat("a", 11), false},
	{"12 characters", "twelve chars", true},
	{"80 ASCII characters", strings.Repeat("0123456789", 8), true},
	{"256 characters", strings.Repeat("p", 256), true},
	{"257 characters", strings.Repeat("p", 257), false},
	{"multi-byte UTF-8, 12 characters in 36 bytes", strings.Repeat("日", 12), true},
	{"multi-byte UTF-8, 256 characters in 1024 bytes", strings.Repeat("🔑", 256), true},
	{"multi-byte UTF-8, 257 characters", strings.Repeat("é", 257), false},
	{"mixed scripts and emoji over 72 bytes", "Pässwörter für Ωmega 🔒🔒🔒 ÄÖÜ — 日本語のパスワード ok", true},
}

// TestEveryAllowedPasswordSignsIn: each password the policy allows can be set
// (at creation and by a change) and then signs in; the others are refused as
// weak, never with another error.
func TestEveryAllowedPasswordSignsIn(t *testing.T) {
	for i, tc := range passwordCases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			name := fmt.Sprintf("user%d", i)
			_, err := f.svc.CreateUser(t.Context(), "test", name, tc.password, store.RoleViewer, false, "")
			if !tc.allowed {
				if !errors.Is(err, ErrWeakPassword) {
					t.Fatalf("CreateUser = %v, want ErrWeakPassword", err)
				}
				u := f.user(t, name, store.RoleViewer)
				if err := f.svc.SetPassword(t.Context(), "test", u.ID, tc.password, false, ""); !errors.Is(err, ErrWeakPassword) {
					t.Fatalf("SetPassword = %v, want ErrWeakPassword", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			if _, err := f.svc.Login(t.Context(), name, tc.password, "192.0.2.1", "ua"); err != nil {
				t.Fatalf("Login: %v", err)
			}
			// No silent truncation: the first 72 bytes alone are a wrong password.
			if len(tc.password) > 72 {
				if _, err := f.svc.Login(t.Context(), name, tc.password[:72], "192.0.2.2", "ua"); !errors.Is(err, ErrInvalidCredentials) {
					t.Fatalf("a 72-byte prefix signed in: %v", err)
				}
			}
			other := f.user(t, name+"-b", store.RoleViewer)
			if err := f.svc.SetPassword(t.Context(), "test", other.ID, tc.password, false, ""); err != nil {
				t.Fatalf("SetPassword: %v", err)
			}
			if _, err := f.svc.Login(t.Context(), name+"-b", tc.password, "192.0.2.3", "ua"); err != nil {
				t.Fatalf("Login after SetPassword: %v", err)
			}
		})
	}
}

// TestBcryptHashMigratesAtSignIn: an account stored with a bcrypt hash (as
// before argon2id) signs in, and from then on its hash is argon2id; a failed
// sign-in changes nothing.
func TestBcryptHashMigratesAtSignIn(t *testing.T) {
	f := newFixture(t)
	old, err := bcrypt.GenerateFromPassword([]byte(goodPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u := &store.User{Username: "legacy", PasswordHash: string(old), Role: store.RoleViewer, CreatedAt: f.now, UpdatedAt: f.now}
	if err := f.db.Tx(t.Context(), func(tx *store.Tx) error { return store.CreateUser(tx, u) }); err != nil {
		t.Fatal(err)
	}
	stored := func() string {
		t.Helper()
		got, err := f.db.UserByID(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.PasswordHash
	}
	if _, err := f.svc.Login(t.Context(), "legacy", "not the password", "192.0.2.1", "ua"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if stored() != string(old) {
		t.Fatal("a failed sign-in changed the hash")
	}
	sess, err := f.svc.Login(t.Context(), "legacy", goodPassword, "192.0.2.1", "ua")
	if err != nil {
		t.Fatalf("bcrypt account cannot sign in: %v", err)
	}
	h := stored()
	if !strings.HasPrefix(h, "$argon2id$v=19$") || needsRehash(h, f.svc.Options().Hash) || sess.User.PasswordHash != h {
		t.Fatalf("hash after sign-in %q (session has %q)", h, sess.User.PasswordHash)
	}
	if n := f.events(t, "operator.login", "success"); n != 1 {
		t.Fatalf("%d login events", n)
	}
	var ev store.AuditEvent
	storetest.Gorm(t, f.db).Where("type = 'operator.login' AND outcome = 'success'").Take(&ev)
	if !strings.Contains(ev.Reason, "upgraded to argon2id") {
		t.Fatalf("login reason %q", ev.Reason)
	}
	// The upgraded hash signs in, and is not rewritten again.
	if _, err := f.svc.Login(t.Context(), "legacy", goodPassword, "192.0.2.1", "ua"); err != nil || stored() != h {
		t.Fatalf("second sign-in: %v, hash rewritten %v", err, stored() != h)
	}
}

// TestDefaultHashParameters runs the real cost once: a user created by a
// service with default options has a default-parameter argon2id hash, the
// unknown-user dummy too, and both sign-in paths work.
func TestDefaultHashParameters(t *testing.T) {
	f := newFixture(t)
	svc := New(f.db, nil, Options{})
	p := DefaultHashParams
	prefix := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", p.MemoryKiB, p.Passes, p.Lanes)
	if !strings.HasPrefix(svc.dummyHash, prefix) {
		t.Fatalf("dummy hash %q, want prefix %q", svc.dummyHash, prefix)
	}
	h := svc.hash(goodPassword)
	if !strings.HasPrefix(h, prefix) || needsRehash(h, p) {
		t.Fatalf("hash %q", h)
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{{goodPassword, true}, {goodPassword + " ", false}, {"", false}} {
		if ok, err := VerifyPasswordHash(h, tc.password); ok != tc.want || err != nil {
			t.Fatalf("VerifyPasswordHash(%q) = %v, %v", tc.password, ok, err)
		}
	}
}

// TestUnusableStoredHash: a stored hash in no known format, or with absurd
// parameters, is an error (never a panic or a huge allocation) and never a match.
func TestUnusableStoredHash(t *testing.T) {
	good := hashPassword(goodPassword, CheapHashParams)
	parts := strings.Split(good, "$")
	tests := []struct{ name, hash string }{
		{"empty", ""},
		{"plain text", goodPassword},
		{"other algorithm", "$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5]},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + parts[4] + "$" + parts[5]},
		{"memory too large", "$argon2id$v=19$m=99999999999,t=1,p=1$" + parts[4] + "$" + parts[5]},
		{"zero passes", "$argon2id$v=19$m=64,t=0,p=1$" + parts[4] + "$" + parts[5]},
		{"too many passes", "$argon2id$v=19$m=64,t=1000000,p=1$" + parts[4] + "$" + parts[5]},
		{"zero lanes", "$argon2id$v=19$m=64,t=1,p=0$" + parts[4] + "$" + parts[5]},
		{"bad salt", "$argon2id$v=19$m=64,t=1,p=1$!!!$" + parts[5]},
		{"short hash", "$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$AAAA"},
		{"extra field", good + "$x"},
		{"broken bcrypt", "$2a$04$short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := VerifyPasswordHash(tt.hash, goodPassword)
			if ok || err == nil {
				t.Fatalf("VerifyPasswordHash = %v, %v; want an error", ok, err)
			}
			if !needsRehash(tt.hash, CheapHashParams) {
				t.Fatal("an unusable hash does not need a rehash")
			}
		})
	}
}

// BenchmarkHashPassword measures one password hash at the default parameters:
// the cost of a sign-in, and of each guess.
//
//	go test ./auth -run '^$' -bench HashPassword -benchmem
func BenchmarkHashPassword(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    HashParams
	}{{"default", DefaultHashParams}, {"cheap-for-tests", CheapHashParams}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				hashPassword(goodPassword, bc.p)
			}
		})
	}
}
