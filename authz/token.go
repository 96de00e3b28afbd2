// Package authz is the Data Holder's own authorization server for the DCR
// management endpoints: the token endpoint (client_credentials with
// private_key_jwt), the verification of the access tokens it issued
// (AccessVerifier, the authorization order of cdr-dcr.md), and the holder's
// signing keys (KeyRing, rotation). It uses dcr's typed errors and audit
// helpers; dcr never imports it.
package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/register"
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
	adrKeys       dcr.KeySource
	products      ProductLookup
	audit         dcr.Auditor
	log           *slog.Logger
	Now           func() time.Time
	tally         tokenTally // what it answered, for monitoring (tally.go)
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

// ProductLookup answers the Register status of a software product from the
// last synced copy, without waiting on the Register. *register.Data implements it.
type ProductLookup interface {
	Product(softwareProductID string) (register.ProductStatus, bool)
}

// NewTokenService wires the token endpoint.
func NewTokenService(cfg TokenConfig, db *store.DB, keys *KeyRing, adrKeys dcr.KeySource, products ProductLookup, a dcr.Auditor, log *slog.Logger) *TokenService {
	return &TokenService{issuer: cfg.Issuer, tokenEndpoint: cfg.TokenEndpoint, ttl: cfg.TTL, skew: cfg.ClockSkew,
		checkStatus: cfg.CheckStatus, mtls: cfg.MTLS, db: db, keys: keys, adrKeys: adrKeys, products: products,
		audit: a, log: log, Now: time.Now}
}

func tokenError(status int, code, desc, detail string, args ...any) *dcr.Error {
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	return &dcr.Error{Status: status, Code: code, Description: desc, Step: dcr.StepToken, Detail: detail}
}

// tokenServerError is a failure on our side while issuing a token: the client
// is told to try again, the detail goes to the audit log.
func tokenServerError(detail string, args ...any) *dcr.Error {
	return tokenError(http.StatusInternalServerError, dcr.CodeServerError, "The server could not issue a token; try again later.", detail, args...)
}

// tokenAttempt is what one POST /token established, filled in step by step by
// authenticate and grant. Issue alone turns it into the audit event and the
// transaction.
type tokenAttempt struct {
	jti    string        // the assertion's jti, audited as soon as the assertion parses
	client *store.Client // known from the signature check on, audited even when refused
	now    time.Time     // when the assertion was checked: the token's iat
	exp    time.Time     // the assertion's expiry: how long its jti is remembered
	// authenticated is set when the assertion passed every check, replay
	// included: its jti is then consumed whatever the grant's outcome.
	authenticated bool
	resp          *TokenResponse // the granted token
}

// Issue authenticates the client by its assertion and issues an access token.
func (s *TokenService) Issue(ctx context.Context, r TokenRequest) (*TokenResponse, *dcr.Error) {
	start := time.Now()
	a, derr := s.authenticate(ctx, r)
	if derr == nil {
		derr = s.grant(&a, r)
	}
	took := time.Since(start)
	ev := s.event(r, a, derr, took)
	err := s.commit(ctx, a, derr, ev)
	if errors.Is(err, store.ErrReplay) {
		// A concurrent request used the same assertion first.
		derr = tokenError(http.StatusBadRequest, CodeInvalidClient, "The client assertion has already been used", "assertion jti %q replayed concurrently", a.jti)
		s.recordRefusal(ctx, s.event(r, a, derr, took))
		return nil, derr
	}
	if err != nil {
		s.log.Error("token: store", "request_id", r.RequestID, "error", err)
		derr = tokenServerError("store: %v", err)
		s.tally.failed(derr)
		return nil, derr
	}
	s.tally.counted(ev)
	return a.resp, derr
}

// event is the audit event of attempt a, refused by derr when it is not nil.
func (s *TokenService) event(r TokenRequest, a tokenAttempt, derr *dcr.Error, took time.Duration) *store.AuditEvent {
	ev := &store.AuditEvent{Type: store.EventTokenIssue, RemoteAddr: r.RemoteAddr, CertThumbprint: r.CertThumbprint,
		RequestID: r.RequestID, DurationUS: took.Microseconds(), JTI: a.jti}
	if c := a.client; c != nil {
		ev.ClientID, ev.SoftwareID, ev.OrgID = c.ID, c.SoftwareID, c.OrgID
		ev.Actor = "client:" + c.ID
	}
	if derr != nil {
		dcr.AuditRefusal(ev, derr)
		ev.Data = tokenData(r)
		return ev
	}
	ev.Outcome = store.OutcomeSuccess
	ev.Data = fmt.Sprintf(`{"scope":%q,"expires_in":%d}`, a.resp.Scope, a.resp.ExpiresIn)
	return ev
}

// commit writes the attempt in one transaction: the assertion's jti consumed
// once it authenticated (a replay of it then fails a success with
// store.ErrReplay), the client's last token time on success, and ev.
func (s *TokenService) commit(ctx context.Context, a tokenAttempt, derr *dcr.Error, ev *store.AuditEvent) error {
	now := s.Now().UTC()
	return s.db.Tx(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		if a.authenticated {
			// A replay only matters to a success; a refusal is recorded anyway.
			err := store.ConsumeJTI(tx, store.JTIClientAssertion, a.client.ID+"\x00"+a.jti, a.exp)
			if err != nil && (derr == nil || !errors.Is(err, store.ErrReplay)) {
				return err
			}
		}
		if derr == nil {
			if err := store.TouchLastToken(tx, a.client.ID, now); err != nil {
				return err
			}
		}
		return s.audit.Append(tx, ev)
	})
}
