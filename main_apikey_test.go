package main

import (
	"context"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/store"
)

// TestAPIKeyCommands: a key is printed once and stored as a hash; list never
// shows key material; revoke takes effect; keys refuses a missing database.
func TestAPIKeyCommands(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, nil)
	if code, _, stderr := runCLI(t, nil, "keys", "list", "--config", cfg.Path); code != 2 || !strings.Contains(stderr, "database.path") {
		t.Fatalf("keys on a missing database: %d %s", code, stderr)
	}
	db, err := store.Open(context.Background(), cfg.DBPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	code, out, stderr := runCLI(t, nil, "apikey", "new", "as-prod", "--config", cfg.Path)
	if code != 0 || !strings.Contains(out, "dcrk_") {
		t.Fatalf("apikey new: %d %s %s", code, out, stderr)
	}
	key := out[strings.Index(out, "dcrk_"):]
	key = strings.TrimSpace(key)
	if code, _, _ := runCLI(t, nil, "apikey", "new", "as-prod", "--config", cfg.Path); code == 0 {
		t.Fatal("duplicate name accepted")
	}
	code, out, _ = runCLI(t, nil, "apikey", "list", "--config", cfg.Path)
	if code != 0 || !strings.Contains(out, "as-prod") || strings.Contains(out, key) || !strings.Contains(out, "active") {
		t.Fatalf("apikey list: %d %s", code, out)
	}
	if code, out, _ := runCLI(t, nil, "apikey", "revoke", "as-prod", "--config", cfg.Path); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %d %s", code, out)
	}
	if code, _, _ := runCLI(t, nil, "apikey", "revoke", "as-prod", "--config", cfg.Path); code == 0 {
		t.Fatal("revoking twice succeeded")
	}
	if _, out, _ := runCLI(t, nil, "apikey", "list", "--config", cfg.Path); !strings.Contains(out, "revoked") {
		t.Fatalf("list after revoke: %s", out)
	}
	code, out, _ = runCLI(t, nil, "keys", "rotate", "--config", cfg.Path)
	if code != 0 || !strings.Contains(out, "new signing key") || strings.Count(out, "ES256") < 2 {
		t.Fatalf("keys rotate: %d %s", code, out)
	}
}

// TestKeysRotateIsAudited: `dcrconsole keys rotate` leaves an audit event naming
// the new key, with the CLI as actor, and the chain still verifies.
func TestKeysRotateIsAudited(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, nil)
	db, err := store.Open(context.Background(), cfg.DBPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, stderr := runCLI(t, nil, "keys", "rotate", "--config", cfg.Path)
	if code != 0 {
		t.Fatalf("keys rotate: %d %s %s", code, out, stderr)
	}
	kid := strings.Fields(strings.TrimPrefix(out, "new signing key "))[0]
	ev := lastAuditEvent(t, cfg.DBPath)
	if ev.Type != store.EventHolderKeyRotate || ev.Actor != "cli" || ev.Outcome != store.OutcomeSuccess || !strings.Contains(ev.Reason, kid) {
		t.Fatalf("event %+v", ev)
	}
	if code, out, _ := runCLI(t, nil, "audit", "verify", "--config", cfg.Path); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify: %d %s", code, out)
	}
}
