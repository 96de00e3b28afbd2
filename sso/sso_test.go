package sso

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/dcrconsole/dcrconsole/oidctest"
)

const redirectURL = "http://127.0.0.1:1/console/sso/callback"

var roles = map[string]string{"dcr-admins": "admin", "dcr-operators": "operator", "dcr-viewers": "viewer"}

// usedStates is Options.Once in memory.
type usedStates struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (u *usedStates) once(_ context.Context, state string, _ time.Time) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen[state] {
		return errors.New("replayed")
	}
	u.seen[state] = true
	return nil
}

func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	o.ClientID, o.RedirectURL, o.RoleClaim, o.Roles = "dcrconsole", redirectURL, "groups", roles
	o.Scopes = []string{"openid", "profile", "email"}
	o.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	o.Once = (&usedStates{seen: map[string]bool{}}).once
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signIn walks the IdP as a browser would (without JavaScript, following
// redirects with a cookie jar) and returns the callback's query.
func signIn(t *testing.T, authURL, username, password string) url.Values {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	var callback *url.URL
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirectURL) {
			callback = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("id")
	resp, err = hc.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/login",
		url.Values{"id": {id}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if callback == nil {
		t.Fatalf("the IdP did not redirect to the callback (status %d)", resp.StatusCode)
	}
	return callback.Query()
}

// TestPrivateKeyJWTAndSingleUseState: the whole relying party against a real
// OpenID Provider with private_key_jwt client authentication; the flow cannot
// be completed twice, nor with another browser's state.
func TestPrivateKeyJWTAndSingleUseState(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	key, err := ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	idp := oidctest.Start(t, oidctest.Options{ClientID: "dcrconsole", RedirectURI: redirectURL,
		PublicKey: &jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: key.KeyID(), Algorithm: "ES256", Use: "sig"}})
	idp.AddUser(oidctest.User{Subject: "s-1", Username: "frank", Password: "pw", Email: "frank@bank.example", Groups: []string{"dcr-viewers", "dcr-admins"}})
	c := newClient(t, Options{Issuer: idp.Issuer, PrivateKey: key})
	ctx := t.Context()

	authURL, cookie, err := c.Begin(ctx, "/console/audit")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	if q := u.Query(); q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Fatalf("authorization request lacks PKCE, nonce or state: %s", authURL)
	}
	q := signIn(t, authURL, "frank", "pw")
	id, next, err := c.Finish(ctx, cookie, q)
	if err != nil {
		t.Fatal(err)
	}
	if id.Role != "admin" || id.Username != "frank" || id.Subject != "s-1" || next != "/console/audit" {
		t.Fatalf("identity %+v next %q", id, next)
	}
	if _, _, err := c.Finish(ctx, cookie, q); kind(err) != KindState {
		t.Fatalf("replayed callback: %v", err)
	}

	_, other, err := c.Begin(ctx, "/console/")
	if err != nil {
		t.Fatal(err)
	}
	authURL, _, _ = c.Begin(ctx, "/console/")
	if _, _, err := c.Finish(ctx, other, signIn(t, authURL, "frank", "pw")); kind(err) != KindState {
		t.Fatalf("another browser's state accepted: %v", err)
	}
}

func kind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

func TestFlowCookieRefusals(t *testing.T) {
	c := newClient(t, Options{Issuer: "http://127.0.0.1:1", ClientSecret: "x"})
	now := time.Now()
	good := c.seal(flow{State: "s", Nonce: "n", Verifier: "v", Next: "/console/", Expires: now.Add(time.Minute).Unix()})
	expired := c.seal(flow{State: "s", Expires: now.Add(-time.Second).Unix()})
	other := newClient(t, Options{Issuer: "http://127.0.0.1:1", ClientSecret: "x"})
	cases := map[string]string{
		"empty":                   "",
		"no signature":            strings.Split(good, ".")[0],
		"bad base64":              "!!!.???",
		"tampered payload":        "e30" + good[3:],
		"another server's cookie": other.seal(flow{State: "s", Expires: now.Add(time.Minute).Unix()}),
		"expired":                 expired,
	}
	for name, cookie := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := c.open(cookie); kind(err) != KindState {
				t.Fatalf("accepted: %v", err)
			}
		})
	}
	if f, err := c.open(good); err != nil || f.Next != "/console/" {
		t.Fatalf("good cookie: %+v %v", f, err)
	}
}

