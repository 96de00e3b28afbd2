package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/alerts"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

func TestAlertJWKSUnreachableForAnActiveClient(t *testing.T) {
	hook := newWebhookReceiver(t)
	h := newHarness(t, alertsConfig(hook.URL, ""), func(c *config.Config) {
		c.Outbound.JWKSCacheTTL = config.Duration{Duration: time.Second}
	})
	h.startOps(t)
	id := h.registered(t)
	client, err := h.db.GetClient(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	adr := h.eco.ADRs[0]
	adr.SetJWKSDown(true)
	// The ADR's next token request after the TTL finds its JWKS gone.
	waitFor(t, "a failed JWKS fetch", func() bool {
		h.token(tokenForm(assertionFor(t, adr, id, jwa.ES256, nil), nil))
		_, _, lastErr, _ := h.app.JWKS.Snapshot(client.JWKSURI)
		return lastErr != nil
	})
	waitFor(t, "the JWKS alert", func() bool { _, ok := hook.find(alerts.KindJWKSUnreachable, alerts.StatusFiring); return ok })
	p, _ := hook.find(alerts.KindJWKSUnreachable, alerts.StatusFiring)
	if !strings.Contains(p.Message, client.JWKSURI) || !strings.Contains(p.Message, "used by 1 active clients") {
		t.Errorf("message: %q", p.Message)
	}
	// The evaluator fetches it again itself: it resolves with no client calling.
	adr.SetJWKSDown(false)
	waitFor(t, "the JWKS alert to resolve", func() bool { _, ok := hook.find(alerts.KindJWKSUnreachable, alerts.StatusResolved); return ok })
}

func TestAlertDatabaseWriteFailures(t *testing.T) {
	hook := newWebhookReceiver(t)
	h := newHarness(t, alertsConfig(hook.URL, ""), func(c *config.Config) {
		c.Alerts.RejectionWindow = config.Duration{Duration: time.Second}
	})
	h.startOps(t)
	g := storetest.Gorm(t, h.db)
	// A table gone from under the server: a registration's write fails in the database.
	if err := g.Exec(`ALTER TABLE client_search RENAME TO client_search_moved`).Error; err != nil {
		t.Fatal(err)
	}
	if r := h.register(h.validRequest(t)); r.status != http.StatusInternalServerError {
		t.Fatalf("registration with the table gone: %d %s", r.status, r.body)
	}
	waitFor(t, "the write failure alert", func() bool { _, ok := hook.find(alerts.KindDatabaseWrites, alerts.StatusFiring); return ok })
	p, _ := hook.find(alerts.KindDatabaseWrites, alerts.StatusFiring)
	if !strings.Contains(p.Message, "no such table") && !strings.Contains(p.Message, "does not exist") { // SQLite, PostgreSQL
		t.Errorf("message: %q", p.Message)
	}
	if err := g.Exec(`ALTER TABLE client_search_moved RENAME TO client_search`).Error; err != nil {
		t.Fatal(err)
	}
	if r := h.register(h.validRequest(t)); r.status != http.StatusCreated {
		t.Fatalf("registration with the table back: %d %s", r.status, r.body)
	}
	waitFor(t, "the write failure alert to resolve", func() bool { _, ok := hook.find(alerts.KindDatabaseWrites, alerts.StatusResolved); return ok })
	if n := len(h.auditOfType(t, store.EventAlertFire)); n != 1 {
		t.Errorf("%d alert.fire events", n)
	}
}
