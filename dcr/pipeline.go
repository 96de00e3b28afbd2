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

	"github.com/dcrconsole/dcrconsole/store"
)

// KeySource verifies a JWT with an ADR's or the Register's public signing key
// from a JWKS and returns the key that verified it. *JWKSCache implements it
// (see JWKSCache.VerifyJWT); errors are *JWKSLoadError, or wrap ErrKeyNotFound
// or ErrSignature.
type KeySource interface {
	VerifyJWT(ctx context.Context, uri string, t *JWT, anyFitting bool) (jwk.Key, error)
}

// ProductDirectory knows the Register's status of software products. *RegisterData implements it.
type ProductDirectory interface {
	LookupRefreshing(ctx context.Context, softwareProductID string) (ProductStatus, bool, error)
}

// BlockList answers whether the Data Holder has blocked a software product.
type BlockList interface {
	SoftwareBlock(ctx context.Context, softwareID string) (*store.BlockedSoftware, error)
}

// JTILedger answers whether a registration request's jti has been used.
type JTILedger interface {
	JTIUsed(ctx context.Context, kind, jti string) (bool, error)
}

// DocumentFetcher fetches a URL named in an SSA (sector_identifier_uri). *Fetcher implements it.
type DocumentFetcher interface {
	Get(ctx context.Context, rawURL string, header http.Header) (*Response, error)
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
	Request *JWT // nil for RFC 7591 JSON
	SSA     *JWT
	// SSAKeyID is the Register key that verified the SSA; RequestKeyID the ADR key.
	SSAKeyID     string
	RequestKeyID string
	SoftwareID   string
	OrgID        string
	// JTI is the request's jti, set once its signature verified (so it may be consumed).
	JTI        string
	JTIExpires time.Time
	Product    *ProductStatus
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
		if err := decodeObject(s.body, &claims); err != nil {
			return fail(StepRequest, CodeInvalidClientMetadata, DescRequestEmpty, "client metadata is not a JSON object: %v", err)
		}
		s.claims = claims
		return nil
	}
	req, err := ParseJWT(strings.TrimSpace(string(s.body)))
	if err != nil {
		return fail(StepRequest, CodeInvalidClientMetadata, DescRequestEmpty, "request is not a compact JWS: %v", err)
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
	ssa, err := ParseJWT(s.ssaRaw)
	if err != nil {
		return fail(StepSoftwareStmt, CodeInvalidSoftwareStatement, DescSSAEmpty, "software_statement is not a compact JWS: %v", err)
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
	var loadErr *JWKSLoadError
	if errors.As(err, &loadErr) {
		return fail(StepRegisterJWKS, CodeInvalidSoftwareStatement, fmt.Sprintf(DescRegisterJWKS, p.cfg.RegisterJWKSURI), "%v", err)
	}
	s.ssaKey, s.ssaKeyErr = key, err
	return nil
}

// stepSSA is step 4: the SSA is signed by the Register, current, and complete.
func (p *Pipeline) stepSSA(_ context.Context, s *state) *Error {
	ssa := s.reg.SSA
	if errors.Is(s.ssaKeyErr, ErrKeyNotFound) {
		return fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA kid %q: %v", ssa.KeyID(), s.ssaKeyErr)
	}
	if s.ssaKeyErr != nil {
		return fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA: %v", s.ssaKeyErr)
	}
	s.reg.SSAKeyID = s.ssaKey.KeyID()
	if iss, _ := ssa.String("iss"); iss != "cdr-register" {
		return fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA iss is %q, want \"cdr-register\"", iss)
	}
	if _, err := checkTimes(ssa.Claims, p.Now(), p.cfg.ClockSkew, true); err != nil {
		return fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA %v", err)
	}
	c := ssaClaims(ssa.Claims)
	if err := c.complete(); err != nil {
		return fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA %v", err)
	}
	s.ssa = c
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
			"%s of software product %s is %s in the Register data", level, reg.SoftwareID, status)
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

