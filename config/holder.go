package config

import (
	"fmt"
	"net/url"
)

// HolderEndpoints are the Data Holder's authorisation server endpoints that the
// discovery document carries when dcrconsole sits beside an existing AS. All are
// optional; without AuthorizationEndpoint discovery advertises no response type
// and no grant that needs one (RFC 8414 section 2).
type HolderEndpoints struct {
	AuthorizationEndpoint              string `toml:"authorization_endpoint"`
	PushedAuthorizationRequestEndpoint string `toml:"pushed_authorization_request_endpoint"`
	UserinfoEndpoint                   string `toml:"userinfo_endpoint"`
	IntrospectionEndpoint              string `toml:"introspection_endpoint"`
	RevocationEndpoint                 string `toml:"revocation_endpoint"`
	// JWKSURI replaces {public_url}/jwks in discovery, for an AS whose keys sign
	// the ID tokens; dcrconsole still serves and uses its own /jwks.
	JWKSURI string `toml:"jwks_uri"`
	// SubjectTypesSupported is published with the OpenID metadata (CDR: pairwise).
	SubjectTypesSupported []string `toml:"subject_types_supported"`
}

func defaultHolderEndpoints() HolderEndpoints {
	return HolderEndpoints{SubjectTypesSupported: []string{"pairwise"}}
}

// validateEndpoints checks the [holder] endpoint keys, naming the first bad one.
func (h *Holder) validateEndpoints() error {
	for _, e := range []struct{ key, value string }{
		{"holder.authorization_endpoint", h.AuthorizationEndpoint},
		{"holder.pushed_authorization_request_endpoint", h.PushedAuthorizationRequestEndpoint},
		{"holder.userinfo_endpoint", h.UserinfoEndpoint},
		{"holder.introspection_endpoint", h.IntrospectionEndpoint},
		{"holder.revocation_endpoint", h.RevocationEndpoint},
		{"holder.jwks_uri", h.JWKSURI},
	} {
		if e.value == "" {
			continue
		}
		if err := absoluteHTTPSEndpoint(e.key, e.value); err != nil {
			return err
		}
	}
	if h.AuthorizationEndpoint == "" {
		// These only mean something next to an authorization endpoint.
		if h.PushedAuthorizationRequestEndpoint != "" {
			return fmt.Errorf("holder.pushed_authorization_request_endpoint: needs holder.authorization_endpoint")
		}
		if h.UserinfoEndpoint != "" {
			return fmt.Errorf("holder.userinfo_endpoint: needs holder.authorization_endpoint")
		}
	}
	if len(h.SubjectTypesSupported) == 0 {
		return fmt.Errorf("holder.subject_types_supported: must list at least one subject type")
	}
	for _, st := range h.SubjectTypesSupported {
		if st != "pairwise" && st != "public" {
			return fmt.Errorf("holder.subject_types_supported: %q is not one of \"pairwise\", \"public\"", st)
		}
	}
	return nil
}

// absoluteHTTPSEndpoint accepts an absolute https URL without a fragment or
// credentials, as RFC 8414 and RFC 6749 require of published endpoints.
func absoluteHTTPSEndpoint(key, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "":
		return fmt.Errorf("%s: %q is not an absolute https URL", key, raw)
	case u.Fragment != "" || u.RawFragment != "" || u.User != nil:
		return fmt.Errorf("%s: %q must not carry a fragment or user information", key, raw)
	}
	return nil
}
