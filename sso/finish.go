package sso

import (
	"context"
	"crypto"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"golang.org/x/oauth2"
)

// Identity is who the IdP says signed in, and the role its claim maps to.
type Identity struct {
	Issuer   string
	Subject  string
	Username string // preferred_username, else email, else "sso-" + subject
	Email    string
	// Values are the role claim's values; Matched those that map to a role.
	Values  []string
	Matched []string
	Role    string // "" when nothing maps: the sign-in is refused
}

// roleRank orders the console's roles; the highest mapped one wins.
var roleRank = map[string]int{"viewer": 1, "operator": 2, "admin": 3}

// Finish completes a sign-in at the callback: the flow cookie must be this
// server's, unexpired, unused and for the state the IdP returned; the code is
// exchanged with the PKCE verifier and the ID token verified (issuer, audience,
// expiry, signature, nonce). It returns the identity and where to go next. An
// *Error of KindNoRole carries the identity too, for the audit log.
func (c *Client) Finish(ctx context.Context, cookie string, q url.Values) (*Identity, string, error) {
	f, err := c.open(cookie)
	if err != nil {
		return nil, "", err
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		return nil, "", fail(KindState, "the state returned by the IdP is not this browser's sign-in")
	}
	if err := c.opts.Once(ctx, f.State, time.Unix(f.Expires, 0)); err != nil {
		return nil, "", fail(KindState, "this sign-in was completed before (state reused): %v", err)
	}
	if e := q.Get("error"); e != "" {
		return nil, "", fail(KindIdP, "the IdP answered %s: %s", truncate(e, 64), truncate(q.Get("error_description"), 200))
	}
	p, err := c.discover(ctx)
	if err != nil {
		return nil, "", err
	}
	raw, err := c.exchange(ctx, p, q.Get("code"), f.Verifier)
	if err != nil {
		return nil, "", err
	}
	verifier := p.Verifier(&oidc.Config{ClientID: c.opts.ClientID, Now: c.opts.Now})
	tok, err := verifier.Verify(oidc.ClientContext(ctx, c.opts.HTTPClient), raw)
	if err != nil {
		return nil, "", fail(KindIDToken, "%v", err)
	}
	if subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(f.Nonce)) != 1 {
		return nil, "", fail(KindIDToken, "the ID token's nonce is not this sign-in's")
	}
	if err := checkAuthorizedParty(tok, c.opts.ClientID); err != nil {
		return nil, "", err
	}
	id, err := c.identity(tok)
	if err != nil {
		return nil, "", err
	}
	if id.Role == "" {
		return id, f.Next, &Error{Kind: KindNoRole, Detail: "no value of claim " + c.opts.RoleClaim + " maps to a role (values: " +
			truncate(strings.Join(id.Values, ", "), 300) + ")"}
	}
	return id, f.Next, nil
}

// checkAuthorizedParty: a token for several audiences must name this client
// as the party it was issued to (OpenID Connect Core 3.1.3.7, azp), which
// go-oidc leaves to the caller.
func checkAuthorizedParty(tok *oidc.IDToken, clientID string) error {
	if len(tok.Audience) < 2 {
		return nil
	}
	var c struct {
		AZP string `json:"azp"`
	}
	if err := tok.Claims(&c); err != nil || c.AZP != clientID {
		return fail(KindIDToken, "the ID token has several audiences and azp %q is not %q", c.AZP, clientID)
	}
	return nil
}

