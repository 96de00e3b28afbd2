package dcr

import (
	"fmt"
	"strings"
)

// Metadata is a registration as returned to the client (RegistrationProperties of
// the CDS DCR API). Empty fields are omitted from the JSON.
type Metadata struct {
	ClientID                          string   `json:"client_id,omitempty"`
	ClientIDIssuedAt                  int64    `json:"client_id_issued_at,omitempty"`
	ClientName                        string   `json:"client_name,omitempty"`
	ClientDescription                 string   `json:"client_description,omitempty"`
	ClientURI                         string   `json:"client_uri,omitempty"`
	LegalEntityID                     string   `json:"legal_entity_id,omitempty"`
	LegalEntityName                   string   `json:"legal_entity_name,omitempty"`
	OrgID                             string   `json:"org_id,omitempty"`
	OrgName                           string   `json:"org_name,omitempty"`
	RedirectURIs                      []string `json:"redirect_uris,omitempty"`
	SectorIdentifierURI               string   `json:"sector_identifier_uri,omitempty"`
	LogoURI                           string   `json:"logo_uri,omitempty"`
	TOSURI                            string   `json:"tos_uri,omitempty"`
	PolicyURI                         string   `json:"policy_uri,omitempty"`
	JWKSURI                           string   `json:"jwks_uri,omitempty"`
	RevocationURI                     string   `json:"revocation_uri,omitempty"`
	RecipientBaseURI                  string   `json:"recipient_base_uri,omitempty"`
	TokenEndpointAuthMethod           string   `json:"token_endpoint_auth_method,omitempty"`
	TokenEndpointAuthSigningAlg       string   `json:"token_endpoint_auth_signing_alg,omitempty"`
	GrantTypes                        []string `json:"grant_types,omitempty"`
	ResponseTypes                     []string `json:"response_types,omitempty"`
	ApplicationType                   string   `json:"application_type,omitempty"`
	IDTokenSignedResponseAlg          string   `json:"id_token_signed_response_alg,omitempty"`
	IDTokenEncryptedResponseAlg       string   `json:"id_token_encrypted_response_alg,omitempty"`
	IDTokenEncryptedResponseEnc       string   `json:"id_token_encrypted_response_enc,omitempty"`
	RequestObjectSigningAlg           string   `json:"request_object_signing_alg,omitempty"`
	AuthorizationSignedResponseAlg    string   `json:"authorization_signed_response_alg,omitempty"`
	AuthorizationEncryptedResponseAlg string   `json:"authorization_encrypted_response_alg,omitempty"`
	AuthorizationEncryptedResponseEnc string   `json:"authorization_encrypted_response_enc,omitempty"`
	SoftwareID                        string   `json:"software_id,omitempty"`
	SoftwareRoles                     string   `json:"software_roles,omitempty"`
	Scope                             string   `json:"scope,omitempty"`
	SoftwareStatement                 string   `json:"software_statement,omitempty"`
}

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

// metadataRules holds what the rules depend on from the holder's configuration.
type metadataRules struct {
	responseTypesSupported []string
	jarmEncryption         bool
}

// claimSource is the registration metadata the rules read: the request JWT's
// claims, or an RFC 7591 JSON document.
type claimSource map[string]any

// str returns the claim as a string; present reports whether it exists, and
// ok whether it is a non-empty string (a non-string is present but not ok).
func (c claimSource) str(name string) (s string, present, ok bool) {
	v, present := c[name]
	if !present || v == nil {
		return "", false, false
	}
	s, isStr := v.(string)
	if !isStr {
		return "", true, false
	}
	if s == "" {
		return "", false, false
	}
	return s, true, true
}

