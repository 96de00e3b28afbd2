package dcr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dcrconsole/dcrconsole/fetch"
	"github.com/dcrconsole/dcrconsole/jose"
	"github.com/dcrconsole/dcrconsole/register"
	"github.com/dcrconsole/dcrconsole/store"
)

// KeySource verifies a JWT with an ADR's or the Register's public signing key
// from a JWKS and returns the key that verified it. *fetch.JWKSCache implements it
// (see fetch.JWKSCache.VerifyJWT); errors are *fetch.JWKSLoadError, or wrap fetch.ErrKeyNotFound
// or fetch.ErrSignature.
type KeySource interface {
	VerifyJWT(ctx context.Context, uri string, t *jose.JWT, anyFitting bool) (jwk.Key, error)
}

// ProductDirectory knows the Register's status of software products. *register.Data implements it.
type ProductDirectory interface {
	LookupRefreshing(ctx context.Context, softwareProductID string) (register.ProductStatus, bool, error)
}

// BlockList answers whether the Data Holder has blocked a software product.
type BlockList interface {
	SoftwareBlock(ctx context.Context, softwareID string) (*store.BlockedSoftware, error)
}

// JTILedger answers whether a registration request's jti has been used.
type JTILedger interface {
	JTIUsed(ctx context.Context, kind, jti string) (bool, error)
}

// DocumentFetcher fetches a URL named in an SSA (sector_identifier_uri). *fetch.Fetcher implements it.
type DocumentFetcher interface {
	Get(ctx context.Context, rawURL string, header http.Header) (*fetch.Response, error)
}

// PipelineConfig is the part of the holder's configuration the pipeline reads.
type PipelineConfig struct {
	Issuer                 string
	ScopesSupported        []string
	ResponseTypesSupported []string
	JARMEncryption         bool
	ClockSkew              time.Duration
	CheckStatus            bool
	RegisterJWKSURI        string
}

// Pipeline validates registration requests in the order of cdr-dcr.md. It is
// safe for concurrent use and writes nothing: storing is the Registrar's job.
type Pipeline struct {
	cfg          PipelineConfig
	rules        metadataRules
	scopes       map[string]bool
	registerKeys KeySource
	adrKeys      KeySource
	products     ProductDirectory
	jtis         JTILedger
	blocks       BlockList
	docs         DocumentFetcher
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// NewPipeline wires a pipeline. products may be nil when status checks are off.
func NewPipeline(cfg PipelineConfig, registerKeys, adrKeys KeySource, products ProductDirectory, jtis JTILedger, blocks BlockList, docs DocumentFetcher) *Pipeline {
	scopes := make(map[string]bool, len(cfg.ScopesSupported))
	for _, s := range cfg.ScopesSupported {
		scopes[s] = true
	}
	return &Pipeline{
		cfg:          cfg,
		rules:        metadataRules{responseTypesSupported: cfg.ResponseTypesSupported, jarmEncryption: cfg.JARMEncryption},
		scopes:       scopes,
		registerKeys: registerKeys,
		adrKeys:      adrKeys,
		products:     products,
		jtis:         jtis,
		blocks:       blocks,
		docs:         docs,
		Now:          time.Now,
	}
}

// Registration is what the pipeline learnt from an attempt. On a rejected attempt
// it holds whatever was decoded before the failure, for the audit log.
type Registration struct {
	Request *jose.JWT // nil for RFC 7591 JSON
	SSA     *jose.JWT
	// SSAKeyID is the Register key that verified the SSA; RequestKeyID the ADR key.
	SSAKeyID     string
	RequestKeyID string
	SoftwareID   string
	OrgID        string
	// JTI is the request's jti, set once its signature verified (so it may be consumed).
	JTI        string
	JTIExpires time.Time
	Product    *register.ProductStatus
	Metadata   Metadata
}

// Validate runs steps 1 to 12 on a registration request JWT. It returns the
// registration and nil, or what it knew and the first failure.
func (p *Pipeline) Validate(ctx context.Context, body []byte) (*Registration, *Error) {
	o := p.check(ctx, body, false, nil)
	return o.s.reg, o.err
}

// ValidateMetadata runs the pipeline on RFC 7591 client metadata (a JSON object
// handed over by a trusted authorization server through the processing API): the
// software_statement is verified exactly as in Validate and its claims take
// precedence; there is no request signature, so no iss/aud/jti checks (steps 7
// and 8 do not apply: they are JWTOnly in the table).
func (p *Pipeline) ValidateMetadata(ctx context.Context, body []byte) (*Registration, *Error) {
	o := p.check(ctx, body, true, nil)
	return o.s.reg, o.err
}

// stepParse is step 1: the body is a compact JWS, or a JSON object for RFC 7591 metadata.
func (p *Pipeline) stepParse(_ context.Context, s *state) *Error {
	if !s.jwt {
		var claims map[string]any
		if err := jose.DecodeObject(s.body, &claims); err != nil {
			return fail(StepRequest, CodeInvalidClientMetadata, DescRequestEmpty, "client metadata is not a JSON object: %v", err)
		}
		if derr := refuseNUL(StepRequest, "client metadata", claims); derr != nil {
			return derr
		}
		s.claims = claims
		return nil
	}
	req, err := jose.ParseJWT(strings.TrimSpace(string(s.body)))
	if err != nil {
		return fail(StepRequest, CodeInvalidClientMetadata, DescRequestEmpty, "request is not a compact JWS: %v", err)
	}
	if derr := refuseNUL(StepRequest, "request", req.Claims); derr != nil {
		return derr
	}
	s.reg.Request, s.claims = req, claimSource(req.Claims)
	return nil
}

// stepSoftwareStatement is step 2: the software_statement is present and parses.
// In CheckSSA there are no claims: the SSA was given on its own.
func (p *Pipeline) stepSoftwareStatement(_ context.Context, s *state) *Error {
	if s.claims != nil {
		raw, _, ok := s.claims.str("software_statement")
		if !ok {
			return fail(StepSoftwareStmt, CodeInvalidSoftwareStatement, DescSSAEmpty, "software_statement claim is missing or not a string")
		}
		s.ssaRaw = raw
	}
	ssa, err := jose.ParseJWT(s.ssaRaw)
	if err != nil {
		return fail(StepSoftwareStmt, CodeInvalidSoftwareStatement, DescSSAEmpty, "software_statement is not a compact JWS: %v", err)
	}
	if derr := refuseNUL(StepSoftwareStmt, "SSA", ssa.Claims); derr != nil {
		return derr
	}
	s.reg.SSA = ssa
	s.reg.SoftwareID, _ = ssa.String("software_id")
	s.reg.OrgID, _ = ssa.String("org_id")
	return nil
}

// stepRegisterJWKS is step 3: the Register JWKS loads. It verifies the SSA on
// the way; step 4 judges the result.
func (p *Pipeline) stepRegisterJWKS(ctx context.Context, s *state) *Error {
	// The Register names its key: no trying of several keys for an SSA.
	key, err := p.registerKeys.VerifyJWT(ctx, p.cfg.RegisterJWKSURI, s.reg.SSA, false)
	var loadErr *fetch.JWKSLoadError
	if errors.As(err, &loadErr) {
		return fail(StepRegisterJWKS, CodeInvalidSoftwareStatement, fmt.Sprintf(DescRegisterJWKS, p.cfg.RegisterJWKSURI), "%v", err)
	}
	s.ssaKey, s.ssaKeyErr = key, err
	return nil
}

// stepSSA is step 4: the SSA is signed by the Register, current, and complete.
func (p *Pipeline) stepSSA(_ context.Context, s *state) *Error {
	ssa := s.reg.SSA
	if errors.Is(s.ssaKeyErr, fetch.ErrKeyNotFound) {
		return fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA kid %q: %v", ssa.KeyID(), s.ssaKeyErr)
	}
	if s.ssaKeyErr != nil {
		return fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA: %v", s.ssaKeyErr)
	}
	s.reg.SSAKeyID = s.ssaKey.KeyID()
	c := ssaClaims(ssa.Claims)
	// Verified, so later steps may read its claims even if a check below
	// fails: only a run that goes on after a failure (a replay) reaches them.
	s.ssa = c
	if iss, _ := ssa.String("iss"); iss != "cdr-register" {
		return fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA iss is %q, want \"cdr-register\"", iss)
	}
	if _, err := jose.CheckTimes(ssa.Claims, p.Now(), p.cfg.ClockSkew, true); err != nil {
		return fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA %v", err)
	}
	if err := c.complete(); err != nil {
		return fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA %v", err)
	}
	return nil
}