// exchange redeems the code at the token endpoint and returns the raw ID token.
func (c *Client) exchange(ctx context.Context, p *oidc.Provider, code, verifier string) (string, error) {
	if code == "" {
		return "", fail(KindIdP, "the IdP returned neither a code nor an error")
	}
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
	if c.opts.PrivateKey != nil {
		assertion, err := c.clientAssertion(p.Endpoint().TokenURL)
		if err != nil {
			return "", fail(KindUnavailable, "client assertion: %v", err)
		}
		opts = append(opts, oauth2.SetAuthURLParam("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
			oauth2.SetAuthURLParam("client_assertion", assertion))
	}
	token, err := c.oauth(p).Exchange(oidc.ClientContext(ctx, c.opts.HTTPClient), code, opts...)
	if err != nil {
		return "", fail(KindUnavailable, "token endpoint: %v", err)
	}
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		return "", fail(KindIDToken, "the token response carries no id_token")
	}
	return raw, nil
}

// clientAssertion is a private_key_jwt assertion (RFC 7523) for the token
// endpoint. Its audience names both the token endpoint (OpenID Connect Core
// 9, RFC 7523) and the issuer: IdPs differ in which one they look for.
func (c *Client) clientAssertion(tokenURL string) (string, error) {
	now := c.opts.Now()
	t, err := jwt.NewBuilder().Issuer(c.opts.ClientID).Subject(c.opts.ClientID).Audience([]string{tokenURL, c.opts.Issuer}).
		JwtID(random()).IssuedAt(now).NotBefore(now).Expiration(now.Add(time.Minute)).Build()
	if err != nil {
		return "", err
	}
	alg := jwa.RS256
	if c.opts.PrivateKey.KeyType() == "EC" {
		alg = jwa.ES256
	}
	signed, err := jwt.Sign(t, jwt.WithKey(alg, c.opts.PrivateKey))
	return string(signed), err
}

// ParsePrivateKey reads a PEM private key (RSA or EC P-256) for private_key_jwt,
// with its RFC 7638 thumbprint as the key id the IdP can match.
func ParsePrivateKey(pem []byte) (jwk.Key, error) {
	k, err := jwk.ParseKey(pem, jwk.WithPEM(true))
	if err != nil {
		return nil, err
	}
	if tp, err := k.Thumbprint(crypto.SHA256); err == nil {
		_ = k.Set(jwk.KeyIDKey, base64.RawURLEncoding.EncodeToString(tp))
	}
	return k, nil
}

// identity reads the subject, a username and the role claim from the token.
func (c *Client) identity(tok *oidc.IDToken) (*Identity, error) {
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, fail(KindIDToken, "claims: %v", err)
	}
	if tok.Subject == "" || len(tok.Subject) > 255 {
		return nil, fail(KindIdentity, "the ID token's sub is empty or longer than 255 bytes")
	}
	id := &Identity{Issuer: tok.Issuer, Subject: tok.Subject}
	id.Email, _ = claims["email"].(string)
	preferred, _ := claims["preferred_username"].(string)
	id.Username = usableName(preferred, id.Email, tok.Subject)
	id.Values = claimValues(claims[c.opts.RoleClaim])
	id.Role, id.Matched = mapRole(id.Values, c.opts.Roles)
	return id, nil
}

// claimValues reads a role claim: one string or a list of strings (other
// members of a list are ignored; any other type yields nothing).
func claimValues(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// mapRole is the highest role any value maps to ("" when none does) and the
// values that mapped, sorted.
func mapRole(values []string, roles map[string]string) (role string, matched []string) {
	for _, v := range values {
		r, ok := roles[v]
		if !ok {
			continue
		}
		matched = append(matched, v)
		if roleRank[r] > roleRank[role] {
			role = r
		}
	}
	sort.Strings(matched)
	return role, matched
}

// usableName is the first candidate that makes a console username (1 to 64
// printable characters, no spaces), else one made of the subject.
func usableName(candidates ...string) string {
	for _, n := range candidates[:len(candidates)-1] {
		if n != "" && len(n) <= 64 && strings.IndexFunc(n, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) < 0 {
			return n
		}
	}
	sub := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return '_'
		}
		return r
	}, candidates[len(candidates)-1])
	return truncate("sso-"+sub, 64)
}

// truncate cuts s to at most n bytes, on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
