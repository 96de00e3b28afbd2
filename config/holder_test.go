package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestHolderEndpointErrorsNameTheKey has one case per rule of the [holder]
// authorisation server endpoints.
func TestHolderEndpointErrorsNameTheKey(t *testing.T) {
	const auth = "authorization_endpoint = \"https://as.example/authorize\"\n"
	tests := []struct {
		name, toml, wantKey string
	}{
		{"authorization endpoint http", "authorization_endpoint = \"http://as.example/authorize\"", "holder.authorization_endpoint"},
		{"authorization endpoint relative", "authorization_endpoint = \"/authorize\"", "holder.authorization_endpoint"},
		{"authorization endpoint fragment", "authorization_endpoint = \"https://as.example/authorize#x\"", "holder.authorization_endpoint"},
		{"authorization endpoint credentials", "authorization_endpoint = \"https://u:p@as.example/authorize\"", "holder.authorization_endpoint"},
		{"authorization endpoint opaque", "authorization_endpoint = \"https:as.example\"", "holder.authorization_endpoint"},
		{"par not https", auth + "pushed_authorization_request_endpoint = \"ftp://as.example/par\"", "holder.pushed_authorization_request_endpoint"},
		{"userinfo no host", auth + "userinfo_endpoint = \"https:///userinfo\"", "holder.userinfo_endpoint"},
		{"introspection not a URL", "introspection_endpoint = \"::\"", "holder.introspection_endpoint"},
		{"revocation http", "revocation_endpoint = \"http://as.example/revoke\"", "holder.revocation_endpoint"},
		{"jwks_uri http", "jwks_uri = \"http://as.example/jwks\"", "holder.jwks_uri"},
		{"par without authorization endpoint", "pushed_authorization_request_endpoint = \"https://as.example/par\"", "holder.pushed_authorization_request_endpoint"},
		{"userinfo without authorization endpoint", "userinfo_endpoint = \"https://as.example/userinfo\"", "holder.userinfo_endpoint"},
		{"subject types empty", "subject_types_supported = []", "holder.subject_types_supported"},
		{"subject type unknown", "subject_types_supported = [\"ppid\"]", "holder.subject_types_supported"},
		{"endpoint wrong type", "authorization_endpoint = 1", "holder.authorization_endpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("[holder]\n"+tc.toml, "test.toml")
			if err == nil {
				t.Fatal("expected an error")
			}
			if !strings.Contains(err.Error(), tc.wantKey) {
				t.Errorf("error %q does not name %q", err, tc.wantKey)
			}
		})
	}
}

func TestHolderEndpointsParse(t *testing.T) {
	def := Default()
	if def.Holder.AuthorizationEndpoint != "" || !reflect.DeepEqual(def.Holder.SubjectTypesSupported, []string{"pairwise"}) {
		t.Fatalf("defaults: %+v", def.Holder.HolderEndpoints)
	}
	cfg, err := Parse(`[holder]
authorization_endpoint = "https://as.example/authorize"
pushed_authorization_request_endpoint = "https://as.example/par"
userinfo_endpoint = "https://as.example/userinfo"
introspection_endpoint = "https://as.example/introspect"
revocation_endpoint = "https://as.example/revoke"
jwks_uri = "https://as.example/jwks"
subject_types_supported = ["pairwise", "public"]
`, "t")
	if err != nil {
		t.Fatal(err)
	}
	want := HolderEndpoints{
		AuthorizationEndpoint: "https://as.example/authorize", PushedAuthorizationRequestEndpoint: "https://as.example/par",
		UserinfoEndpoint: "https://as.example/userinfo", IntrospectionEndpoint: "https://as.example/introspect",
		RevocationEndpoint: "https://as.example/revoke", JWKSURI: "https://as.example/jwks",
		SubjectTypesSupported: []string{"pairwise", "public"},
	}
	if !reflect.DeepEqual(cfg.Holder.HolderEndpoints, want) {
		t.Fatalf("got %+v", cfg.Holder.HolderEndpoints)
	}
}

func TestExampleHolderEndpointsMatchDefaults(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(string(raw), "config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if def := Default(); !reflect.DeepEqual(cfg.Holder.HolderEndpoints, def.Holder.HolderEndpoints) || cfg.Holder.JARMEncryption != def.Holder.JARMEncryption {
		t.Fatalf("example [holder] endpoints differ from defaults:\n%+v\n%+v", cfg.Holder.HolderEndpoints, def.Holder.HolderEndpoints)
	}
}