func FuzzOpenFlowCookie(f *testing.F) {
	c, _ := New(Options{HTTPClient: &http.Client{Timeout: time.Second}, Once: (&usedStates{seen: map[string]bool{}}).once})
	f.Add(c.seal(flow{State: "s", Expires: time.Now().Add(time.Hour).Unix()}))
	f.Add("")
	f.Add("e30.AAAA")
	f.Add("..")
	f.Fuzz(func(t *testing.T, cookie string) {
		if _, err := c.open(cookie); err != nil && kind(err) != KindState {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

func TestUsableName(t *testing.T) {
	cases := []struct{ preferred, email, sub, want string }{
		{"alice@bank.example", "a@b", "1", "alice@bank.example"},
		{"", "bob@bank.example", "2", "bob@bank.example"},
		{"with space", "", "3", "sso-3"},
		{strings.Repeat("x", 65), "", "4", "sso-4"},
		{"", "", "sub with\tcontrol", "sso-sub_with_control"},
		{"", "", strings.Repeat("s", 100), "sso-" + strings.Repeat("s", 60)},
	}
	for _, tc := range cases {
		if got := usableName(tc.preferred, tc.email, tc.sub); got != tc.want {
			t.Errorf("usableName(%q, %q, %q) = %q, want %q", tc.preferred, tc.email, tc.sub, got, tc.want)
		}
	}
}

func TestRoleClaimMapping(t *testing.T) {
	cases := []struct {
		name    string
		claim   any
		role    string
		matched string
	}{
		{"one string", "dcr-operators", "operator", "dcr-operators"},
		{"list, highest wins", []any{"dcr-viewers", "staff", "dcr-admins", "dcr-operators"}, "admin", "dcr-admins dcr-operators dcr-viewers"},
		{"list without a mapped value", []any{"staff", "everyone"}, "", ""},
		{"non-strings in the list are ignored", []any{42.0, map[string]any{"x": 1}, "dcr-viewers"}, "viewer", "dcr-viewers"},
		{"claim absent", nil, "", ""},
		{"claim of another type", 7.0, "", ""},
		{"names are case-sensitive", "DCR-ADMINS", "", ""},
		{"empty list", []any{}, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			role, matched := mapRole(claimValues(tc.claim), roles)
			if role != tc.role || strings.Join(matched, " ") != tc.matched {
				t.Fatalf("got %q %q, want %q %q", role, matched, tc.role, tc.matched)
			}
		})
	}
}

// TestSeveralAudiencesNeedThisClientAsAZP: an ID token for this client and
// another is accepted only when azp names this client.
func TestSeveralAudiencesNeedThisClientAsAZP(t *testing.T) {
	idp := oidctest.Start(t, oidctest.Options{ClientID: "dcrconsole", ClientSecret: "secret", RedirectURI: redirectURL})
	idp.AddUser(oidctest.User{Subject: "s-2", Username: "gus", Password: "pw", Groups: []string{"dcr-viewers"}})
	c := newClient(t, Options{Issuer: idp.Issuer, ClientSecret: "secret"})
	for azp, wantErr := range map[string]bool{"another-application": true, "dcrconsole": false} {
		t.Run("azp "+azp, func(t *testing.T) {
			idp.TamperIDTokens(func(claims map[string]any) {
				claims["aud"] = []string{"dcrconsole", "another-application"}
				claims["azp"] = azp
			})
			authURL, cookie, err := c.Begin(t.Context(), "/console/")
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = c.Finish(t.Context(), cookie, signIn(t, authURL, "gus", "pw"))
			if wantErr != (kind(err) == KindIDToken) || (!wantErr && err != nil) {
				t.Fatalf("azp %s: %v", azp, err)
			}
		})
	}
}
