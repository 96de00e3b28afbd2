package dcr

import (
	"fmt"
	"slices"
	"strings"
)

// Step 10 of cdr-dcr.md as data: two tables of claim rules, evaluated in order.
// Every violation is collected (the audit detail lists them all) and the first one
// is what the client sees, so a row's position is part of the protocol: add a
// rule where cdr-dcr.md lists its claim. A rule stores the canonical spelling of
// what it accepted in the Metadata field of the same JSON name.

// Allowed value lists, in the order the error descriptions print them.
var (
	signingAlgs      = []string{"PS256", "ES256"}
	authMethods      = []string{"private_key_jwt"}
	grantTypeValues  = []string{"client_credentials", "authorization_code", "refresh_token"}
	encAlgs          = []string{"RSA-OAEP", "RSA-OAEP-256"}
	encEncs          = []string{"A128CBC-HS256", "A256GCM"} // JARM and ID token alike, as cdr-dcr.md words them
	responseTypeCode = "code"
	responseTypeHyb  = "code id_token"
)

const (
	jarmAlgClaim   = "authorization_encrypted_response_alg"
	jarmEncClaim   = "authorization_encrypted_response_enc"
	jarmEncDefault = "A128CBC-HS256"
)

// requestClaimRules are the presence checks of the request JWT's own claims. They
// do not apply to RFC 7591 JSON handed over by a trusted server. iat and exp were
// checked as numbers in step 8 when present; iss and jti must be strings (a number
// as jti would escape the single-use rule, which keys on strings).
var requestClaimRules = []metadataRule{
	{"iss", presentAs(nonEmptyString)},
	{"iat", presentAs(nonEmptyValue)},
	{"exp", presentAs(nonEmptyValue)},
	{"jti", presentAs(nonEmptyString)},
	{"aud", presentAs(validAudience)},
	{"iss", issuedBySoftwareProduct},
}

// metadataClaimRules are the registration metadata rules, in cdr-dcr.md's order.
var metadataClaimRules = []metadataRule{
	{"token_endpoint_auth_signing_alg", required(signingAlgs)},
	// The reference words this one as a list ("must be one of"), not "must be set to".
	{"token_endpoint_auth_method", required(authMethods)},
	{"id_token_signed_response_alg", required(signingAlgs)},
	{"grant_types", grantTypesWithAuthorizationCode},
	{"request_object_signing_alg", optional(signingAlgs, "PS256")},
	{"response_types", supportedResponseTypes},
	{"authorization_signed_response_alg", requiredWhen(codeFlow, signingAlgs)},
	{jarmAlgClaim, jarmEncryptionAlg},
	{jarmEncClaim, jarmEncryptionEnc},
	{"id_token_encrypted_response_alg", onlyWhen(hybridFlow, required(encAlgs))},
	{"id_token_encrypted_response_enc", onlyWhen(hybridFlow, required(encEncs))},
	{"application_type", setTo("web")},
}

// metadataRules holds what the rules depend on from the holder's configuration.
type metadataRules struct {
	responseTypesSupported []string
	jarmEncryption         bool
}

// metadataRule is one row of a rule table: the claim it is about (the name its
// errors and its Metadata field carry) and the check that runs on it.
type metadataRule struct {
	claim string
	check claimCheck
}

// claimCheck validates one claim of r's source, recording violations in r.errs
// and accepted values in r.m.
type claimCheck func(r *ruleRun, claim string)

// ruleRun is one evaluation of the tables: the holder's configuration, the claims,
// the metadata being filled, and what earlier rules learned for later ones.
type ruleRun struct {
	metadataRules
	c          claimSource
	softwareID string
	m          *Metadata
	errs       ruleErrors
	// codeFlow and hybridFlow say which valid response types were requested.
	codeFlow, hybridFlow bool
}

// apply runs step 10 over c, filling m with canonical values and returning every
// violation in the order of cdr-dcr.md. requestChecks adds requestClaimRules.
func (rules metadataRules) apply(c claimSource, softwareID string, requestChecks bool, m *Metadata) ruleErrors {
	r := ruleRun{metadataRules: rules, c: c, softwareID: softwareID, m: m}
	if requestChecks {
		r.run(requestClaimRules)
	}
	r.run(metadataClaimRules)
	return r.errs
}

func (r *ruleRun) run(table []metadataRule) {
	for _, rule := range table {
		rule.check(r, rule.claim)
	}
}

