package main

import (
	"os"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/config"
)

// TestDeploymentFiles: the example deployment's configuration loads (with the
// database URL from the environment, as compose.yaml provides it), and the
// compose file and the systemd unit run the commands this binary has.
func TestDeploymentFiles(t *testing.T) {
	t.Setenv(config.DatabaseURLEnv, "postgres://dcr:secret@postgres:5432/dcr?sslmode=disable")
	cfg, err := config.Load("deploy/dcrconsole.compose.toml")
	if err != nil || !cfg.Database.Postgres() {
		t.Fatalf("deploy/dcrconsole.compose.toml: %v", err)
	}
	for file, want := range map[string][]string{
		"compose.yaml":              {`"health", "--url", "http://127.0.0.1:8080/readyz"`, "DCRCONSOLE_DATABASE_URL", "dcrconsole-2"},
		"deploy/dcrconsole.service": {"ExecStart=/usr/local/bin/dcrconsole --config", "User=dcrconsole"},
		"Dockerfile":                {"CGO_ENABLED=1", "USER 10001", "FROM debian:bookworm-slim"},
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s lacks %q", file, w)
			}
		}
	}
	code, _, _ := runCLI(t, nil, "health", "--url", "http://127.0.0.1:1/readyz")
	if code != 1 {
		t.Fatalf("health against nothing: exit %d, want 1", code)
	}
}
