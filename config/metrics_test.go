package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMetricsListen(t *testing.T) {
	tests := []struct {
		name, toml, wantErr, want string
	}{
		{"off by default", "", "", ""},
		{"own address", "[metrics]\nlisten = \"127.0.0.1:9464\"", "", "127.0.0.1:9464"},
		{"not host:port", "[metrics]\nlisten = \"9464\"", "metrics.listen", ""},
		{"the ADR-facing listener", "[server]\nlisten = \"127.0.0.1:8443\"\n[metrics]\nlisten = \"127.0.0.1:8443\"", "metrics.listen", ""},
		{"unknown key", "[metrics]\npath = \"/m\"", "metrics.path", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse(tc.toml, "test.toml")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v does not name %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || cfg.Metrics.Listen != tc.want {
				t.Fatalf("listen %q, error %v; want %q", cfg.Metrics.Listen, err, tc.want)
			}
		})
	}
}

func TestExampleMetricsMatchesDefaults(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(string(raw), "config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Metrics != Default().Metrics {
		t.Errorf("example [metrics] %+v, defaults %+v", cfg.Metrics, Default().Metrics)
	}
}