// presentAs reports the claim missing unless valid accepts its value (nil when absent).
func presentAs(valid func(v any) bool) claimCheck {
	return func(r *ruleRun, claim string) {
		if !valid(r.c[claim]) {
			r.errs.missing(claim)
		}
	}
}

func nonEmptyString(v any) bool { s, ok := v.(string); return ok && s != "" }

func nonEmptyValue(v any) bool { return v != nil && v != "" }

// validAudience reports whether aud is a non-empty string or a non-empty list of strings.
func validAudience(aud any) bool {
	switch a := aud.(type) {
	case string:
		return a != ""
	case []any:
		for _, v := range a {
			if _, ok := v.(string); !ok {
				return false
			}
		}
		return len(a) > 0
	}
	return false
}

// issuedBySoftwareProduct: a present iss must name the SSA's software_id.
func issuedBySoftwareProduct(r *ruleRun, claim string) {
	if iss, _, ok := r.c.str(claim); ok && !equalFoldASCII(iss, r.softwareID) {
		r.errs.setTo(claim, r.softwareID)
	}
}

// required: the claim must be present and one of allowed.
func required(allowed []string) claimCheck {
	return func(r *ruleRun, claim string) {
		*r.m.stringClaim(claim) = r.errs.requireOneOf(r.c, claim, allowed)
	}
}

// optional: when present the claim must be one of allowed; def stands in when absent.
func optional(allowed []string, def string) claimCheck {
	return func(r *ruleRun, claim string) {
		*r.m.stringClaim(claim) = r.errs.optionalOneOf(r.c, claim, allowed, def)
	}
}

// requiredWhen is required when cond holds, optional (no default) otherwise.
func requiredWhen(cond func(*ruleRun) bool, allowed []string) claimCheck {
	req, opt := required(allowed), optional(allowed, "")
	return func(r *ruleRun, claim string) {
		if cond(r) {
			req(r, claim)
		} else {
			opt(r, claim)
		}
	}
}

// onlyWhen runs check when cond holds and ignores the claim otherwise.
func onlyWhen(cond func(*ruleRun) bool, check claimCheck) claimCheck {
	return func(r *ruleRun, claim string) {
		if cond(r) {
			check(r, claim)
		}
	}
}

// setTo: the claim may only be want (the default when absent).
func setTo(want string) claimCheck {
	return func(r *ruleRun, claim string) {
		if v, present, ok := r.c.str(claim); present && (!ok || !equalFoldASCII(v, want)) {
			r.errs.setTo(claim, want)
			return
		}
		*r.m.stringClaim(claim) = want
	}
}

// codeFlow: response type code requires authorization_signed_response_alg (JARM).
func codeFlow(r *ruleRun) bool { return r.codeFlow }

// hybridFlow: code id_token requires ID token encryption.
func hybridFlow(r *ruleRun) bool { return r.hybridFlow }

// grantTypesWithAuthorizationCode: grant_types must contain authorization_code
// (reported before unknown values) and hold only known values; duplicates fold.
func grantTypesWithAuthorizationCode(r *ruleRun, claim string) {
	gts, present, ok := r.c.strings(claim)
	if !present {
		r.errs.missing(claim)
		return
	}
	canon, allKnown := canonicalValues(gts, grantTypeValues)
	switch {
	case !slices.Contains(canon, "authorization_code"):
		r.errs = append(r.errs, DescGrantTypesAuthCode)
	case !ok || !allKnown:
		r.errs.oneOf(claim, grantTypeValues)
	default:
		r.m.GrantTypes = canon
	}
}

// supportedResponseTypes: every response type must be one the holder supports
// (inner whitespace folded); it decides codeFlow and hybridFlow for later rules.
func supportedResponseTypes(r *ruleRun, claim string) {
	rts, present, ok := r.c.strings(claim)
	if !present {
		r.errs.missing(claim)
		return
	}
	for i, rt := range rts { // rts is a fresh slice
		rts[i] = strings.Join(strings.Fields(rt), " ")
	}
	canon, allKnown := canonicalValues(rts, r.responseTypesSupported)
	if !ok || !allKnown {
		r.errs.oneOf(claim, r.responseTypesSupported)
		return
	}
	r.m.ResponseTypes = canon
	r.codeFlow = slices.Contains(canon, responseTypeCode)
	r.hybridFlow = slices.Contains(canon, responseTypeHyb)
}

