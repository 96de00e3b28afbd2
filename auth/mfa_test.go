package auth

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

func TestThrottleReservesInFlightAttemptsAndPersists(t *testing.T) {
	f := newFixture(t)
	th := f.svc.throttle
	ctx := t.Context()
	for i := range accountLimit {
		if w, err := th.begin(ctx, "alice", "192.0.2.1", f.now); w != 0 || err != nil {
			t.Fatalf("attempt %d refused: %v %v", i, w, err)
		}
	}
	// Five attempts in flight and none finished: the sixth waits.
	if w, _ := th.begin(ctx, "Alice", "192.0.2.2", f.now); w != time.Second {
		t.Fatalf("in-flight attempts not counted: %v", w)
	}
	for range accountLimit {
		if err := th.end(ctx, "alice", "192.0.2.1", f.now, false); err != nil {
			t.Fatal(err)
		}
	}
	// The failures are in the database: a new service (a restart) still refuses.
	again := New(f.db, f.svc.audit, Options{Hash: CheapHashParams})
	again.Now = func() time.Time { return f.now }
	if w, _ := again.throttle.begin(ctx, "alice", "192.0.2.3", f.now.Add(time.Minute)); w != window-time.Minute {
		t.Fatalf("after a restart: wait %v", w)
	}
	if len(again.throttle.inflight) != 0 || len(th.inflight) != 0 {
		t.Fatalf("reservations left: %v %v", again.throttle.inflight, th.inflight)
	}
	locks, err := again.Lockouts(ctx)
	if err != nil || len(locks) != 1 || locks[0].Subject != "alice" || locks[0].Failures != accountLimit {
		t.Fatalf("lockouts %+v %v", locks, err)
	}
	if err := again.Unlock(ctx, "user:admin", store.FailureAccount, "ALICE", ""); err != nil {
		t.Fatal(err)
	}
	if err := again.Unlock(ctx, "user:admin", store.FailureAccount, "alice", ""); err != ErrNotLocked {
		t.Fatalf("second unlock: %v", err)
	}
}

func TestMFAKeyFileAndSealing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "db.mfa-key")
	key, err := LoadOrCreateMFAKey(path)
	if err != nil || len(key) != mfaKeyBytes {
		t.Fatalf("%v %d", err, len(key))
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	same, err := LoadOrCreateMFAKey(path)
	if err != nil || string(same) != string(key) {
		t.Fatal("the key changed on reload")
	}
	s := newSecrets(key)
	sealed := s.seal(7, "JBSWY3DPEHPK3PXP")
	if got, err := s.open(7, sealed); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := s.open(8, sealed); err == nil {
		t.Fatal("a sealed secret opened for another account")
	}
	if _, err := newSecrets(nil).open(7, sealed); err == nil {
		t.Fatal("a sealed secret opened under another key")
	}
	if s.codeHash(7, "abcde23456") == s.codeHash(8, "abcde23456") || s.codeHash(7, "abcde23456") == newSecrets(nil).codeHash(7, "abcde23456") {
		t.Fatal("recovery code hashes are not bound to the account and the key")
	}
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateMFAKey(path); err == nil {
		t.Fatal("a malformed key file was accepted")
	}
}
