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
	reg := &Registration{}
	req, err := jose.ParseJWT(strings.TrimSpace(string(body)))
	if err != nil { // 1
		return reg, fail(StepRequest, CodeInvalidClientMetadata, DescRequestEmpty, "request is not a compact JWS: %v", err)
	}
	reg.Request = req
	claims := claimSource(req.Claims)
	ssaRaw, _, ok := claims.str("software_statement")
	if !ok { // 2
		return reg, fail(StepSoftwareStmt, CodeInvalidSoftwareStatement, DescSSAEmpty, "software_statement claim is missing or not a string")
	}
	ssaClaims, derr := p.verifySSA(ctx, ssaRaw, reg) // 2-4
	if derr != nil {
		return reg, derr
	}
	if derr := p.checkProduct(ctx, reg); derr != nil { // 5
		return reg, derr
	}
	if derr := p.checkBlocked(ctx, reg); derr != nil { // 5b: the holder's own block
		return reg, derr
	}
	jwksURI, derr := ssaJWKSURI(ssaClaims) // 6
	if derr != nil {
		return reg, derr
	}
	// Clients built on openid-client, oauth4webapi or authlib send no kid by
	// default: every ADR key that fits the alg is tried.
	key, err := p.adrKeys.VerifyJWT(ctx, jwksURI, req, true) // 7
	var loadErr *fetch.JWKSLoadError
	if errors.As(err, &loadErr) {
		return reg, fail(StepADRJWKS, CodeInvalidClientMetadata, fmt.Sprintf(DescADRJWKS, jwksURI), "%v", err)
	}
	if derr := p.verifyRequest(ctx, req, key, err, jwksURI, reg); derr != nil { // 8
		return reg, derr
	}
	if derr := p.checkSectorIdentifier(ctx, ssaClaims); derr != nil { // 9
		return reg, derr
	}
	if derr := p.buildMetadata(claims, ssaClaims, true, reg); derr != nil { // 10-12
		return reg, derr
	}
	return reg, nil
}

// ValidateMetadata runs the pipeline on RFC 7591 client metadata (a JSON object
// handed over by a trusted authorization server through the processing API): the
// software_statement is verified exactly as in Validate and its claims take
// precedence; there is no request signature, so no iss/aud/jti checks (steps 7
// and 8 do not apply).
func (p *Pipeline) ValidateMetadata(ctx context.Context, body []byte) (*Registration, *Error) {
	reg := &Registration{}
	var claims map[string]any
	if err := jose.DecodeObject(body, &claims); err != nil { // 1
		return reg, fail(StepRequest, CodeInvalidClientMetadata, DescRequestEmpty, "client metadata is not a JSON object: %v", err)
	}
	c := claimSource(claims)
	ssaRaw, _, ok := c.str("software_statement")
	if !ok { // 2
		return reg, fail(StepSoftwareStmt, CodeInvalidSoftwareStatement, DescSSAEmpty, "software_statement is missing or not a string")
	}
	ssaClaims, derr := p.verifySSA(ctx, ssaRaw, reg) // 2-4
	if derr != nil {
		return reg, derr
	}
	if derr := p.checkProduct(ctx, reg); derr != nil { // 5
		return reg, derr
	}
	if derr := p.checkBlocked(ctx, reg); derr != nil {
		return reg, derr
	}
	if _, derr := ssaJWKSURI(ssaClaims); derr != nil { // 6
		return reg, derr
	}
	if derr := p.checkSectorIdentifier(ctx, ssaClaims); derr != nil { // 9
		return reg, derr
	}
	if derr := p.buildMetadata(c, ssaClaims, false, reg); derr != nil { // 10-12
		return reg, derr
	}
	reg.Metadata.SoftwareStatement = ssaRaw
	return reg, nil
}

// verifySSA is steps 2 to 4: the SSA parses, the Register JWKS loads, and the SSA
// is signed by the Register, current, and complete.
func (p *Pipeline) verifySSA(ctx context.Context, raw string, reg *Registration) (ssaClaims, *Error) {
	ssa, err := jose.ParseJWT(raw)
	if err != nil { // 2
		return nil, fail(StepSoftwareStmt, CodeInvalidSoftwareStatement, DescSSAEmpty, "software_statement is not a compact JWS: %v", err)
	}
	reg.SSA = ssa
	c := ssaClaims(ssa.Claims)
	reg.SoftwareID, _ = ssa.String("software_id")
	reg.OrgID, _ = ssa.String("org_id")

	// The Register names its key: no trying of several keys for an SSA.
	key, err := p.registerKeys.VerifyJWT(ctx, p.cfg.RegisterJWKSURI, ssa, false)
	var loadErr *fetch.JWKSLoadError
	if errors.As(err, &loadErr) { // 3
		return nil, fail(StepRegisterJWKS, CodeInvalidSoftwareStatement, fmt.Sprintf(DescRegisterJWKS, p.cfg.RegisterJWKSURI), "%v", err)
	}
	if errors.Is(err, fetch.ErrKeyNotFound) { // 4
		return nil, fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA kid %q: %v", ssa.KeyID(), err)
	}
	if err != nil {
		return nil, fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA: %v", err)
	}
	reg.SSAKeyID = key.KeyID()
	if iss, _ := ssa.String("iss"); iss != "cdr-register" {
		return nil, fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA iss is %q, want \"cdr-register\"", iss)
	}
	if _, err := jose.CheckTimes(ssa.Claims, p.Now(), p.cfg.ClockSkew, true); err != nil {
		return nil, fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA %v", err)
	}
	if err := c.complete(); err != nil {
		return nil, fail(StepSSA, CodeInvalidSoftwareStatement, DescSSAInvalid, "SSA %v", err)
	}
	return c, nil
}

