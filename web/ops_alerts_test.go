package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/alerts"
	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// startOps rebuilds h.app with the operations jobs tuned for tests (fast polls
// and retries) and runs them until the test ends or stop is called.
func (h *harness) startOps(t *testing.T) (stop func()) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := Build(context.Background(), h.cfg, h.db, log, BuildOptions{RootCAs: h.ca.Pool(), ForcedRefreshMinInterval: -1,
		PasswordHash: auth.CheapHashParams, StreamPoll: 20 * time.Millisecond,
		Notify: alerts.NotifierOptions{InitialBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.RegisterData.Load(context.Background()); err != nil { // as main's StartLoad
		t.Fatal(err)
	}
	h.app = app
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	app.RunOps(ctx, h.cfg, log)
	return cancel
}

// alertsConfig sends alerts to hook (and mail when smtpAddr is set) and
// evaluates them every 20 ms.
func alertsConfig(hook, smtpAddr string) harnessOption {
	return func(c *config.Config) {
		c.Alerts.WebhookURL = hook
		if smtpAddr != "" {
			c.Alerts.SMTPAddr, c.Alerts.SMTPFrom, c.Alerts.SMTPTo = smtpAddr, "dcr@bank.test", []string{"ops@bank.test", "sec@bank.test"}
		}
		c.Alerts.EvaluateEvery = config.Duration{Duration: 20 * time.Millisecond}
	}
}

// auditTypes lists the audit events of type t, oldest first.
func (h *harness) auditOfType(t *testing.T, typ store.EventType) []store.AuditEvent {
	t.Helper()
	var evs []store.AuditEvent
	if err := storetest.Gorm(t, h.db).Where("type = ?", typ).Order("id").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestAlertRegisterSyncFiresIsDeliveredAndResolves(t *testing.T) {
	hook := newWebhookReceiver(t)
	mail := newSMTPReceiver(t)
	h := newHarness(t, alertsConfig(hook.URL, mail.Addr()))
	tc, err := h.ca.ServerTLSConfig("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	mail.serve(tc) // STARTTLS offered, with a certificate of the test CA
	h.startOps(t)

	h.eco.Register.SetDown(true)
	for range 2 {
		if err := h.app.RegisterData.Sync(context.Background()); err == nil {
			t.Fatal("sync succeeded with the Register down")
		}
	}
	waitFor(t, "the firing webhook", func() bool { _, ok := hook.find(alerts.KindRegisterSync, alerts.StatusFiring); return ok })
	p, _ := hook.find(alerts.KindRegisterSync, alerts.StatusFiring)
	if !strings.Contains(p.Message, "2 consecutive Register syncs failed") || p.Server != testIssuer || p.AlertID == 0 {
		t.Errorf("webhook payload: %+v", p)
	}
	waitFor(t, "the firing mail", func() bool { return len(mail.messages()) > 0 })
	m := mail.messages()[0]
	if !m.TLS || m.From != "dcr@bank.test" || len(m.To) != 2 || !strings.Contains(m.Data, "Subject: [dcrconsole] FIRING: CDR Register sync stale or failing") ||
		!strings.Contains(m.Data, "consecutive Register syncs failed") {
		t.Errorf("mail (TLS %v) from %s to %v:\n%s", m.TLS, m.From, m.To, m.Data)
	}
	if fired := h.auditOfType(t, store.EventAlertFire); len(fired) != 1 || fired[0].Actor != alerts.Actor {
		t.Fatalf("alert.fire events: %+v", fired)
	}
	// Both deliveries show on the page.
	viewer := h.operator(t, store.RoleViewer)
	waitFor(t, "the delivery status on the page", func() bool {
		body := string(h.console(http.MethodGet, "/console/alerts", viewer, "").body)
		return strings.Contains(body, "smtp: firing delivered") && strings.Contains(body, "webhook: firing delivered")
	})

	h.eco.Register.SetDown(false)
	if err := h.app.RegisterData.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the resolved webhook", func() bool { _, ok := hook.find(alerts.KindRegisterSync, alerts.StatusResolved); return ok })
	waitFor(t, "the resolved mail", func() bool {
		for _, m := range mail.messages() {
			if strings.Contains(m.Data, "Subject: [dcrconsole] RESOLVED") {
				return true
			}
		}
		return false
	})
	if resolved := h.auditOfType(t, store.EventAlertResolve); len(resolved) != 1 {
		t.Fatalf("alert.resolve events: %+v", resolved)
	}
	// Fired once: however many evaluations ran while it fired, one firing notification.
	hook.mu.Lock()
	defer hook.mu.Unlock()
	n := 0
	for _, p := range hook.got {
		if p.Alert == string(alerts.KindRegisterSync) && p.Status == alerts.StatusFiring {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d firing notifications, want 1 (repeat_every is 1h)", n)
	}
}

func TestAlertRejectionBurstNamesTopCodeAndStep(t *testing.T) {
	hook := newWebhookReceiver(t)
	hook.fail = 2 // the first deliveries fail: retried with backoff
	h := newHarness(t, alertsConfig(hook.URL, ""), func(c *config.Config) { c.Alerts.RejectionMinAttempts = 6 })
	h.startOps(t)
	bad := h.requestFor(t, h.eco.ADRs[0], h.eco.Products[0], "PS256", func(c map[string]any) { c["software_statement"] = "not-a-jwt" })
	for range 6 {
		if r := h.register(bad); r.status != http.StatusBadRequest {
			t.Fatalf("bad registration: %d %s", r.status, r.body)
		}
	}
	attempts := h.auditOfType(t, store.EventRegistrationCreate)
	refused := attempts[len(attempts)-1]
	waitFor(t, "the rejection alert", func() bool { _, ok := hook.find(alerts.KindRejectionRate, alerts.StatusFiring); return ok })
	p, _ := hook.find(alerts.KindRejectionRate, alerts.StatusFiring)
	want := "top: " + refused.ErrorCode + " at step " + refused.Step + " (6)"
	if !strings.Contains(p.Message, "6 of 6 registration attempts (100%)") || !strings.Contains(p.Message, want) {
		t.Errorf("message %q lacks %q", p.Message, want)
	}
	// The failed attempts before the delivery are visible as its status history; it ends delivered.
	waitFor(t, "the delivered status", func() bool {
		a, err := h.db.GetAlert(context.Background(), p.AlertID)
		return err == nil && strings.HasPrefix(a.Delivery, "webhook: firing delivered")
	})
}

func TestAlertAcknowledgeIsAuditedAndNeedsOperator(t *testing.T) {
	hook := newWebhookReceiver(t)
	h := newHarness(t, alertsConfig(hook.URL, ""), func(c *config.Config) { c.Alerts.SigningKeyMaxAge = config.Duration{Duration: time.Nanosecond} })
	h.startOps(t)
	waitFor(t, "the key age alert", func() bool { _, ok := hook.find(alerts.KindSigningKeyAge, alerts.StatusFiring); return ok })
	p, _ := hook.find(alerts.KindSigningKeyAge, alerts.StatusFiring)
	path := "/console/alerts/" + strconv.FormatInt(p.AlertID, 10) + "/ack"

	viewer := h.operator(t, store.RoleViewer)
	if r := h.console(http.MethodPost, path, viewer, "note=mine"); r.status != http.StatusForbidden {
		t.Errorf("viewer ack: %d", r.status)
	}
	op := h.operator(t, store.RoleOperator)
	for _, tc := range []struct{ name, path, form, flash string }{
		{"no note", path, "note=+", "Write a note"},
		{"unknown alert", "/console/alerts/999/ack", "note=x", "not firing"},
		{"not a number", "/console/alerts/x/ack", "note=x", "No such alert"},
		{"acknowledged", path, "note=rotating+tonight", "Alert acknowledged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.console(http.MethodPost, tc.path, op, tc.form)
			if r.status != http.StatusSeeOther {
				t.Fatalf("%d %s", r.status, r.body)
			}
			cookie := op
			for _, c := range (&http.Response{Header: r.header}).Cookies() {
				cookie += "; " + c.Name + "=" + c.Value
			}
			if page := h.console(http.MethodGet, "/console/alerts", cookie, ""); !strings.Contains(string(page.body), tc.flash) {
				t.Errorf("page lacks %q", tc.flash)
			}
		})
	}
	acks := h.auditOfType(t, store.EventOperatorAlertAck)
	if len(acks) != 1 || acks[0].Actor != "user:operator-user" || !strings.Contains(acks[0].Reason, "rotating tonight") {
		t.Fatalf("operator.alert.ack events: %+v", acks)
	}
	page := string(h.console(http.MethodGet, "/console/alerts", viewer, "").body)
	if !strings.Contains(page, "acknowledged") || !strings.Contains(page, "rotating tonight") || strings.Contains(page, ">Acknowledge<") {
		t.Errorf("alerts page after ack:\n%s", page)
	}
}

func TestScheduledVerificationAlertsOnTamper(t *testing.T) {
	hook := newWebhookReceiver(t)
	h := newHarness(t, alertsConfig(hook.URL, ""), func(c *config.Config) {
		c.Audit.VerifyEvery = config.Duration{Duration: 100 * time.Millisecond}
	})
	if r := h.register(h.validRequest(t)); r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	h.startOps(t)
	waitFor(t, "a scheduled verification", func() bool { return len(h.auditOfType(t, store.EventAuditVerifyScheduled)) > 0 })
	if v := h.auditOfType(t, store.EventAuditVerifyScheduled)[0]; v.Actor != "scheduler" || !strings.Contains(v.Data, `"ok":true`) {
		t.Fatalf("first scheduled verification: %+v", v)
	}
	if _, ok := hook.find(alerts.KindChainVerification, alerts.StatusFiring); ok {
		t.Fatal("alert before tampering")
	}
	if err := storetest.Gorm(t, h.db).Exec(`UPDATE audit_events SET reason = 'nothing happened' WHERE id = 1`).Error; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the verification alert", func() bool { _, ok := hook.find(alerts.KindChainVerification, alerts.StatusFiring); return ok })
	p, _ := hook.find(alerts.KindChainVerification, alerts.StatusFiring)
	if !strings.Contains(p.Message, "chain broken at event 1") || !strings.Contains(p.Message, "by scheduler") {
		t.Errorf("message: %q", p.Message)
	}
}
