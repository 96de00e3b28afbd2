package dcr

import (
	"fmt"
	"net/url"
	"strings"
)

// ssaClaims are the verified claims of a Software Statement Assertion.
type ssaClaims map[string]any

// requiredSSAStrings are the SSA claims that must be non-empty strings (step 4).
// jwks_uri is left to step 6 so that its own error code is reachable.
var requiredSSAStrings = []string{
	"jti", "org_id", "org_name", "client_name", "client_description", "client_uri",
	"logo_uri", "revocation_uri", "recipient_base_uri", "software_id", "software_roles", "scope",
}

// optionalSSAStrings must be strings when present.
var optionalSSAStrings = []string{
	"legal_entity_id", "legal_entity_name", "sector_identifier_uri", "tos_uri", "policy_uri", "jwks_uri",
}

// complete checks that the SSA carries every required claim with the right type.
func (c ssaClaims) complete() error {
	for _, name := range requiredSSAStrings {
		v, present := c[name]
		s, isStr := v.(string)
		if !present || !isStr || strings.TrimSpace(s) == "" {
			return fmt.Errorf("claim %q is missing or not a non-empty string", name)
		}
	}
	for _, name := range optionalSSAStrings {
		if v, present := c[name]; present && v != nil {
			if _, isStr := v.(string); !isStr {
				return fmt.Errorf("claim %q is not a string", name)
			}
		}
	}
	if roles := c.str("software_roles"); roles != "data-recipient-software-product" {
		return fmt.Errorf("software_roles is %q, want \"data-recipient-software-product\"", roles)
	}
	uris, ok := c["redirect_uris"].([]any)
	if !ok || len(uris) == 0 {
		return fmt.Errorf("claim \"redirect_uris\" is missing or not a non-empty array")
	}
	for _, v := range uris {
		s, isStr := v.(string)
		if !isStr {
			return fmt.Errorf("redirect_uris holds a non-string %v", v)
		}
		if u, err := url.Parse(s); err != nil || !u.IsAbs() || u.Host == "" {
			return fmt.Errorf("redirect_uris holds %q, which is not an absolute URL", s)
		}
	}
	return nil
}

func (c ssaClaims) str(name string) string {
	s, _ := c[name].(string)
	return s
}

// stringList returns an array claim's string elements.
func (c ssaClaims) stringList(name string) []string {
	arr, _ := c[name].([]any)
	out := make([]string, 0, len(arr))
	for _, v := range arr {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// fill copies the SSA's metadata into m: SSA values take precedence over anything
// the request said (RFC 7591 §3.1.1).
func (c ssaClaims) fill(m *Metadata) {
	m.ClientName = c.str("client_name")
	m.ClientDescription = c.str("client_description")
	m.ClientURI = c.str("client_uri")
	m.LegalEntityID = c.str("legal_entity_id")
	m.LegalEntityName = c.str("legal_entity_name")
	m.OrgID = c.str("org_id")
	m.OrgName = c.str("org_name")
	m.LogoURI = c.str("logo_uri")
	m.TOSURI = c.str("tos_uri")
	m.PolicyURI = c.str("policy_uri")
	m.JWKSURI = c.str("jwks_uri")
	m.RevocationURI = c.str("revocation_uri")
	m.RecipientBaseURI = c.str("recipient_base_uri")
	m.SectorIdentifierURI = c.str("sector_identifier_uri")
	m.SoftwareID = c.str("software_id")
	m.SoftwareRoles = c.str("software_roles")
}