// checkProduct is step 5: the product, its brand and its legal entity are ACTIVE.
func (p *Pipeline) checkProduct(ctx context.Context, reg *Registration) *Error {
	if !p.cfg.CheckStatus || p.products == nil {
		return nil
	}
	ps, found, err := p.products.LookupRefreshing(ctx, reg.SoftwareID)
	if !found {
		detail := fmt.Sprintf("software product %s is not in the Register data, even after a refresh", reg.SoftwareID)
		if err != nil {
			detail += fmt.Sprintf(" (refresh failed: %v)", err)
		}
		e := fail(StepRegisterStatus, CodeUnapprovedSoftwareStatement, DescProductNotFound, detail)
		return e
	}
	reg.Product = &ps
	if status, level := ps.EffectiveStatus(); status != "ACTIVE" {
		return fail(StepRegisterStatus, CodeUnapprovedSoftwareStatement, fmt.Sprintf(DescProductStatus, status),
			"%s of software product %s is %s in the Register data", level, reg.SoftwareID, status)
	}
	return nil
}

// checkBlocked refuses software products an operator has blocked.
func (p *Pipeline) checkBlocked(ctx context.Context, reg *Registration) *Error {
	if p.blocks == nil {
		return nil
	}
	b, err := p.blocks.SoftwareBlock(ctx, reg.SoftwareID)
	if err != nil {
		return &Error{Status: 500, Code: CodeServerError, Description: "internal error", Step: StepStore, Detail: "block lookup: " + err.Error()}
	}
	if b != nil {
		return fail(StepBlocked, CodeUnapprovedSoftwareStatement, DescSoftwareBlocked,
			"software product %s was blocked by %s at %s: %s", reg.SoftwareID, b.BlockedBy, b.CreatedAt.UTC().Format(time.RFC3339), b.Reason)
	}
	return nil
}

// ssaJWKSURI is step 6.
func ssaJWKSURI(c ssaClaims) (string, *Error) {
	raw, _ := c["jwks_uri"].(string)
	u, err := url.Parse(raw)
	if raw == "" || err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", fail(StepJWKSURI, CodeInvalidClientMetadata, DescJWKSURIInvalid, "SSA jwks_uri %q is not an absolute https URL", raw)
	}
	return raw, nil
}

// verifyRequest is step 8. keyErr is the ADR key lookup's or signature check's
// error other than a load failure; key is the key that verified req.
func (p *Pipeline) verifyRequest(ctx context.Context, req *jose.JWT, key jwk.Key, keyErr error, jwksURI string, reg *Registration) *Error {
	bad := func(format string, args ...any) *Error {
		return fail(StepRequestSignature, CodeInvalidClientMetadata, DescRequestInvalid, format, args...)
	}
	if _, ok := jose.SigningAlg(req.Alg()); !ok {
		return bad("request alg %q is not allowed (PS256 or ES256)", req.Alg())
	}
	if errors.Is(keyErr, fetch.ErrKeyNotFound) {
		return bad("request kid %q: %v", req.KeyID(), keyErr)
	}
	if keyErr != nil {
		return bad("request: %v (jwks_uri %s)", keyErr, jwksURI)
	}
	reg.RequestKeyID = key.KeyID()
	exp, err := jose.CheckTimes(req.Claims, p.Now(), p.cfg.ClockSkew, false)
	if err != nil {
		return bad("request %v", err)
	}
	claims := claimSource(req.Claims)
	if iss, present, _ := claims.str("iss"); present && !equalFoldASCII(iss, reg.SoftwareID) {
		return bad("request iss %q is not the SSA software_id %q", iss, reg.SoftwareID)
	}
	if _, present := req.Claims["aud"]; present && !jose.AudienceContains(req.Claims["aud"], p.cfg.Issuer) {
		return bad("request aud %v does not contain the issuer %q", req.Claims["aud"], p.cfg.Issuer)
	}
	if v, present := req.Claims["jti"]; present && v != nil {
		if _, isStr := v.(string); !isStr {
			return bad("request jti %v is not a string, so it cannot be held to single use", v)
		}
	}
	if jti, _, ok := claims.str("jti"); ok {
		used, err := p.jtis.JTIUsed(ctx, "registration_request", jti)
		if err != nil {
			return &Error{Status: 500, Code: CodeServerError, Description: "internal error", Step: StepStore, Detail: "jti lookup: " + err.Error()}
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

// checkSectorIdentifier is step 9.
func (p *Pipeline) checkSectorIdentifier(ctx context.Context, c ssaClaims) *Error {
	raw, _ := c["sector_identifier_uri"].(string)
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

// buildMetadata is steps 10 to 12 and fills reg.Metadata.
func (p *Pipeline) buildMetadata(c claimSource, ssa ssaClaims, requestChecks bool, reg *Registration) *Error {
	m := &reg.Metadata
	errs := p.rules.apply(c, reg.SoftwareID, requestChecks, m)
	registered, badURI, ok := checkRedirectURIs(c, ssa.stringList("redirect_uris"))
	if !ok { // 11 wins over 10
		return fail(StepRedirectURIs, CodeInvalidRedirectURI, fmt.Sprintf(DescRedirectURI, badURI),
			"redirect_uri %q is not in the SSA's redirect_uris %v", badURI, ssa.stringList("redirect_uris"))
	}
	if len(errs) > 0 { // 12
		detail := strings.Join(errs, " ")
		return fail(StepMetadata, CodeInvalidClientMetadata, errs[0], "%s", detail)
	}
	m.RedirectURIs = registered
	ssa.fill(m)
	m.Scope = filterScope(ssa.str("scope"), p.scopes)
	if reg.Request != nil {
		m.SoftwareStatement = reg.SSA.Raw
	}
	return nil
}
