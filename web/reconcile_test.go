package web

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// TestRegisterRemovalConverges: a registration that is still active although its
// product is REMOVED (it slipped in after the sweep, or the sweep failed or the
// process died before it) is removed at the next sync, and at the next start
// from the stored Register data alone.
func TestRegisterRemovalConverges(t *testing.T) {
	h := newHarness(t)
	id := h.registered(t)
	setStatus(t, h, func() error { return h.eco.Register.SetProductStatus(h.eco.Products[0].ID, "REMOVED") })
	if c, _ := h.db.GetClient(t.Context(), id); c.Status != store.StatusRemoved {
		t.Fatalf("not removed by the sync: %s", c.Status)
	}

	revive := func() {
		t.Helper()
		if err := storetest.Gorm(t, h.db).Exec("UPDATE clients SET status = 'active', active_software_id = lower(software_id) WHERE id = ?", id).Error; err != nil {
			t.Fatal(err)
		}
	}
	// A sync that changes nothing still converges.
	revive()
	if err := h.app.RegisterData.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c, _ := h.db.GetClient(t.Context(), id); c.Status != store.StatusRemoved {
		t.Fatalf("not removed by an unchanged sync: %s", c.Status)
	}

	// A restart converges from the stored snapshot, without the Register.
	revive()
	h.eco.Register.SetDown(true)
	app, err := Build(context.Background(), h.cfg, h.db, slog.New(slog.NewTextHandler(io.Discard, nil)),
		BuildOptions{RootCAs: h.ca.Pool(), PasswordHash: auth.CheapHashParams})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.RegisterData.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c, _ := h.db.GetClient(t.Context(), id); c.Status != store.StatusRemoved {
		t.Fatalf("not removed at start: %s", c.Status)
	}
	var events int64
	storetest.Gorm(t, h.db).Model(&store.AuditEvent{}).Where("type = 'client.status' AND actor = 'cdr-register' AND client_id = ?", id).Count(&events)
	if events != 3 {
		t.Fatalf("%d removal events, want one per removal", events)
	}
}
