package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dcrconsole/dcrconsole/store"
)

// Token endpoint constants.
const (
	GrantClientCredentials = "client_credentials"
	AssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	ScopeRegistration      = "cdr:registration"
	TypeAccessToken        = "at+jwt"

	CodeInvalidClient        = "invalid_client"
	CodeInvalidScope         = "invalid_scope"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeAdrStatusNotActive   = "urn:au-cds:error:cds-all:Authorisation/AdrStatusNotActive"
)

// StepToken is the audit step of token endpoint failures.
const StepToken Step = "token"

// TokenRequest is a POST /token call.
type TokenRequest struct {
	GrantType           string
	ClientAssertionType string
	ClientAssertion     string
	Scope               string
	ScopePresent        bool
	ClientID            string
	CertThumbprint      string
	RemoteAddr          string
	RequestID           string
}

// TokenResponse is the token endpoint's success body.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// AccessTokenClaims are the claims of the holder's access tokens.
type AccessTokenClaims struct {
	Issuer   string            `json:"iss"`
	Audience string            `json:"aud"`
	Subject  string            `json:"sub"`
	ClientID string            `json:"client_id"`
	Scope    string            `json:"scope"`
	IssuedAt int64             `json:"iat"`
	Expires  int64             `json:"exp"`
	JTI      string            `json:"jti"`
	Cnf      map[string]string `json:"cnf,omitempty"`
}

// TokenService is POST /token: client_credentials with private_key_jwt.
type TokenService struct {
	issuer        string
	tokenEndpoint string
	ttl           time.Duration
	skew          time.Duration
	checkStatus   bool
	mtls          bool
	db            *store.DB
	keys          *KeyRing
	adrKeys       KeySource
	products      interface {
		Product(id string) (ProductStatus, bool)
	}
	audit Auditor
	log   *slog.Logger
	Now   func() time.Time
}

// TokenConfig configures the token service.
type TokenConfig struct {
	Issuer        string
	TokenEndpoint string
	TTL           time.Duration
	ClockSkew     time.Duration
	CheckStatus   bool
	MTLS          bool
}

// NewTokenService wires the token endpoint.
func NewTokenService(cfg TokenConfig, db *store.DB, keys *KeyRing, adrKeys KeySource, products *RegisterData, a Auditor, log *slog.Logger) *TokenService {
	return &TokenService{issuer: cfg.Issuer, tokenEndpoint: cfg.TokenEndpoint, ttl: cfg.TTL, skew: cfg.ClockSkew,
		checkStatus: cfg.CheckStatus, mtls: cfg.MTLS, db: db, keys: keys, adrKeys: adrKeys, products: products,
		audit: a, log: log, Now: time.Now}
}

func tokenError(status int, code, desc, detail string, args ...any) *Error {
	e := fail(StepToken, code, desc, detail, args...)
	e.Status = status
	return e
}

// Issue authenticates the client by its assertion and issues an access token.
func (s *TokenService) Issue(ctx context.Context, r TokenRequest) (*TokenResponse, *Error) {
	start := time.Now()
	ev := &store.AuditEvent{Type: store.EventTokenIssue, RemoteAddr: r.RemoteAddr, CertThumbprint: r.CertThumbprint, RequestID: r.RequestID}
	resp, client, jti, exp, derr := s.issue(ctx, r, ev)
	ev.DurationUS = time.Since(start).Microseconds()
	if client != nil {
		ev.ClientID, ev.SoftwareID, ev.OrgID = client.ID, client.SoftwareID, client.OrgID
		ev.Actor = "client:" + client.ID
	}
	if jti != "" {
		ev.JTI = jti
	}
	now := s.Now().UTC()
	if derr != nil {
		auditRefusal(ev, derr)
		ev.Data = tokenData(r)
	} else {
		ev.Outcome = store.OutcomeSuccess
		ev.Data = fmt.Sprintf(`{"scope":%q,"expires_in":%d}`, resp.Scope, resp.ExpiresIn)
	}
	err := s.db.Tx(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		if jti != "" && client != nil {
			err := store.ConsumeJTI(tx, store.JTIClientAssertion, client.ID+"\x00"+jti, exp)
			if errors.Is(err, store.ErrReplay) && derr == nil {
				return err
			} else if err != nil && !errors.Is(err, store.ErrReplay) {
				return err
			}
		}
		if derr == nil {
			if err := store.TouchLastToken(tx, client.ID, now); err != nil {
				return err
			}
		}
		return s.audit.Append(tx, ev)
	})
	if errors.Is(err, store.ErrReplay) {
		// A concurrent request used the same assertion first.
		derr = tokenError(http.StatusBadRequest, CodeInvalidClient, "The client assertion has already been used", "assertion jti %q replayed concurrently", jti)
		auditRefusal(ev, derr)
		ev.Data = tokenData(r)
		if err := s.audit.Record(context.WithoutCancel(ctx), ev); err != nil {
			s.log.Error("audit: token refusal not recorded", "request_id", r.RequestID, "error", err)
		}
		return nil, derr
	}
	if err != nil {
		s.log.Error("token: store", "request_id", r.RequestID, "error", err)
		return nil, tokenError(http.StatusInternalServerError, CodeServerError, "The server could not issue a token; try again later.", "store: %v", err)
	}
	return resp, derr
}

