package authz

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/register"
	"github.com/dcrconsole/dcrconsole/store"
)

// grant issues the access token to the authenticated client of a: the Register
// status of its product, the scope, the signed token.
func (s *TokenService) grant(a *tokenAttempt, r TokenRequest) *dcr.Error {
	if s.checkStatus {
		if derr := s.productActive(a.client); derr != nil {
			return derr
		}
	}
	scope, derr := grantedScope(r, a.client.Scope)
	if derr != nil {
		return derr
	}
	at := AccessTokenClaims{Issuer: s.issuer, Audience: s.issuer, Subject: a.client.ID, ClientID: a.client.ID, Scope: scope,
		IssuedAt: a.now.Unix(), Expires: a.now.Add(s.ttl).Unix(), JTI: uuid.NewString()}
	if s.mtls {
		at.Cnf = map[string]string{"x5t#S256": r.CertThumbprint}
	}
	token, err := s.keys.Sign(at, TypeAccessToken)
	if err != nil {
		return tokenServerError("sign: %v", err)
	}
	if a.exp.IsZero() {
		a.exp = a.now.Add(time.Hour)
	}
	a.resp = &TokenResponse{AccessToken: token, TokenType: "Bearer", ExpiresIn: int64(s.ttl / time.Second), Scope: scope}
	return nil
}

// productActive enforces the Register status of the client's software product.
func (s *TokenService) productActive(c *store.Client) *dcr.Error {
	ps, found := s.products.Product(c.SoftwareID)
	if !found {
		return tokenError(http.StatusForbidden, CodeInvalidClient, dcr.DescProductNotFound, "software product %s is not in the Register data", c.SoftwareID)
	}
	if status, level := ps.EffectiveStatus(); status != "ACTIVE" {
		return tokenError(http.StatusForbidden, CodeAdrStatusNotActive, fmt.Sprintf(dcr.DescProductStatus, status),
			"%s is %s", register.StatusSubject(level, c.SoftwareID), status)
	}
	return nil
}

// grantedScope is the requested scope checked against cdr:registration ∩ the
// client's scope; no scope parameter means all of that.
func grantedScope(r TokenRequest, clientScope string) (string, *dcr.Error) {
	allowed := ""
	if slices.Contains(strings.Fields(clientScope), ScopeRegistration) {
		allowed = ScopeRegistration
	}
	if !r.ScopePresent {
		if allowed == "" {
			return "", tokenError(http.StatusBadRequest, CodeInvalidScope, "The client is not registered for the cdr:registration scope", "client scope %q", clientScope)
		}
		return allowed, nil
	}
	requested := strings.Fields(r.Scope)
	if len(requested) == 0 {
		return "", tokenError(http.StatusBadRequest, CodeInvalidScope, "The scope parameter is empty", "scope %q", r.Scope)
	}
	for _, s := range requested {
		if s != allowed {
			return "", tokenError(http.StatusBadRequest, CodeInvalidScope, "The requested scope is not allowed: "+s, "requested %q, allowed %q", r.Scope, allowed)
		}
	}
	return allowed, nil
}
