package web

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/dcrconsole/dcrconsole/config"
)

var discoveryPaths = []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"}

// TestDiscoveryMetadata is a table over [holder] configurations: no code or
// authorization_code without an authorization_endpoint, OpenID metadata
// (subject_types_supported) with one, and the same document at both paths.
func TestDiscoveryMetadata(t *testing.T) {
	const as = "https://as.example"
	tests := []struct {
		name string
		edit func(*config.Holder)
		want map[string]any // members that must have exactly these values
		none []string       // members that must be absent
	}{
		{name: "no holder endpoints", edit: func(*config.Holder) {},
			want: map[string]any{
				"response_types_supported": []any{}, "grant_types_supported": []any{"client_credentials"},
				"jwks_uri": testIssuer + "/jwks", "registration_endpoint": testIssuer + "/register", "token_endpoint": testIssuer + "/token",
			},
			none: []string{"authorization_endpoint", "subject_types_supported", "pushed_authorization_request_endpoint",
				"userinfo_endpoint", "introspection_endpoint", "revocation_endpoint"}},
		{name: "hybrid configured but no authorization endpoint", edit: func(h *config.Holder) { h.ResponseTypesSupported = []string{"code", "code id_token"} },
			want: map[string]any{"response_types_supported": []any{}, "grant_types_supported": []any{"client_credentials"}},
			none: []string{"authorization_endpoint", "subject_types_supported"}},
		{name: "revocation and introspection only", edit: func(h *config.Holder) {
			h.RevocationEndpoint, h.IntrospectionEndpoint = as+"/revoke", as+"/introspect"
		},
			want: map[string]any{"revocation_endpoint": as + "/revoke", "introspection_endpoint": as + "/introspect",
				"response_types_supported": []any{}, "grant_types_supported": []any{"client_credentials"}},
			none: []string{"authorization_endpoint", "subject_types_supported"}},
		{name: "authorization endpoint", edit: func(h *config.Holder) { h.AuthorizationEndpoint = as + "/authorize" },
			want: map[string]any{
				"authorization_endpoint": as + "/authorize", "response_types_supported": []any{"code"},
				"grant_types_supported":   []any{"authorization_code", "client_credentials", "refresh_token"},
				"subject_types_supported": []any{"pairwise"}, "jwks_uri": testIssuer + "/jwks",
			},
			none: []string{"pushed_authorization_request_endpoint", "userinfo_endpoint"}},
		{name: "every holder endpoint", edit: func(h *config.Holder) {
			h.AuthorizationEndpoint, h.PushedAuthorizationRequestEndpoint, h.UserinfoEndpoint = as+"/authorize", as+"/par", as+"/userinfo"
			h.IntrospectionEndpoint, h.RevocationEndpoint, h.JWKSURI = as+"/introspect", as+"/revoke", as+"/jwks"
			h.ResponseTypesSupported = []string{"code", "code id_token"}
			h.SubjectTypesSupported = []string{"pairwise", "public"}
		},
			want: map[string]any{
				"authorization_endpoint": as + "/authorize", "pushed_authorization_request_endpoint": as + "/par",
				"userinfo_endpoint": as + "/userinfo", "introspection_endpoint": as + "/introspect", "revocation_endpoint": as + "/revoke",
				"jwks_uri": as + "/jwks", "response_types_supported": []any{"code", "code id_token"},
				"grant_types_supported":   []any{"authorization_code", "client_credentials", "refresh_token"},
				"subject_types_supported": []any{"pairwise", "public"},
				"registration_endpoint":   testIssuer + "/register", "token_endpoint": testIssuer + "/token",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *config.Config) { tc.edit(&c.Holder) })
			var docs []string
			for _, path := range discoveryPaths {
				r := h.do(http.MethodGet, path, "", "", nil)
				if r.status != http.StatusOK {
					t.Fatalf("%s: %d %s", path, r.status, r.body)
				}
				docs = append(docs, string(r.body))
				for k, v := range tc.want {
					if !reflect.DeepEqual(r.json[k], v) {
						t.Errorf("%s: %s = %#v, want %#v", path, k, r.json[k], v)
					}
				}
				for _, k := range tc.none {
					if v, ok := r.json[k]; ok {
						t.Errorf("%s: %s = %v, want absent", path, k, v)
					}
				}
				// Never code or authorization_code without the endpoint that serves them.
				if _, hasAuthz := r.json["authorization_endpoint"]; !hasAuthz {
					if rts := r.json["response_types_supported"].([]any); len(rts) != 0 {
						t.Errorf("%s: response types %v without an authorization_endpoint", path, rts)
					}
				}
			}
			if docs[0] != docs[1] {
				t.Errorf("the two paths differ:\n%s\n%s", docs[0], docs[1])
			}
		})
	}
}

// TestDiscoveryHEAD: HEAD answers 200 with the GET's headers and no body, on both paths.
func TestDiscoveryHEAD(t *testing.T) {
	h := newHarness(t)
	for _, path := range discoveryPaths {
		t.Run(path, func(t *testing.T) {
			get := h.do(http.MethodGet, path, "", "", nil)
			head := h.do(http.MethodHead, path, "", "", nil)
			if head.status != http.StatusOK || len(head.body) != 0 {
				t.Fatalf("HEAD: %d, %d body bytes", head.status, len(head.body))
			}
			for _, k := range []string{"Content-Type", "Content-Length", "Cache-Control"} {
				if head.header.Get(k) == "" || head.header.Get(k) != get.header.Get(k) {
					t.Errorf("%s: HEAD %q, GET %q", k, head.header.Get(k), get.header.Get(k))
				}
			}
		})
	}
}
