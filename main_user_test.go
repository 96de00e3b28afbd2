package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/store"
)

// lastLine is the last non-empty line of out: where the CLI prints a password.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// storedUser reads an account straight from the database file.
func storedUser(t *testing.T, dbPath, name string) store.User {
	t.Helper()
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.UserByName(context.Background(), name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return *u
}

// existingDatabase creates the configured database, as a first start would:
// the account commands refuse to create one (a typo must not make a new, empty database).
func existingDatabase(t *testing.T, path string) {
	t.Helper()
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

// TestUserCommand drives `dcrconsole user add|passwd|disable` against a config
// file and checks what each leaves in the database.
func TestUserCommand(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, nil)
	if code, _, stderr := runCLI(t, nil, "user", "add", "alice", "--config", cfg.Path); code != 2 || !strings.Contains(stderr, "database.path") {
		t.Fatalf("user add on a missing database: %d %s", code, stderr)
	}
	existingDatabase(t, cfg.DBPath)

	code, stdout, stderr := runCLI(t, nil, "user", "add", "alice", "--role", "operator", "--config", cfg.Path)
	if code != 0 || !strings.Contains(stdout, "one-time password") {
		t.Fatalf("user add: exit code %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	first := lastLine(stdout)
	u := storedUser(t, cfg.DBPath, "alice")
	if u.Role != store.RoleOperator || !u.MustChangePassword || u.Disabled {
		t.Fatalf("after add: %+v", u)
	}
	if !passwordMatches(t, u.PasswordHash, first) {
		t.Fatalf("the printed password %q is not the stored one", first)
	}
	// The CLI hashes with the default argon2id parameters, not the tests' cheap ones.
	if want := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", auth.DefaultHashParams.MemoryKiB, auth.DefaultHashParams.Passes, auth.DefaultHashParams.Lanes); !strings.HasPrefix(u.PasswordHash, want) {
		t.Fatalf("stored hash %q, want prefix %q", u.PasswordHash, want)
	}

	code, stdout, stderr = runCLI(t, nil, "user", "passwd", "alice", "--config", cfg.Path)
	if code != 0 || !strings.Contains(stdout, "one-time password") {
		t.Fatalf("user passwd: exit code %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	second := lastLine(stdout)
	u = storedUser(t, cfg.DBPath, "alice")
	if second == first || !passwordMatches(t, u.PasswordHash, second) || !u.MustChangePassword {
		t.Fatalf("after passwd: new password %q does not match, or no forced change: %+v", second, u)
	}

	code, stdout, stderr = runCLI(t, nil, "user", "disable", "alice", "--config", cfg.Path)
	if code != 0 || !strings.Contains(stdout, "disabled alice") {
		t.Fatalf("user disable: exit code %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if u = storedUser(t, cfg.DBPath, "alice"); !u.Disabled || u.Role != store.RoleOperator {
		t.Fatalf("after disable: %+v", u)
	}

	ev := lastAuditEvent(t, cfg.DBPath)
	if ev.Type != "operator.user.update" || ev.Actor != "cli" {
		t.Fatalf("last audit event %+v", ev)
	}
}

// TestUserCommandRefuses checks the CLI's refusals exit non-zero and change nothing.
func TestUserCommandRefuses(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, nil)
	existingDatabase(t, cfg.DBPath)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad role", []string{"user", "add", "bob", "--role", "root"}, "root"},
		{"unknown user for passwd", []string{"user", "passwd", "nobody"}, "not found"},
		{"unknown user for disable", []string{"user", "disable", "nobody"}, "not found"},
		{"unknown action", []string{"user", "delete", "bob"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, append(tt.args, "--config", cfg.Path)...)
			if code == 0 || !strings.Contains(stderr, tt.want) || strings.Contains(stdout, "password") {
				t.Fatalf("exit code %d, stdout %q, stderr %q; want non-zero and stderr with %q", code, stdout, stderr, tt.want)
			}
		})
	}
	code, stdout, stderr := runCLI(t, nil, "user", "add", "bob", "--config", cfg.Path)
	if code != 0 {
		t.Fatalf("user add after refusals: %d %q %q", code, stdout, stderr)
	}
	if u := storedUser(t, cfg.DBPath, "bob"); u.Role != store.RoleViewer {
		t.Fatalf("default role: %+v", u)
	}
}

func passwordMatches(t *testing.T, hash, password string) bool {
	t.Helper()
	ok, err := auth.VerifyPasswordHash(hash, password)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}
