package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleFileMatchesDefaults(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(string(raw), "config.example.toml")
	if err != nil {
		t.Fatalf("example config does not load: %v", err)
	}
	def := Default()
	if err := def.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if got, want := strings.Join(cfg.Holder.ScopesSupported, " "), strings.Join(def.Holder.ScopesSupported, " "); got != want {
		t.Errorf("example scopes differ from defaults:\n%s\n%s", got, want)
	}
	if cfg.Register.RefreshInterval.Duration != 5*time.Minute || cfg.Holder.ClockSkew.Duration != 30*time.Second {
		t.Errorf("durations: %+v %+v", cfg.Register.RefreshInterval, cfg.Holder.ClockSkew)
	}
	if cfg.Server.Listen != def.Server.Listen || cfg.Server.PublicURL != def.Server.PublicURL || cfg.Server.MaxBodyBytes != def.Server.MaxBodyBytes {
		t.Errorf("server section differs: %+v vs %+v", cfg.Server, def.Server)
	}
	if cfg.Outbound != def.Outbound || cfg.Register != def.Register || cfg.Log != def.Log || cfg.Database != def.Database {
		t.Errorf("example differs from defaults:\n%+v\n%+v", cfg, def)
	}
}

func TestParseErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name, toml, wantKey string
	}{
		{"unknown key", "[holder]\nissuer2 = \"x\"", "holder.issuer2"},
		{"unknown section", "[nope]\na = 1", "nope.a"},
		{"bad duration", "[holder]\nclock_skew = \"soon\"", "holder.clock_skew"},
		{"skew too large", "[holder]\nclock_skew = \"1h\"", "holder.clock_skew"},
		{"refresh too slow", "[register]\nrefresh_interval = \"10m\"", "register.refresh_interval"},
		{"bad listen", "[server]\nlisten = \"nope\"", "server.listen"},
		{"bad public url", "[server]\npublic_url = \"ftp://x\"", "server.public_url"},
		{"bad industry", "[register]\nindustry = \"mining\"", "register.industry"},
		{"bad response type", "[holder]\nresponse_types_supported = [\"token\"]", "holder.response_types_supported"},
		{"wrong type", "[holder]\njarm_encryption = \"yes\"", "holder.jarm_encryption"},
		{"missing ca file", "[outbound]\nca_file = \"/does/not/exist.pem\"", "outbound.ca_file"},
		{"bad proxy", "[server]\ntrusted_proxies = [\"proxy.local\"]", "server.trusted_proxies"},
		{"empty issuer", "[holder]\nissuer = \" \"", "holder.issuer"},
		{"bad log format", "[log]\nformat = \"xml\"", "log.format"},
		{"body limit", "[server]\nmax_body_bytes = 10", "server.max_body_bytes"},
		{"memory limit too small", "[server]\nmemory_limit_bytes = 1048576", "server.memory_limit_bytes"},
		{"memory limit negative", "[server]\nmemory_limit_bytes = -1", "server.memory_limit_bytes"},
		{"rsa keys over 8192 bits", "[outbound]\nmax_rsa_key_bits = 16384", "outbound.max_rsa_key_bits"},
		{"rsa keys under 2048 bits", "[outbound]\nmax_rsa_key_bits = 1024", "outbound.max_rsa_key_bits"},
		{"register answers under 64 KiB", "[register]\nmax_response_bytes = 65535", "register.max_response_bytes"},
		{"register answers over 256 MiB", "[register]\nmax_response_bytes = 268435457", "register.max_response_bytes"},
		{"register answers unbounded", "[register]\nmax_response_bytes = 0", "register.max_response_bytes"},
		{"adr answers under 1 KiB", "[outbound]\nmax_response_bytes = 1023", "outbound.max_response_bytes"},
		{"syntax", "[holder\n", "line"},
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

func TestParseOverridesDefaults(t *testing.T) {
	cfg, err := Parse(`
[server]
public_url = "https://dh.example/"
[holder]
issuer = "https://dh.example"
response_types_supported = ["code", "code id_token"]
allow_duplicate_registrations = true
[register]
check_status = false
refresh_interval = "1m"
`, "t")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.PublicURL != "https://dh.example" {
		t.Errorf("public_url not trimmed: %q", cfg.Server.PublicURL)
	}
	if !cfg.Holder.AllowDuplicateRegistrations || cfg.Register.CheckStatus || cfg.Register.RefreshInterval.Duration != time.Minute {
		t.Errorf("overrides lost: %+v %+v", cfg.Holder, cfg.Register)
	}
	if cfg.Register.Industry != "all" || cfg.Outbound.MaxResponseBytes != 1<<20 || cfg.Register.MaxResponseBytes != 32<<20 {
		t.Errorf("defaults lost: %+v", cfg)
	}
}