func (s *TokenService) issue(ctx context.Context, r TokenRequest, ev *store.AuditEvent) (*TokenResponse, *store.Client, string, time.Time, *Error) {
	bad := func(code, desc, detail string, args ...any) *Error {
		return tokenError(http.StatusBadRequest, code, desc, detail, args...)
	}
	if s.mtls && r.CertThumbprint == "" {
		return nil, nil, "", time.Time{}, &Error{Status: http.StatusForbidden, Code: "client_certificate_required",
			Description: "ERR-MTLS-002: No client certificate was found on request", Step: StepTransport}
	}
	switch {
	case r.GrantType == "":
		return nil, nil, "", time.Time{}, bad(CodeInvalidRequest, "grant_type is required", "no grant_type")
	case r.GrantType != GrantClientCredentials:
		return nil, nil, "", time.Time{}, bad(CodeUnsupportedGrantType, "Only client_credentials is supported", "grant_type %q", r.GrantType)
	case r.ClientAssertionType == "" || r.ClientAssertion == "":
		return nil, nil, "", time.Time{}, bad(CodeInvalidClient, "client_assertion_type and client_assertion are required (private_key_jwt)", "assertion missing")
	case r.ClientAssertionType != AssertionTypeJWTBearer:
		return nil, nil, "", time.Time{}, bad(CodeInvalidClient, "client_assertion_type must be "+AssertionTypeJWTBearer, "client_assertion_type %q", r.ClientAssertionType)
	}
	assertion, err := ParseJWT(r.ClientAssertion)
	if err != nil {
		return nil, nil, "", time.Time{}, bad(CodeInvalidClient, "The client assertion is not a valid JWT", "%v", err)
	}
	iss, _ := assertion.String("iss")
	sub, _ := assertion.String("sub")
	jti, _ := assertion.String("jti")
	ev.JTI = jti
	if iss == "" || iss != sub {
		return nil, nil, "", time.Time{}, bad(CodeInvalidClient, "The client assertion's iss and sub must both be the client_id", "iss %q sub %q", iss, sub)
	}
	if r.ClientID != "" && r.ClientID != iss {
		return nil, nil, "", time.Time{}, bad(CodeInvalidClient, "client_id does not match the client assertion", "client_id %q, assertion iss %q", r.ClientID, iss)
	}
	client, err := s.db.GetClient(ctx, iss)
	if errors.Is(err, store.ErrNotFound) || (err == nil && client.Status != store.StatusActive) {
		detail := "unknown client " + iss
		if client != nil {
			detail = fmt.Sprintf("client %s is %s", iss, client.Status)
		}
		return nil, nil, "", time.Time{}, bad(CodeInvalidClient, "The client is unknown", "%s", detail)
	}
	if err != nil {
		return nil, nil, "", time.Time{}, tokenError(http.StatusInternalServerError, CodeServerError, "The server could not issue a token; try again later.", "client lookup: %v", err)
	}
	// Without a kid every key of the client that fits the alg is tried
	// (standard client libraries omit kid by default).
	if _, err := s.adrKeys.VerifyJWT(ctx, client.JWKSURI, assertion, true); errors.Is(err, ErrSignature) {
		return nil, client, "", time.Time{}, bad(CodeInvalidClient, "The client assertion could not be verified", "%v", err)
	} else if err != nil {
		return nil, client, "", time.Time{}, bad(CodeInvalidClient, "The client assertion could not be verified", "key %q at %s: %v", assertion.KeyID(), client.JWKSURI, err)
	}
	now := s.Now()
	if _, present := assertion.Claims["exp"]; !present {
		return nil, client, "", time.Time{}, bad(CodeInvalidClient, "The client assertion has no exp", "exp missing")
	}
	exp, err := checkTimes(assertion.Claims, now, s.skew, false)
	if err != nil {
		return nil, client, "", time.Time{}, bad(CodeInvalidClient, "The client assertion is expired or not yet valid", "%v", err)
	}
	if aud := assertion.Claims["aud"]; !audienceContains(aud, s.issuer) && !audienceContains(aud, s.tokenEndpoint) {
		return nil, client, "", time.Time{}, bad(CodeInvalidClient, "The client assertion's aud must be the issuer or the token endpoint", "aud %v", aud)
	}
	if jti == "" {
		return nil, client, "", time.Time{}, bad(CodeInvalidClient, "The client assertion has no jti", "jti missing")
	}
	if used, err := s.db.JTIUsed(ctx, store.JTIClientAssertion, client.ID+"\x00"+jti); err != nil {
		return nil, client, "", time.Time{}, tokenError(http.StatusInternalServerError, CodeServerError, "The server could not issue a token; try again later.", "jti lookup: %v", err)
	} else if used {
		return nil, client, "", time.Time{}, bad(CodeInvalidClient, "The client assertion has already been used", "assertion jti %q replayed", jti)
	}
	if s.checkStatus {
		if derr := s.productActive(client); derr != nil {
			return nil, client, jti, exp, derr
		}
	}
	scope, derr := grantedScope(r, client.Scope)
	if derr != nil {
		return nil, client, jti, exp, derr
	}
	at := AccessTokenClaims{Issuer: s.issuer, Audience: s.issuer, Subject: client.ID, ClientID: client.ID, Scope: scope,
		IssuedAt: now.Unix(), Expires: now.Add(s.ttl).Unix(), JTI: uuid.NewString()}
	if s.mtls {
		at.Cnf = map[string]string{"x5t#S256": r.CertThumbprint}
	}
	token, err := s.keys.Sign(at, TypeAccessToken)
	if err != nil {
		return nil, client, jti, exp, tokenError(http.StatusInternalServerError, CodeServerError, "The server could not issue a token; try again later.", "sign: %v", err)
	}
	if exp.IsZero() {
		exp = now.Add(time.Hour)
	}
	return &TokenResponse{AccessToken: token, TokenType: "Bearer", ExpiresIn: int64(s.ttl / time.Second), Scope: scope}, client, jti, exp, nil
}

// productActive enforces the Register status of the client's software product.
func (s *TokenService) productActive(c *store.Client) *Error {
	ps, found := s.products.Product(c.SoftwareID)
	if !found {
		return tokenError(http.StatusForbidden, CodeInvalidClient, DescProductNotFound, "software product %s is not in the Register data", c.SoftwareID)
	}
	if status, level := ps.EffectiveStatus(); status != "ACTIVE" {
		return tokenError(http.StatusForbidden, CodeAdrStatusNotActive, fmt.Sprintf(DescProductStatus, status),
			"%s of software product %s is %s", level, c.SoftwareID, status)
	}
	return nil
}

// grantedScope is the requested scope checked against cdr:registration ∩ the
// client's scope; no scope parameter means all of that.
func grantedScope(r TokenRequest, clientScope string) (string, *Error) {
	allowed := ""
	for _, s := range strings.Fields(clientScope) {
		if s == ScopeRegistration {
			allowed = ScopeRegistration
		}
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
