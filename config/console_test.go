package config

import (
	"strings"
	"testing"
)

const goodOIDC = `[console.oidc]
issuer = "https://login.example/tenant/v2.0"
client_id = "dcrconsole"
roles = { "dcr-admins" = "admin" }
`

func TestConsoleKeysNameTheKey(t *testing.T) {
	tests := []struct {
		name, toml, wantKey string
	}{
		{"listen not host:port", "[console]\nlisten = \"nope\"", "console.listen"},
		{"listen equals server.listen", "[server]\nlisten = \"127.0.0.1:9000\"\n[console]\nlisten = \"127.0.0.1:9000\"", "console.listen"},
		{"cert without key", "[console]\nlisten = \"127.0.0.1:9001\"\ntls_cert_file = \"/x.pem\"", "console.tls_cert_file and console.tls_key_file"},
		{"missing cert file", "[console]\nlisten = \"127.0.0.1:9001\"\ntls_cert_file = \"/no/x.pem\"\ntls_key_file = \"/no/k.pem\"", "console.tls_"},
		{"cert without listen", "[console]\ntls_cert_file = \"/x.pem\"\ntls_key_file = \"/k.pem\"", "console.tls_cert_file"},
		{"bad public url", "[console]\npublic_url = \"ftp://x\"", "console.public_url"},
		{"public url with a path", "[console]\npublic_url = \"https://x.example/console\"", "console.public_url"},
		{"http issuer off loopback", strings.Replace(goodOIDC, "https://login.example", "http://login.example", 1), "console.oidc.issuer"},
		{"issuer with query", strings.Replace(goodOIDC, "v2.0", "v2.0?x=1", 1), "console.oidc.issuer"},
		{"no client id", strings.Replace(goodOIDC, `client_id = "dcrconsole"`, `client_id = ""`, 1), "console.oidc.client_id"},
		{"no secret source", goodOIDC + "client_secret_env = \"\"\n", "console.oidc.client_secret_env"},
		{"missing private key", goodOIDC + "private_key_file = \"/no/key.pem\"\n", "console.oidc.private_key_file"},
		{"scopes without openid", goodOIDC + "scopes = [\"profile\"]\n", "console.oidc.scopes"},
		{"empty role claim", goodOIDC + "role_claim = \"\"\n", "console.oidc.role_claim"},
		{"no roles", strings.Replace(goodOIDC, `roles = { "dcr-admins" = "admin" }`, "", 1), "console.oidc.roles"},
		{"unknown role", strings.Replace(goodOIDC, `"admin" }`, `"root" }`, 1), "console.oidc.roles"},
		{"unknown oidc key", goodOIDC + "groups_claim = \"x\"\n", "console.oidc.groups_claim"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.toml, "test.toml")
			if err == nil {
				t.Fatal("expected an error")
			}
			if !strings.Contains(err.Error(), tc.wantKey) {
				t.Errorf("error %q does not name %q", err, tc.wantKey)
			}
		})
	}
}

func TestConsoleDefaultsAndPublicURL(t *testing.T) {
	def := Default()
	if def.Console.Listen != "" || def.Console.OIDC.Enabled() || !def.Console.OIDC.AllowLocalLogin ||
		def.Console.OIDC.ClientSecretEnv != "DCRCONSOLE_OIDC_CLIENT_SECRET" || def.Console.OIDC.RoleClaim != "groups" ||
		strings.Join(def.Console.OIDC.Scopes, " ") != "openid profile email" {
		t.Errorf("defaults: %+v", def.Console)
	}
	cfg, err := Parse(goodOIDC, "t")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ConsolePublicURL() != cfg.Server.PublicURL {
		t.Errorf("console on the main listener: %q", cfg.ConsolePublicURL())
	}
	cfg, err = Parse("[console]\nlisten = \"10.0.0.5:8443\"\n", "t")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ConsolePublicURL() != "http://10.0.0.5:8443" {
		t.Errorf("own plain listener: %q", cfg.ConsolePublicURL())
	}
	cfg, err = Parse("[console]\nlisten = \"10.0.0.5:8443\"\npublic_url = \"https://dcr-console.bank.internal/\"\n", "t")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ConsolePublicURL() != "https://dcr-console.bank.internal" {
		t.Errorf("configured: %q", cfg.ConsolePublicURL())
	}
	if _, err := Parse(strings.Replace(goodOIDC, "https://login.example", "http://127.0.0.1:9999", 1), "t"); err != nil {
		t.Errorf("http issuer on loopback: %v", err)
	}
}