// stepADRJWKS is step 7: the ADR's JWKS loads. It verifies the request on the
// way; step 8 judges the result.
func (p *Pipeline) stepADRJWKS(ctx context.Context, s *state) *Error {
	// Clients built on openid-client, oauth4webapi or authlib send no kid by
	// default: every ADR key that fits the alg is tried.
	key, err := p.adrKeys.VerifyJWT(ctx, s.jwksURI, s.reg.Request, true)
	var loadErr *JWKSLoadError
	if errors.As(err, &loadErr) {
		return fail(StepADRJWKS, CodeInvalidClientMetadata, fmt.Sprintf(DescADRJWKS, s.jwksURI), "%v", err)
	}
	s.adrKey, s.adrKeyErr = key, err
	return nil
}

// stepRequestSignature is step 8.
func (p *Pipeline) stepRequestSignature(ctx context.Context, s *state) *Error {
	return p.verifyRequest(ctx, s.reg.Request, s.adrKey, s.adrKeyErr, s.jwksURI, s.reg)
}

// verifyRequest is step 8. keyErr is the ADR key lookup's or signature check's
// error other than a load failure; key is the key that verified req.
func (p *Pipeline) verifyRequest(ctx context.Context, req *JWT, key jwk.Key, keyErr error, jwksURI string, reg *Registration) *Error {
	bad := func(format string, args ...any) *Error {
		return fail(StepRequestSignature, CodeInvalidClientMetadata, DescRequestInvalid, format, args...)
	}
	if _, ok := allowedSigningAlgs[req.Alg()]; !ok {
		return bad("request alg %q is not allowed (PS256 or ES256)", req.Alg())
	}
	if errors.Is(keyErr, ErrKeyNotFound) {
		return bad("request kid %q: %v", req.KeyID(), keyErr)
	}
	if keyErr != nil {
		return bad("request: %v (jwks_uri %s)", keyErr, jwksURI)
	}
	reg.RequestKeyID = key.KeyID()
	exp, err := checkTimes(req.Claims, p.Now(), p.cfg.ClockSkew, false)
	if err != nil {
		return bad("request %v", err)
	}
	claims := claimSource(req.Claims)
	if iss, present, _ := claims.str("iss"); present && !equalFoldASCII(iss, reg.SoftwareID) {
		return bad("request iss %q is not the SSA software_id %q", iss, reg.SoftwareID)
	}
	if _, present := req.Claims["aud"]; present && !audienceContains(req.Claims["aud"], p.cfg.Issuer) {
		return bad("request aud %v does not contain the issuer %q", req.Claims["aud"], p.cfg.Issuer)
	}
	if v, present := req.Claims["jti"]; present && v != nil {
		if _, isStr := v.(string); !isStr {
			return bad("request jti %v is not a string, so it cannot be held to single use", v)
		}
	}
	if jti, _, ok := claims.str("jti"); ok {
		used, err := p.jtis.JTIUsed(ctx, store.JTIRegistrationRequest, jti)
		if err != nil {
			return internalError("jti lookup: %v", err)
		}
		if used {
			return bad("request jti %q was already used (replay)", jti)
		}
		reg.JTI = jti
		reg.JTIExpires = exp
		if exp.IsZero() {
			reg.JTIExpires = p.Now().Add(24 * time.Hour)
		}
	}
	return nil
}

