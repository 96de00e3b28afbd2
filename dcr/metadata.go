package dcr

import (
	"fmt"
	"slices"
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
		if !slices.Contains(registered, match) {
			registered = append(registered, match)
		}
	}
	return registered, "", true
}

// filterScope keeps the SSA's scopes that the holder supports, in the SSA's order.
func filterScope(ssaScope string, supported map[string]bool) string {
	var out []string
	for _, s := range strings.Fields(ssaScope) {
		if supported[s] && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}
