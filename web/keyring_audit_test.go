package web

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/authz"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// TestKeyReloadAnnouncesNewSigner: when a reload finds a key rotated by the CLI,
// the server logs and audits that it now signs with it, once.
func TestKeyReloadAnnouncesNewSigner(t *testing.T) {
	h := newHarness(t)
	var logs bytes.Buffer
	ring, err := authz.NewKeyRing(context.Background(), h.db, h.cfg.Holder.SigningAlg, h.app.Audit, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	oldKID := ring.SigningKeyID()
	if err := ring.Reload(t.Context()); err != nil || strings.Contains(logs.String(), "new key") {
		t.Fatalf("a reload without rotation announced something: %v %s", err, logs.String())
	}
	newKID, err := rotate(h)
	if err != nil {
		t.Fatal(err)
	}
	if ev := h.lastAudit(t); ev.Type != store.EventHolderKeyRotate || ev.Actor != "test" || !strings.Contains(ev.Reason, newKID) {
		t.Fatalf("rotation event %+v", ev)
	}
	for range 2 {
		if err := ring.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	ev := h.lastAudit(t)
	if ev.Type != store.EventHolderKeyActivate || ev.Actor != "server" || ev.Outcome != store.OutcomeSuccess ||
		!strings.Contains(ev.Reason, newKID) || !strings.Contains(ev.Data, oldKID) {
		t.Fatalf("activation event %+v", ev)
	}
	var n int64
	storetest.Gorm(t, h.db).Model(&store.AuditEvent{}).Where("type = ?", store.EventHolderKeyActivate).Count(&n)
	if n != 1 {
		t.Fatalf("%d activation events, want 1", n)
	}
	if !strings.Contains(logs.String(), "signing with a new key") || !strings.Contains(logs.String(), newKID) {
		t.Fatalf("no log line: %s", logs.String())
	}
}
