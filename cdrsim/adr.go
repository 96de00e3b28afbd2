package cdrsim

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v2/jwa"
)

// Lifetimes of what an ADR signs.
const (
	requestLifetime   = 5 * time.Minute
	assertionLifetime = 2 * time.Minute
)

// ADR is one simulated Accredited Data Recipient: one legal entity with one
// brand, whose software products share its keys. It serves its JWKS, a sector
// identifier document and plain pages for its product URIs over HTTPS, and
// signs registration requests and client assertions. All methods are safe for
// concurrent use, also while it serves.
type ADR struct {
	srv           *tlsServer
	requests      requestCounter
	name          string
	brandID       string
	legalEntityID string

	mu           sync.RWMutex
	rsaKey       *rsa.PrivateKey
	rsaKID       string
	ecKey        *ecdsa.PrivateKey
	ecKID        string
	jwks         []byte
	extraJWKs    []json.RawMessage
	jwksDown     bool
	jwksEmpty    bool
	sectorStatus int
	sectorURIs   []string
	delay        time.Duration
}

// NewADR starts a simulated ADR on 127.0.0.1 with a certificate from ca, an
// RSA-2048 PS256 key and an EC P-256 ES256 key (kids are RFC 7638
// thumbprints), and fresh random legal entity and brand IDs. name is its brand
// name; its legal entity is named name+" Pty Ltd".
func NewADR(ca *CA, name string) (*ADR, error) {
	a := &ADR{
		name:          name,
		brandID:       uuid.NewString(),
		legalEntityID: uuid.NewString(),
		sectorStatus:  http.StatusOK,
	}
	if err := a.RotateKeys(); err != nil {
		return nil, err
	}
	srv, err := newServer(ca)
	if err != nil {
		return nil, err
	}
	a.srv = srv
	a.sectorURIs = []string{a.RedirectURI(1), a.RedirectURI(2)}
	srv.serve(a.handler())
	return a, nil
}

// Close stops the server and closes its connections.
func (a *ADR) Close() { a.srv.close() }

// Name returns the ADR's brand name.
func (a *ADR) Name() string { return a.name }

// BrandID returns the ID of the ADR's brand (the org_id of its SSAs).
func (a *ADR) BrandID() string { return a.brandID }

// LegalEntityID returns the ID of the ADR's legal entity.
func (a *ADR) LegalEntityID() string { return a.legalEntityID }

// LegalEntityName returns the name of the ADR's legal entity.
func (a *ADR) LegalEntityName() string { return a.name + " Pty Ltd" }

// URL returns the server's base URL, https://127.0.0.1:PORT.
func (a *ADR) URL() string { return a.srv.url }

// JWKSURI returns the URL of the ADR's public keys, URL()+"/jwks".
func (a *ADR) JWKSURI() string { return a.srv.url + "/jwks" }

// ProductJWKSURI returns URL()+"/adr/{productID}/jwks": the ADR's keys under
// a URL of the product's own, so that a holder sees as many JWKS URIs as there
// are products (load tests with a real-sized Register) while one listener
// serves them all.
func (a *ADR) ProductJWKSURI(productID string) string {
	return a.srv.url + "/adr/" + url.PathEscape(productID) + "/jwks"
}

// SectorIdentifierURI returns URL()+"/sector-identifier", which answers a JSON
// array of the ADR's redirect URIs.
func (a *ADR) SectorIdentifierURI() string { return a.srv.url + "/sector-identifier" }

// RedirectURI returns the ADR's n-th redirect URI, URL()+"/callback/n".
func (a *ADR) RedirectURI(n int) string { return fmt.Sprintf("%s/callback/%d", a.srv.url, n) }

// SetJWKSDown makes /jwks answer 503 while down is true.
func (a *ADR) SetJWKSDown(down bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.jwksDown = down
}

// SetJWKSEmpty makes /jwks answer {"keys":[]} while empty is true.
func (a *ADR) SetJWKSEmpty(empty bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.jwksEmpty = empty
}