// canonicalValues maps vals to their spelling in allowed, without duplicates;
// allKnown is false when some value is not in allowed (it is left out).
func canonicalValues(vals, allowed []string) (canon []string, allKnown bool) {
	allKnown = true
	for _, v := range vals {
		c, known := oneOf(v, allowed)
		if !known {
			allKnown = false
			continue
		}
		if !slices.Contains(canon, c) {
			canon = append(canon, c)
		}
	}
	return canon, allKnown
}

// jarmEncryptionAlg: optional, but needed when enc is given. JARM encryption is
// validated whether or not the holder offers it, so an invalid value is refused
// the same way everywhere; it is kept only when offered.
func jarmEncryptionAlg(r *ruleRun, claim string) {
	_, algPresent, _ := r.c.str(claim)
	if _, encPresent, _ := r.c.str(jarmEncClaim); encPresent && !algPresent {
		r.errs.missing(claim)
		return
	}
	r.keepJARM(claim, r.errs.optionalOneOf(r.c, claim, encAlgs, ""))
}

// jarmEncryptionEnc: optional, defaulting to A128CBC-HS256 when alg is given.
// Without alg it is still checked, so every violation reaches the audit detail.
func jarmEncryptionEnc(r *ruleRun, claim string) {
	if _, algPresent, _ := r.c.str(jarmAlgClaim); !algPresent {
		r.errs.optionalOneOf(r.c, claim, encEncs, "")
		r.keepJARM(claim, "")
		return
	}
	r.keepJARM(claim, r.errs.optionalOneOf(r.c, claim, encEncs, jarmEncDefault))
}

func (r *ruleRun) keepJARM(claim, v string) {
	if r.jarmEncryption {
		*r.m.stringClaim(claim) = v
	}
}

// stringClaim is the Metadata field a single-valued rule fills, by JSON name.
func (m *Metadata) stringClaim(claim string) *string {
	switch claim {
	case "token_endpoint_auth_signing_alg":
		return &m.TokenEndpointAuthSigningAlg
	case "token_endpoint_auth_method":
		return &m.TokenEndpointAuthMethod
	case "id_token_signed_response_alg":
		return &m.IDTokenSignedResponseAlg
	case "request_object_signing_alg":
		return &m.RequestObjectSigningAlg
	case "authorization_signed_response_alg":
		return &m.AuthorizationSignedResponseAlg
	case jarmAlgClaim:
		return &m.AuthorizationEncryptedResponseAlg
	case jarmEncClaim:
		return &m.AuthorizationEncryptedResponseEnc
	case "id_token_encrypted_response_alg":
		return &m.IDTokenEncryptedResponseAlg
	case "id_token_encrypted_response_enc":
		return &m.IDTokenEncryptedResponseEnc
	case "application_type":
		return &m.ApplicationType
	}
	panic("dcr: no Metadata field for claim " + claim) // a rule table row names an unknown claim
}

// ruleErrors collects the metadata violations of step 10 in rule order.
type ruleErrors []string

func (r *ruleErrors) missing(claim string) { *r = append(*r, fmt.Sprintf(DescClaimMissing, claim)) }
func (r *ruleErrors) setTo(claim, value string) {
	*r = append(*r, fmt.Sprintf(DescClaimSetTo, claim, value))
}
func (r *ruleErrors) oneOf(claim string, vals []string) {
	*r = append(*r, fmt.Sprintf(DescClaimOneOf, claim, strings.Join(vals, ",")))
}

// requireOneOf checks a required single-valued claim against allowed values.
func (r *ruleErrors) requireOneOf(c claimSource, claim string, allowed []string) string {
	v, present, ok := c.str(claim)
	if !present {
		r.missing(claim)
		return ""
	}
	canon, good := oneOf(v, allowed)
	if !ok || !good {
		r.oneOf(claim, allowed)
		return ""
	}
	return canon
}

// optionalOneOf checks an optional claim; def is used when it is absent.
func (r *ruleErrors) optionalOneOf(c claimSource, claim string, allowed []string, def string) string {
	v, present, ok := c.str(claim)
	if !present {
		return def
	}
	canon, good := oneOf(v, allowed)
	if !ok || !good {
		r.oneOf(claim, allowed)
		return ""
	}
	return canon
}
