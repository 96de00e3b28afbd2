package dcr

// Steps 7 to 13 of the registration pipeline: the request's own signature and
// claims, the SSA's sector identifier, the metadata rules and the duplicate rule.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

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

// stepRequestSignature is step 8: step 7's key verified the request, which is
// current, from the SSA's software product, addressed to this holder and not a replay.
func (p *Pipeline) stepRequestSignature(ctx context.Context, s *state) *Error {
	req, reg, keyErr := s.reg.Request, s.reg, s.adrKeyErr
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
		return bad("request: %v (jwks_uri %s)", keyErr, s.jwksURI)
	}
	reg.RequestKeyID = s.adrKey.KeyID()
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
