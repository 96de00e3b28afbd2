// Package sso is the console's OpenID Connect relying party: the authorization
// code flow with PKCE (S256), state and nonce against the operators' IdP, the
// ID token's verification (issuer, audience, expiry, signature from the IdP's
// JWKS) and the mapping of one of its claims to a console role. It knows
// nothing of HTTP servers, sessions or the store: the console drives it and
// auth provisions the account.
//
// The issuer is operator configuration, not input from an ADR: requests to it
// do not go through fetch's guard for public addresses, but through an
// http.Client bounded in time (Options.HTTPClient).
package sso

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"golang.org/x/oauth2"
)

// FlowLifetime bounds the time from "Sign in with SSO" to the IdP's callback.
const FlowLifetime = 10 * time.Minute

// Options configure the relying party.
type Options struct {
	Issuer   string
	ClientID string
	// ClientSecret authenticates the client (client_secret_basic) unless
	// PrivateKey is set (private_key_jwt).
	ClientSecret string
	PrivateKey   jwk.Key
	Scopes       []string
	// RedirectURL is the console's callback, registered at the IdP.
	RedirectURL string
	// RoleClaim names the claim whose values Roles maps to console roles.
	RoleClaim string
	Roles     map[string]string
	// HTTPClient makes every request to the IdP (discovery, JWKS, token); it
	// must carry a timeout.
	HTTPClient *http.Client
	// Once records a flow's state as used, failing when it was used before.
	Once func(ctx context.Context, state string, until time.Time) error
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Client is the console's relying party at one IdP.
type Client struct {
	opts   Options
	macKey []byte // signs the flow cookie; a restart ends the sign-ins in flight

	mu       sync.Mutex
	provider *oidc.Provider // discovered at the first sign-in, then kept
}

// New returns the relying party; the IdP is contacted at the first sign-in, so
// an IdP that is down does not stop the server from starting.
func New(opts Options) (*Client, error) {
	if opts.HTTPClient == nil || opts.HTTPClient.Timeout <= 0 {
		return nil, errors.New("sso: HTTPClient must carry a timeout")
	}
	if opts.Once == nil {
		return nil, errors.New("sso: Once is required (state is single use)")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Client{opts: opts, macKey: key}, nil
}

// Kind says which step of a sign-in failed.
type Kind string

// Kinds of failure, each audited with its detail.
const (
	KindState       Kind = "state"        // the flow cookie is missing, forged, expired, reused or for another state
	KindIdP         Kind = "idp_error"    // the IdP answered with an error (the user cancelled, access denied)
	KindUnavailable Kind = "unavailable"  // discovery or the token endpoint failed (network, 5xx)
	KindIDToken     Kind = "id_token"     // the ID token failed verification (issuer, audience, expiry, signature, nonce)
	KindNoRole      Kind = "no_role"      // no value of the role claim maps to a role
	KindIdentity    Kind = "bad_identity" // the ID token lacks what an account needs
)

// Error is a refused or failed sign-in. Detail is for the audit log and the
// server log, never for the page.
type Error struct {
	Kind   Kind
	Detail string
}

func (e *Error) Error() string { return "sso: " + string(e.Kind) + ": " + e.Detail }

func fail(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...)}
}

// flow is what the browser carries from Begin to Finish, signed.
type flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"r"`
	Expires  int64  `json:"e"`
}

func random() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Begin starts a sign-in: the IdP's authorization URL to send the browser to
// and the cookie value that binds the flow (state, nonce, PKCE verifier, where
// to go afterwards) to this browser.
func (c *Client) Begin(ctx context.Context, next string) (authURL, cookie string, err error) {
	p, err := c.discover(ctx)
	if err != nil {
		return "", "", err
	}
	f := flow{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), Next: next,
		Expires: c.opts.Now().Add(FlowLifetime).Unix()}
	authURL = c.oauth(p).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	return authURL, c.seal(f), nil
}

func (c *Client) seal(f flow) string {
	payload, _ := json.Marshal(f)
	mac := hmac.New(sha256.New, c.macKey)
	mac.Write(payload)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (c *Client) open(cookie string) (*flow, error) {
	p, s, ok := strings.Cut(cookie, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(s)
	if !ok || err1 != nil || err2 != nil {
		return nil, fail(KindState, "no sign-in in progress in this browser (flow cookie missing or malformed)")
	}
	mac := hmac.New(sha256.New, c.macKey)
	mac.Write(payload)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, fail(KindState, "flow cookie not signed by this server (forged, or the server restarted)")
	}
	var f flow
	if err := json.Unmarshal(payload, &f); err != nil {
		return nil, fail(KindState, "flow cookie unreadable")
	}
	if c.opts.Now().Unix() > f.Expires {
		return nil, fail(KindState, "sign-in took longer than %s", FlowLifetime)
	}
	return &f, nil
}

// discover reads the IdP's discovery document once; a failure is retried at the next sign-in.
func (c *Client) discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	// The provider keeps this context for its JWKS fetches: it must outlive
	// the request, and carry the bounded client.
	pctx := oidc.ClientContext(context.WithoutCancel(ctx), c.opts.HTTPClient)
	p, err := oidc.NewProvider(pctx, c.opts.Issuer)
	if err != nil {
		return nil, fail(KindUnavailable, "discovery at %s: %v", c.opts.Issuer, err)
	}
	c.provider = p
	return p, nil
}

func (c *Client) oauth(p *oidc.Provider) *oauth2.Config {
	cfg := &oauth2.Config{ClientID: c.opts.ClientID, ClientSecret: c.opts.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: c.opts.RedirectURL, Scopes: c.opts.Scopes}
	if c.opts.PrivateKey != nil {
		cfg.ClientSecret = ""
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	} else {
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	}
	return cfg
}
