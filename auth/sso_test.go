package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

func ssoID(role string) SSOIdentity {
	return SSOIdentity{Issuer: "https://idp.example", Subject: "sub-1", Username: "gina", Role: role, Claim: "groups test"}
}

// TestSSOSessionEndsWithinTheIdleTimeout: even a session in constant use
// ends at the idle timeout, so the IdP's groups are asked again that often.
func TestSSOSessionEndsWithinTheIdleTimeout(t *testing.T) {
	f := newFixture(t)
	sess, err := f.svc.SSOLogin(t.Context(), ssoID(store.RoleViewer), "192.0.2.1", "ua")
	if err != nil {
		t.Fatal(err)
	}
	// In use every 90 s (each use recorded): never idle for long.
	for range 6 {
		f.now = f.now.Add(90 * time.Second)
		if !f.alive(t, sess) {
			t.Fatal("ended before the idle timeout")
		}
	}
	f.now = f.now.Add(90 * time.Second) // 10m30s after sign-in, 90 s after the last use
	if f.alive(t, sess) {
		t.Fatal("an SSO session in use outlived the idle timeout")
	}
}

func TestSSOAccountRules(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	sess, err := f.svc.SSOLogin(ctx, ssoID(store.RoleOperator), "", "")
	if err != nil {
		t.Fatal(err)
	}
	// No password: neither sign-in with one nor setting one.
	if _, err := f.svc.Login(ctx, "gina", "", "", ""); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("password sign-in of an SSO account: %v", err)
	}
	if err := f.svc.SetPassword(ctx, "test", sess.User.ID, goodPassword, true, ""); !errors.Is(err, ErrSSOOnly) {
		t.Errorf("password set on an SSO account: %v", err)
	}
	// A role change is audited; the same role is not.
	if _, err := f.svc.SSOLogin(ctx, ssoID(store.RoleViewer), "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SSOLogin(ctx, ssoID(store.RoleViewer), "", ""); err != nil {
		t.Fatal(err)
	}
	if n := f.events(t, string(store.EventOperatorSSORole), "success"); n != 1 {
		t.Errorf("%d role changes audited", n)
	}
	// Disabled by an administrator: refused, audited.
	if err := f.svc.UpdateUser(ctx, "test", sess.User.ID, store.RoleViewer, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SSOLogin(ctx, ssoID(store.RoleViewer), "", ""); !errors.Is(err, ErrSSOAccount) {
		t.Errorf("disabled SSO account signed in: %v", err)
	}
	// A local account's name is not taken over by an IdP's username claim.
	f.user(t, "henry", store.RoleAdmin)
	other := SSOIdentity{Issuer: "https://idp.example", Subject: "sub-2", Username: "henry", Role: store.RoleAdmin}
	if _, err := f.svc.SSOLogin(ctx, other, "", ""); !errors.Is(err, ErrSSOAccount) {
		t.Errorf("SSO sign-in took over local account henry: %v", err)
	}
	if n := f.events(t, string(store.EventOperatorSSOLogin), "rejected"); n != 2 {
		t.Errorf("%d refusals audited", n)
	}
}

func TestLocalLoginAdminsOnly(t *testing.T) {
	f := newFixture(t)
	f.svc.opts.LocalLoginAdminsOnly = true
	f.user(t, "ivy", store.RoleOperator)
	f.user(t, "root", store.RoleAdmin)
	if _, err := f.svc.Login(t.Context(), "ivy", goodPassword, "", ""); !errors.Is(err, ErrLocalLoginOff) {
		t.Errorf("operator signed in with a password: %v", err)
	}
	f.login(t, "root")
}
