package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDatabaseKeys(t *testing.T) {
	cases := []struct {
		name, toml, wantErr string
	}{
		{"sqlite default", ``, ""},
		{"old path key still selects sqlite", "[database]\npath = \"x.db\"", ""},
		{"postgres", "[database]\ndriver = \"postgres\"\nurl = \"postgres://u:p@db:5432/dcr\"", ""},
		{"unknown driver", "[database]\ndriver = \"mysql\"", "database.driver"},
		{"postgres without url", "[database]\ndriver = \"postgres\"", "database.url"},
		{"postgres bad url", "[database]\ndriver = \"postgres\"\nurl = \"mysql://x\"", "database.url"},
		{"empty path", "[database]\npath = \"\"", "database.path"},
		{"max_open_conns zero", "[database]\nmax_open_conns = 0", "database.max_open_conns"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.toml, "t.toml")
			if c.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("got %v, want an error naming %s", err, c.wantErr)
			}
		})
	}
}

// TestDatabaseURLFromEnvironment: the URL (and its password) can stay out of the file.
func TestDatabaseURLFromEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(path, []byte("[database]\ndriver = \"postgres\"\nurl = \"postgres://file@h/db\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(DatabaseURLEnv, "postgres://env:secret@h:5432/db")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.DSN() != "postgres://env:secret@h:5432/db" {
		t.Fatalf("DSN %q", cfg.Database.DSN())
	}
	if strings.Contains(cfg.Database.Describe(), "secret") {
		t.Fatalf("Describe leaks the password: %s", cfg.Database.Describe())
	}
}