// stepSectorIdentifier is step 9: the SSA's sector_identifier_uri, if any, answers 2xx.
func (p *Pipeline) stepSectorIdentifier(ctx context.Context, s *state) *Error {
	raw, _ := s.ssa["sector_identifier_uri"].(string)
	if raw == "" {
		return nil
	}
	resp, err := p.docs.Get(ctx, raw, nil)
	if err != nil {
		return fail(StepSectorIdentifier, CodeInvalidClientMetadata, DescSectorIdentifier, "GET %s: %v", raw, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fail(StepSectorIdentifier, CodeInvalidClientMetadata, DescSectorIdentifier, "GET %s answered %d", raw, resp.StatusCode)
	}
	return nil
}

// stepMetadataRules is step 10: it collects every metadata rule's finding, in
// the order of cdr-dcr.md, and fills what holds into reg.Metadata. It never
// fails by itself: step 11 takes precedence, then reports these (step 12).
func (p *Pipeline) stepMetadataRules(_ context.Context, s *state) *Error {
	s.ruleErrs = p.rules.apply(s.claims, s.reg.SoftwareID, s.jwt, &s.reg.Metadata)
	return nil
}

// stepRedirectURIs is step 11 and then step 12, the one place that decides
// their precedence: a redirect_uri outside the SSA wins over the metadata rules
// (invalid_redirect_uri); otherwise the first finding of step 10 is the error,
// reported as step 10's. When both hold it completes the registration's metadata.
func (p *Pipeline) stepRedirectURIs(_ context.Context, s *state) *Error {
	ssaURIs := s.ssa.stringList("redirect_uris")
	registered, badURI, ok := checkRedirectURIs(s.claims, ssaURIs)
	if !ok { // 11
		return fail(StepRedirectURIs, CodeInvalidRedirectURI, fmt.Sprintf(DescRedirectURI, badURI),
			"redirect_uri %q is not in the SSA's redirect_uris %v", badURI, ssaURIs)
	}
	if len(s.ruleErrs) > 0 { // 12
		return fail(StepMetadata, CodeInvalidClientMetadata, s.ruleErrs[0], "%s", strings.Join(s.ruleErrs, " "))
	}
	m := &s.reg.Metadata
	m.RedirectURIs = registered
	s.ssa.fill(m)
	m.Scope = filterScope(s.ssa.str("scope"), p.scopes)
	m.SoftwareStatement = s.reg.SSA.Raw
	return nil
}

// skipDuplicate says why step 13 does not run: duplicates are allowed here, or
// the caller is not registering (Validate, PUT).
func skipDuplicate(_ *Pipeline, s *state) string {
	if s.dups == nil {
		return "duplicate registrations are allowed (holder.allow_duplicate_registrations)"
	}
	return ""
}

// stepDuplicate is step 13: no active registration exists for the software_id.
// The database enforces it again when the client is stored, against races.
func (p *Pipeline) stepDuplicate(ctx context.Context, s *state) *Error {
	exists, err := s.dups.HasActiveClient(ctx, s.reg.SoftwareID)
	if err != nil {
		return internalError("duplicate check: %v", err)
	}
	if exists {
		return duplicateError(s.reg.SoftwareID)
	}
	return nil
}

// audienceContains reports whether aud (string or array) names issuer.
func audienceContains(aud any, issuer string) bool {
	switch a := aud.(type) {
	case string:
		return a == issuer
	case []any:
		for _, v := range a {
			if s, ok := v.(string); ok && s == issuer {
				return true
			}
		}
	}
	return false
}

// checkTimes validates exp, nbf and iat (numbers, seconds since the epoch) with
// skew. With required, exp and iat must be present. It returns exp (zero if absent).
func checkTimes(claims map[string]any, now time.Time, skew time.Duration, required bool) (time.Time, error) {
	var exp time.Time
	for _, name := range []string{"exp", "nbf", "iat"} {
		v, present := claims[name]
		if !present {
			if required && name != "nbf" {
				return exp, fmt.Errorf("%s is missing", name)
			}
			continue
		}
		f, ok := v.(float64)
		if !ok || f < 0 || f > 1e11 {
			return exp, fmt.Errorf("%s is not a valid NumericDate: %v", name, v)
		}
		t := time.Unix(int64(f), 0)
		switch name {
		case "exp":
			exp = t
			if now.After(t.Add(skew)) {
				return exp, fmt.Errorf("expired at %s (now %s, skew %s)", t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew)
			}
		case "nbf":
			if now.Add(skew).Before(t) {
				return exp, fmt.Errorf("not valid before %s (now %s)", t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
			}
		case "iat":
			if now.Add(skew).Before(t) {
				return exp, fmt.Errorf("issued in the future at %s (now %s)", t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
			}
		}
	}
	return exp, nil
}