// strings returns a claim that may be a string or an array of strings
// (response_types is sent both ways). ok is false for any other shape.
func (c claimSource) strings(name string) (vals []string, present, ok bool) {
	v, present := c[name]
	if !present || v == nil {
		return nil, false, false
	}
	switch t := v.(type) {
	case string:
		if t == "" {
			return nil, false, false
		}
		return []string{t}, true, true
	case []any:
		if len(t) == 0 {
			return nil, false, false
		}
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, isStr := e.(string)
			if !isStr {
				return nil, true, false
			}
			out = append(out, s)
		}
		return out, true, true
	}
	return nil, true, false
}

// oneOf returns the canonical spelling of v in allowed (ASCII case-insensitive).
func oneOf(v string, allowed []string) (string, bool) {
	for _, a := range allowed {
		if equalFoldASCII(v, a) {
			return a, true
		}
	}
	return "", false
}

// equalFoldASCII compares case-insensitively in ASCII only. strings.EqualFold would
// also fold Unicode (the Kelvin sign K matches k), which lets look-alike redirect
// URIs through; everything outside ASCII must match byte for byte.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
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

// applyMetadataRules runs step 10 over c, filling m with canonical values and
// returning every violation in the order of cdr-dcr.md. requestChecks adds the
// presence checks of the request JWT's own claims (iss, iat, exp, jti, aud, and
// the iss value), which do not apply to RFC 7591 JSON handed over by a trusted server.
func (rules metadataRules) apply(c claimSource, softwareID string, requestChecks bool, m *Metadata) ruleErrors {
	var errs ruleErrors
	if requestChecks {
		// iss and jti must be non-empty strings (a number as jti would escape the
		// single-use rule, which keys on strings); iat and exp were checked as
		// numbers in step 8 when present; aud is a string or a list of them.
		for _, claim := range []string{"iss", "iat", "exp", "jti"} {
			v, present := c[claim]
			s, isStr := v.(string)
			switch {
			case !present || v == nil || (isStr && s == ""):
				errs.missing(claim)
			case (claim == "iss" || claim == "jti") && !isStr:
				errs.missing(claim)
			}
		}
		if !validAudience(c["aud"]) {
			errs.missing("aud")
		}
		if iss, _, ok := c.str("iss"); ok && !equalFoldASCII(iss, softwareID) {
			errs.setTo("iss", softwareID)
		}
	}
	m.TokenEndpointAuthSigningAlg = errs.requireOneOf(c, "token_endpoint_auth_signing_alg", signingAlgs)
	// The reference words this one as a list ("must be one of"), not "must be set to".
	m.TokenEndpointAuthMethod = errs.requireOneOf(c, "token_endpoint_auth_method", authMethods)
	m.IDTokenSignedResponseAlg = errs.requireOneOf(c, "id_token_signed_response_alg", signingAlgs)

	if gts, present, ok := c.strings("grant_types"); !present {
		errs.missing("grant_types")
	} else {
		var canon []string
		hasCode, allKnown := false, ok
		for _, g := range gts {
			v, known := oneOf(g, grantTypeValues)
			if !known {
				allKnown = false
				continue
			}
			hasCode = hasCode || v == "authorization_code"
			if !containsString(canon, v) {
				canon = append(canon, v)
			}
		}
		switch {
		case !hasCode:
			errs = append(errs, DescGrantTypesAuthCode)
		case !allKnown:
			errs.oneOf("grant_types", grantTypeValues)
		default:
			m.GrantTypes = canon
		}
	}

	m.RequestObjectSigningAlg = errs.optionalOneOf(c, "request_object_signing_alg", signingAlgs, "PS256")

	hasCode, hasHybrid := false, false
	if rts, present, ok := c.strings("response_types"); !present {
		errs.missing("response_types")
	} else {
		var canon []string
		good := ok
		for _, rt := range rts {
			v, known := oneOf(strings.Join(strings.Fields(rt), " "), rules.responseTypesSupported)
			if !known {
				good = false
				break
			}
			if !containsString(canon, v) {
				canon = append(canon, v)
			}
			hasCode = hasCode || v == responseTypeCode
			hasHybrid = hasHybrid || v == responseTypeHyb
		}
		if good {
			m.ResponseTypes = canon
		} else {
			errs.oneOf("response_types", rules.responseTypesSupported)
			hasCode, hasHybrid = false, false
		}
	}

	if hasCode {
		m.AuthorizationSignedResponseAlg = errs.requireOneOf(c, "authorization_signed_response_alg", signingAlgs)
	} else {
		m.AuthorizationSignedResponseAlg = errs.optionalOneOf(c, "authorization_signed_response_alg", signingAlgs, "")
	}

	// JARM encryption is validated whether or not the holder offers it, so an
	// invalid value is refused the same way everywhere; it is kept only when offered.
	jarmAlg, jarmEnc := rules.jarmEncryptionClaims(&errs, c)
	if rules.jarmEncryption {
		m.AuthorizationEncryptedResponseAlg, m.AuthorizationEncryptedResponseEnc = jarmAlg, jarmEnc
	}

	if hasHybrid {
		m.IDTokenEncryptedResponseAlg = errs.requireOneOf(c, "id_token_encrypted_response_alg", encAlgs)
		m.IDTokenEncryptedResponseEnc = errs.requireOneOf(c, "id_token_encrypted_response_enc", encEncs)
	}

	if v, present, ok := c.str("application_type"); !present {
		m.ApplicationType = "web"
	} else if !ok || !equalFoldASCII(v, "web") {
		errs.setTo("application_type", "web")
	} else {
		m.ApplicationType = "web"
	}
	return errs
}