// SetSectorStatus sets the HTTP status of /sector-identifier (200 by default;
// 0 restores it). Codes outside 100-999 are served as 500.
func (a *ADR) SetSectorStatus(code int) {
	switch {
	case code == 0:
		code = http.StatusOK
	case code < 100 || code > 999:
		code = http.StatusInternalServerError
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sectorStatus = code
}

// SetSectorRedirectURIs replaces the redirect URIs listed by
// /sector-identifier (RedirectURI(1) and RedirectURI(2) by default).
func (a *ADR) SetSectorRedirectURIs(uris []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sectorURIs = slices.Clone(uris)
}

// SetDelay makes every response wait d first (0 disables), for timeout tests.
func (a *ADR) SetDelay(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.delay = d
}

// Requests returns how many requests the exact URL path (for instance
// "/jwks") has received.
func (a *ADR) Requests(path string) int { return a.requests.get(path) }

// RotateKeys replaces both signing keys with new ones with new kids. The JWKS
// publishes only the new keys from then on.
func (a *ADR) RotateKeys() error {
	rk, rkid, err := newRSAKey()
	if err != nil {
		return err
	}
	ek, ekid, err := newECKey()
	if err != nil {
		return err
	}
	rpub, err := publicJWK(&rk.PublicKey, rkid, jwa.PS256)
	if err != nil {
		return err
	}
	epub, err := publicJWK(&ek.PublicKey, ekid, jwa.ES256)
	if err != nil {
		return err
	}
	body, err := marshalJWKS(rpub, epub)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rsaKey, a.rsaKID, a.ecKey, a.ecKID, a.jwks = rk, rkid, ek, ekid, body
	return nil
}

// RSAKeyID returns the kid of the current PS256 key.
func (a *ADR) RSAKeyID() string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.rsaKID
}

// ECKeyID returns the kid of the current ES256 key.
func (a *ADR) ECKeyID() string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.ecKID
}

// NewProduct returns an ACTIVE product wired to this ADR: a random ID when id
// is empty, redirect URIs RedirectURI(1) and RedirectURI(2), JWKSURI(),
// DefaultScope, and client, logo, terms, policy, revocation and recipient base
// URIs under URL()/products/{id}. SectorIdentifierURI is left empty. The
// product is not registered anywhere; see NewLegalEntity and
// Register.AddLegalEntity.
func (a *ADR) NewProduct(id, name string) *Product {
	if id == "" {
		id = uuid.NewString()
	}
	if name == "" {
		name = a.name + " app"
	}
	base := a.srv.url + "/products/" + id
	return &Product{
		ID:               id,
		Name:             name,
		Description:      "Simulated CDR data recipient software product " + name,
		Status:           StatusActive,
		LogoURI:          base + "/logo.svg",
		ClientURI:        base,
		TOSURI:           base + "/terms",
		PolicyURI:        base + "/policy",
		RevocationURI:    base + "/revoke",
		RecipientBaseURI: base,
		RedirectURIs:     []string{a.RedirectURI(1), a.RedirectURI(2)},
		Scope:            DefaultScope,
		JWKSURI:          a.JWKSURI(),
		adr:              a,
	}
}

// NewLegalEntity returns the ADR's ACTIVE legal entity with its one ACTIVE
// brand holding products, ready for Register.AddLegalEntity.
func (a *ADR) NewLegalEntity(products ...*Product) LegalEntity {
	return LegalEntity{
		ID:                  a.legalEntityID,
		Name:                a.LegalEntityName(),
		Status:              StatusActive,
		AccreditationNumber: "ADRBNK" + strings.ToUpper(strings.ReplaceAll(a.legalEntityID, "-", "")[:6]),
		AccreditationLevel:  "UNRESTRICTED",
		LogoURI:             a.srv.url + "/logo.svg",
		Brands: []*Brand{{
			ID:       a.brandID,
			Name:     a.name,
			Status:   StatusActive,
			LogoURI:  a.srv.url + "/logo.svg",
			Products: products,
		}},
	}
}