// skipRegisterStatus says why step 5 does not run, if it does not.
func skipRegisterStatus(p *Pipeline, _ *state) string {
	if !p.cfg.CheckStatus || p.products == nil {
		return "Register status checks are off (register.check_status)"
	}
	return ""
}

// stepRegisterStatus is step 5: the product, its brand and its legal entity are ACTIVE.
func (p *Pipeline) stepRegisterStatus(ctx context.Context, s *state) *Error {
	reg := s.reg
	ps, found, err := p.products.LookupRefreshing(ctx, reg.SoftwareID)
	if !found {
		detail := fmt.Sprintf("software product %s is not in the Register data, even after a refresh", reg.SoftwareID)
		if err != nil {
			detail += fmt.Sprintf(" (refresh failed: %v)", err)
		}
		return fail(StepRegisterStatus, CodeUnapprovedSoftwareStatement, DescProductNotFound, detail)
	}
	reg.Product = &ps
	if status, level := ps.EffectiveStatus(); status != "ACTIVE" {
		return fail(StepRegisterStatus, CodeUnapprovedSoftwareStatement, fmt.Sprintf(DescProductStatus, status),
			"%s is %s in the Register data", register.StatusSubject(level, reg.SoftwareID), status)
	}
	return nil
}

// stepBlocked is step 5b: an operator of this Data Holder has not blocked the product.
func (p *Pipeline) stepBlocked(ctx context.Context, s *state) *Error {
	if p.blocks == nil {
		return nil
	}
	b, err := p.blocks.SoftwareBlock(ctx, s.reg.SoftwareID)
	if err != nil {
		return internalError("block lookup: %v", err)
	}
	if b != nil {
		return fail(StepBlocked, CodeUnapprovedSoftwareStatement, DescSoftwareBlocked,
			"software product %s was blocked by %s at %s: %s", s.reg.SoftwareID, b.BlockedBy, b.CreatedAt.UTC().Format(time.RFC3339), b.Reason)
	}
	return nil
}

// stepJWKSURI is step 6.
func (p *Pipeline) stepJWKSURI(_ context.Context, s *state) *Error {
	uri, derr := ssaJWKSURI(s.ssa)
	s.jwksURI = uri
	return derr
}

// ssaJWKSURI is the SSA's jwks_uri when it is an absolute https URL.
func ssaJWKSURI(c ssaClaims) (string, *Error) {
	raw, _ := c["jwks_uri"].(string)
	u, err := url.Parse(raw)
	if raw == "" || err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", fail(StepJWKSURI, CodeInvalidClientMetadata, DescJWKSURIInvalid, "SSA jwks_uri %q is not an absolute https URL", raw)
	}
	return raw, nil
}
