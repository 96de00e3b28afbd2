package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/alerts"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// TestWriteFailureOnAnotherReplicaAlertsOnTheLeader: the alerts run on the
// leader only; a write that fails on another replica fires the leader's
// database write alert once that replica reports (main runs the report on
// every replica, every alerts.evaluate_every), naming the replica.
func TestWriteFailureOnAnotherReplicaAlertsOnTheLeader(t *testing.T) {
	hook := newWebhookReceiver(t)
	leader := newHarness(t, onPostgres(t), alertsConfig(hook.URL, ""), func(c *config.Config) {
		c.Alerts.RejectionWindow = config.Duration{Duration: time.Minute}
	})
	other := leader.replica(t)
	leader.startOps(t)
	g := storetest.Gorm(t, leader.db)
	if err := g.Exec(`ALTER TABLE client_search RENAME TO client_search_moved`).Error; err != nil {
		t.Fatal(err)
	}
	r := other.register(other.validRequest(t))
	if err := g.Exec(`ALTER TABLE client_search_moved RENAME TO client_search`).Error; err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusInternalServerError {
		t.Fatalf("registration on the other replica with the table gone: %d %s", r.status, r.body)
	}
	if own := leader.db.WriteFailures(); own.Count != 0 {
		t.Fatalf("the leader failed writes itself: %+v", own)
	}
	if err := other.db.ReportWriteFailures(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the write failure alert", func() bool { _, ok := hook.find(alerts.KindDatabaseWrites, alerts.StatusFiring); return ok })
	p, _ := hook.find(alerts.KindDatabaseWrites, alerts.StatusFiring)
	if !strings.Contains(p.Message, "on replica "+other.db.Replica()) || !strings.Contains(p.Message, "does not exist") {
		t.Errorf("message: %q", p.Message)
	}
}