// RequestClaims returns the claims of a valid CDR registration request for
// ssa addressed to audience (the holder's issuer): iss softwareID (the SSA's
// software_id when empty), iat now, exp now+5m, a random jti, the metadata the
// CDR profile requires (private_key_jwt, PS256 everywhere, all three grant
// types, response type "code", application type "web") and the SSA's
// redirect_uris. The map is the caller's to edit.
func (a *ADR) RequestClaims(ssa, audience string, softwareID string) map[string]any {
	now := time.Now()
	claims := map[string]any{
		"iss":                               softwareID,
		"aud":                               audience,
		"iat":                               now.Unix(),
		"exp":                               now.Add(requestLifetime).Unix(),
		"jti":                               uuid.NewString(),
		"software_statement":                ssa,
		"token_endpoint_auth_method":        "private_key_jwt",
		"token_endpoint_auth_signing_alg":   string(jwa.PS256),
		"id_token_signed_response_alg":      string(jwa.PS256),
		"grant_types":                       []any{"client_credentials", "authorization_code", "refresh_token"},
		"response_types":                    []any{"code"},
		"authorization_signed_response_alg": string(jwa.PS256),
		"request_object_signing_alg":        string(jwa.PS256),
		"application_type":                  "web",
	}
	if ssaClaims, err := UnverifiedClaims(ssa); err == nil {
		if uris, ok := ssaClaims["redirect_uris"].([]any); ok {
			claims["redirect_uris"] = slices.Clone(uris)
		}
		if id, ok := ssaClaims["software_id"].(string); ok && softwareID == "" {
			claims["iss"] = id
		}
	}
	return claims
}

// AssertionClaims returns the claims of a private_key_jwt client assertion:
// iss and sub clientID, aud audience, iat now, exp now+2m and a random jti.
func (a *ADR) AssertionClaims(clientID, audience string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": clientID,
		"sub": clientID,
		"aud": audience,
		"iat": now.Unix(),
		"exp": now.Add(assertionLifetime).Unix(),
		"jti": uuid.NewString(),
	}
}

// ClientAssertion signs AssertionClaims(clientID, audience) like SignRequest.
func (a *ADR) ClientAssertion(clientID, audience string, alg jwa.SignatureAlgorithm) (string, error) {
	return a.SignRequest(a.AssertionClaims(clientID, audience), alg)
}

// SignRequest signs claims with the ADR's key for alg (RS* and PS* use the
// RSA key, ES256 the EC key; anything else is an error) with header
// {"alg", "kid", "typ":"JWT"}.
func (a *ADR) SignRequest(claims map[string]any, alg jwa.SignatureAlgorithm) (string, error) {
	key, kid := a.keyFor(alg)
	if key == nil {
		return "", fmt.Errorf("cdrsim: ADR has no key for %s", alg)
	}
	return signCompact(alg, key, map[string]any{"alg": string(alg), "kid": kid, "typ": "JWT"}, claims)
}

// SignWith signs claims with alg and key under header {"alg", "typ":"JWT"}
// plus "kid" when kid is not empty, for hostile tests: "none" (an unsigned
// "header.payload." token), HS256 keyed with public key bytes, a key absent
// from the JWKS, a kid naming another key, and so on. A nil key means the
// ADR's own key for alg (RSA for RS*/PS*, EC for ES256).
func (a *ADR) SignWith(alg jwa.SignatureAlgorithm, key any, kid string, claims map[string]any) (string, error) {
	if key == nil {
		key, _ = a.keyFor(alg)
	}
	header := map[string]any{"alg": string(alg), "typ": "JWT"}
	if kid != "" {
		header["kid"] = kid
	}
	return signCompact(alg, key, header, claims)
}

// keyFor returns the ADR's private key and kid for alg, or nil.
func (a *ADR) keyFor(alg jwa.SignatureAlgorithm) (any, string) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	switch {
	case isRSAAlg(alg):
		return a.rsaKey, a.rsaKID
	case alg == jwa.ES256:
		return a.ecKey, a.ecKID
	}
	return nil, ""
}
