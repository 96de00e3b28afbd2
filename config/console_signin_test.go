package config

import (
	"strings"
	"testing"
)

func TestConsoleSignInKeys(t *testing.T) {
	tests := []struct {
		name, toml, wantErr string
	}{
		{"require_mfa none", "[console]\nrequire_mfa = \"none\"", ""},
		{"require_mfa all", "[console]\nrequire_mfa = \"all\"", ""},
		{"require_mfa unknown", "[console]\nrequire_mfa = \"sometimes\"", "console.require_mfa"},
		{"public_url origin", "[console]\npublic_url = \"https://console.bank.example/\"", ""},
		{"public_url not http", "[console]\npublic_url = \"ftp://x\"", "console.public_url"},
		{"public_url with a path", "[console]\npublic_url = \"https://bank.example/console\"", "console.public_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse(tt.toml, "test")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasSuffix(cfg.Console.PublicURL, "/") {
					t.Errorf("trailing slash kept: %q", cfg.Console.PublicURL)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v does not name %s", err, tt.wantErr)
			}
		})
	}
	def := Default()
	if def.Console.RequireMFA != "admin" || def.ConsolePublicURL() != def.Server.PublicURL || def.MFAKeyPath() != "dcrconsole.db.mfa-key" {
		t.Fatalf("defaults: %+v %s %s", def.Console.ConsoleSignIn, def.ConsolePublicURL(), def.MFAKeyPath())
	}
	def.Database.Driver = DriverPostgres
	if def.MFAKeyPath() != "" {
		t.Fatalf("PostgreSQL replicas would each make their own key: %q", def.MFAKeyPath())
	}
	def.Console.MFAKeyFile = "/run/secrets/mfa-key"
	if def.MFAKeyPath() != "/run/secrets/mfa-key" {
		t.Fatal(def.MFAKeyPath())
	}
}
