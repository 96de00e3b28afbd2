package authz

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/fetch"
	"github.com/dcrconsole/dcrconsole/jose"
	"github.com/dcrconsole/dcrconsole/store"
)

func badToken(code, desc, detail string, args ...any) *dcr.Error {
	return tokenError(http.StatusBadRequest, code, desc, detail, args...)
}

// authenticate is private_key_jwt: the form, then the client assertion, which
// must name an active client, be signed by one of its keys, be current, be
// meant for this server and not have been used. The attempt it returns is
// filled as far as the checks got.
func (s *TokenService) authenticate(ctx context.Context, r TokenRequest) (tokenAttempt, *dcr.Error) {
	var a tokenAttempt
	if derr := s.checkForm(r); derr != nil {
		return a, derr
	}
	assertion, err := jose.ParseJWT(r.ClientAssertion)
	if err != nil {
		return a, badToken(CodeInvalidClient, "The client assertion is not a valid JWT", "%v", err)
	}
	iss, _ := assertion.String("iss")
	sub, _ := assertion.String("sub")
	a.jti, _ = assertion.String("jti")
	if iss == "" || iss != sub {
		return a, badToken(CodeInvalidClient, "The client assertion's iss and sub must both be the client_id", "iss %q sub %q", iss, sub)
	}
	if r.ClientID != "" && r.ClientID != iss {
		return a, badToken(CodeInvalidClient, "client_id does not match the client assertion", "client_id %q, assertion iss %q", r.ClientID, iss)
	}
	client, derr := s.activeClient(ctx, iss)
	if derr != nil {
		return a, derr
	}
	a.client = client
	// Without a kid every key of the client that fits the alg is tried
	// (standard client libraries omit kid by default).
	if _, err := s.adrKeys.VerifyJWT(ctx, client.JWKSURI, assertion, true); errors.Is(err, fetch.ErrSignature) {
		return a, badToken(CodeInvalidClient, "The client assertion could not be verified", "%v", err)
	} else if err != nil {
		return a, badToken(CodeInvalidClient, "The client assertion could not be verified", "key %q at %s: %v", assertion.KeyID(), client.JWKSURI, err)
	}
	if derr := s.checkAssertion(ctx, &a, assertion); derr != nil {
		return a, derr
	}
	a.authenticated = true
	return a, nil
}

// checkForm checks the transport and the form: the client certificate under
// mTLS, the grant type and the assertion type.
func (s *TokenService) checkForm(r TokenRequest) *dcr.Error {
	if s.mtls && r.CertThumbprint == "" {
		return &dcr.Error{Status: http.StatusForbidden, Code: "client_certificate_required",
			Description: "ERR-MTLS-002: No client certificate was found on request", Step: dcr.StepTransport}
	}
	switch {
	case r.GrantType == "":
		return badToken(dcr.CodeInvalidRequest, "grant_type is required", "no grant_type")
	case r.GrantType != GrantClientCredentials:
		return badToken(CodeUnsupportedGrantType, "Only client_credentials is supported", "grant_type %q", r.GrantType)
	case r.ClientAssertionType == "" || r.ClientAssertion == "":
		return badToken(CodeInvalidClient, "client_assertion_type and client_assertion are required (private_key_jwt)", "assertion missing")
	case r.ClientAssertionType != AssertionTypeJWTBearer:
		return badToken(CodeInvalidClient, "client_assertion_type must be "+AssertionTypeJWTBearer, "client_assertion_type %q", r.ClientAssertionType)
	}
	return nil
}

// activeClient is the client the assertion names; an unknown client and an
// inactive one get the same refusal.
func (s *TokenService) activeClient(ctx context.Context, id string) (*store.Client, *dcr.Error) {
	if strings.IndexByte(id, 0) >= 0 {
		// No client id holds a NUL, and PostgreSQL refuses one in a query.
		return nil, badToken(CodeInvalidClient, "The client is unknown", "unknown client %q (a NUL character)", id)
	}
	client, err := s.db.GetClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && client.Status != store.StatusActive) {
		detail := "unknown client " + id
		if client != nil {
			detail = fmt.Sprintf("client %s is %s", id, client.Status)
		}
		return nil, badToken(CodeInvalidClient, "The client is unknown", "%s", detail)
	}
	if err != nil {
		return nil, tokenServerError("client lookup: %v", err)
	}
	return client, nil
}

// checkAssertion checks the verified assertion's claims: exp (required), nbf,
// iat, aud, and a jti not used before by this client. It sets a.now and a.exp.
func (s *TokenService) checkAssertion(ctx context.Context, a *tokenAttempt, assertion *jose.JWT) *dcr.Error {
	a.now = s.Now()
	if _, present := assertion.Claims["exp"]; !present {
		return badToken(CodeInvalidClient, "The client assertion has no exp", "exp missing")
	}
	exp, err := jose.CheckTimes(assertion.Claims, a.now, s.skew, false)
	if err != nil {
		return badToken(CodeInvalidClient, "The client assertion is expired or not yet valid", "%v", err)
	}
	if aud := assertion.Claims["aud"]; !jose.AudienceContains(aud, s.issuer) && !jose.AudienceContains(aud, s.tokenEndpoint) {
		return badToken(CodeInvalidClient, "The client assertion's aud must be the issuer or the token endpoint", "aud %v", aud)
	}
	if a.jti == "" {
		return badToken(CodeInvalidClient, "The client assertion has no jti", "jti missing")
	}
	if used, err := s.db.JTIUsed(ctx, store.JTIClientAssertion, a.client.ID+"\x00"+a.jti); err != nil {
		return tokenServerError("jti lookup: %v", err)
	} else if used {
		return badToken(CodeInvalidClient, "The client assertion has already been used", "assertion jti %q replayed", a.jti)
	}
	a.exp = exp
	return nil
}