// jarmEncryptionClaims checks authorization_encrypted_response_alg/_enc: both
// optional, enc needs alg, enc defaults to A128CBC-HS256 when alg is given.
func (metadataRules) jarmEncryptionClaims(errs *ruleErrors, c claimSource) (alg, enc string) {
	_, algPresent, _ := c.str("authorization_encrypted_response_alg")
	_, encPresent, _ := c.str("authorization_encrypted_response_enc")
	if encPresent && !algPresent {
		errs.missing("authorization_encrypted_response_alg")
		// enc is still checked, so every violation reaches the audit detail.
		errs.optionalOneOf(c, "authorization_encrypted_response_enc", encEncs, "")
		return "", ""
	}
	alg = errs.optionalOneOf(c, "authorization_encrypted_response_alg", encAlgs, "")
	if algPresent {
		enc = errs.optionalOneOf(c, "authorization_encrypted_response_enc", encEncs, "A128CBC-HS256")
	}
	return alg, enc
}

// checkRedirectURIs is step 11: every requested redirect URI must be in the SSA's
// list. The registered URIs are the SSA's spelling of them; none requested means
// the SSA's whole list. bad is the first offending value.
func checkRedirectURIs(c claimSource, ssaURIs []string) (registered []string, bad string, ok bool) {
	v, present := c["redirect_uris"]
	if !present || v == nil {
		return ssaURIs, "", true
	}
	var requested []string
	switch t := v.(type) {
	case string:
		requested = []string{t}
	case []any:
		for _, e := range t {
			s, isStr := e.(string)
			if !isStr {
				return nil, fmt.Sprint(e), false
			}
			requested = append(requested, s)
		}
	default:
		return nil, fmt.Sprint(v), false
	}
	if len(requested) == 0 {
		return ssaURIs, "", true
	}
	for _, r := range requested {
		match := ""
		for _, s := range ssaURIs {
			if equalFoldASCII(r, s) {
				match = s
				break
			}
		}
		if match == "" {
			return nil, r, false
		}
		if !containsString(registered, match) {
			registered = append(registered, match)
		}
	}
	return registered, "", true
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// filterScope keeps the SSA's scopes that the holder supports, in the SSA's order.
func filterScope(ssaScope string, supported map[string]bool) string {
	var out []string
	for _, s := range strings.Fields(ssaScope) {
		if supported[s] && !containsString(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

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
