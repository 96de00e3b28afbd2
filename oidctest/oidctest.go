// Package oidctest runs a real OpenID Provider (the OpenID-certified `op`
// package of github.com/zitadel/oidc) on 127.0.0.1 with in-memory storage, a
// password login page and one client, for the console's single sign-on tests.
// Only tests import it, so it is not linked into dcrconsole.
package oidctest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is an account at the provider.
type User struct {
	Subject, Username, Password, Email string
	// Groups go into the ID token as the client's groups claim (omitted when nil).
	Groups []string
}

// Options describe the one client the provider knows.
type Options struct {
	ClientID     string
	ClientSecret string // client_secret_basic; empty with PublicKey
	// PublicKey is the client's key for private_key_jwt (its KeyID must be set).
	PublicKey   *jose.JSONWebKey
	RedirectURI string
	// GroupsClaim names the claim carrying User.Groups (default "groups").
	GroupsClaim string
	// Host is the issuer's host name (default "localhost": a site other than
	// the console's 127.0.0.1, so the browser treats the redirects as cross-site).
	Host string
}

// Provider is a running OpenID Provider.
type Provider struct {
	Issuer string
	st     *storage

	mu     sync.Mutex
	tamper func(claims map[string]any) // re-signs ID tokens after changing them
}

// Start runs a provider until the test ends.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()
	if opts.GroupsClaim == "" {
		opts.GroupsClaim = "groups"
	}
	if opts.Host == "" {
		opts.Host = "localhost"
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	p := &Provider{Issuer: "http://" + opts.Host + ":" + port}
	p.st = &storage{key: key, keyID: newID(), users: map[string]*User{}, requests: map[string]*authRequest{}, codes: map[string]string{},
		client: &client{id: opts.ClientID, secret: opts.ClientSecret, publicKey: opts.PublicKey,
			redirectURIs: []string{opts.RedirectURI}, groupsClaim: opts.GroupsClaim, idTokenLifetime: 5 * time.Minute}}
	provider, err := op.NewProvider(&op.Config{CryptoKey: sha256.Sum256([]byte(p.Issuer)), CodeMethodS256: true,
		AuthMethodPrivateKeyJWT: true}, p.st, op.StaticIssuer(p.Issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", p.loginPage)
	mux.HandleFunc("POST /login", p.login)
	mux.Handle("POST /oauth/token", p.tampering(provider))
	mux.Handle("/", provider)
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// AddUser adds or replaces an account.
func (p *Provider) AddUser(u User) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.users[u.Username] = &u
}

// SetGroups changes a user's groups (nil: the claim is left out).
func (p *Provider) SetGroups(username string, groups []string) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.users[username].Groups = groups
}

// SetIDTokenLifetime sets how long the ID tokens issued from now on are valid;
// a negative lifetime makes the provider issue expired ones.
func (p *Provider) SetIDTokenLifetime(d time.Duration) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.client.idTokenLifetime = d
}

// TamperIDTokens makes the token endpoint change every ID token's claims with
// fn and sign it again with the provider's own key (nil: stop). It stands for
// an IdP that issues a token for another audience: the signature is valid.
func (p *Provider) TamperIDTokens(fn func(claims map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper = fn
}

var loginForm = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html><head><title>Test IdP sign-in</title></head><body>
<h1>Test IdP</h1>
{{if .Error}}<p id="error">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="id" value="{{.ID}}">
<label>Username <input id="idp-username" name="username"></label>
<label>Password <input id="idp-password" name="password" type="password"></label>
<button id="idp-submit" type="submit">Sign in</button>
</form></body></html>`))

func (p *Provider) loginPage(w http.ResponseWriter, r *http.Request) {
	_ = loginForm.Execute(w, map[string]string{"ID": r.URL.Query().Get("id")})
}

// login checks the password and sends the browser back to the OP's callback,
// which issues the code to the client.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("id")
	if err := p.st.signIn(id, r.PostFormValue("username"), r.PostFormValue("password")); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		_ = loginForm.Execute(w, map[string]string{"ID": id, "Error": "wrong username or password"})
		return
	}
	http.Redirect(w, r, p.Issuer+"/authorize/callback?id="+id, http.StatusFound)
}

// tampering applies TamperIDTokens to the token endpoint's answers.
func (p *Provider) tampering(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		fn := p.tamper
		p.mu.Unlock()
		if fn == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if json.Unmarshal(rec.Body.Bytes(), &body) == nil {
			if raw, ok := body["id_token"].(string); ok {
				if signed, err := p.resign(raw, fn); err == nil {
					body["id_token"] = signed
				}
			}
		}
		out, _ := json.Marshal(body)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(out)
	})
}

// resign changes a JWT's claims and signs it with the provider's key.
func (p *Provider) resign(raw string, fn func(map[string]any)) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("oidctest: not a JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	claims := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return "", err
	}
	fn(claims)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: &jose.JSONWebKey{Key: p.st.key, KeyID: p.st.keyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	out, _ := json.Marshal(claims)
	jws, err := signer.Sign(out)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// client is the one relying party the provider knows.
type client struct {
	id, secret      string
	publicKey       *jose.JSONWebKey
	redirectURIs    []string
	groupsClaim     string
	idTokenLifetime time.Duration
}

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return c.redirectURIs }
func (c *client) PostLogoutRedirectURIs() []string    { return nil }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.publicKey != nil {
		return oidc.AuthMethodPrivateKeyJWT
	}
	return oidc.AuthMethodBasic
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string    { return "/login?id=" + id }
func (c *client) AccessTokenType() op.AccessTokenType {
	return op.AccessTokenTypeBearer
}
func (c *client) IDTokenLifetime() time.Duration { return c.idTokenLifetime }

// DevMode allows the http redirect URI of a test server.
func (c *client) DevMode() bool { return true }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(string) bool           { return true }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
