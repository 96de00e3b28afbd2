package web

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
)

// TestBrowserAcknowledgeAlert: an operator signs in, follows the nav link to
// the Alerts page, sees the firing alert and acknowledges it with a note.
func TestBrowserAcknowledgeAlert(t *testing.T) {
	h, base, ctx := browserHarness(t, func(c *config.Config) {
		c.Alerts.SigningKeyMaxAge = config.Duration{Duration: time.Nanosecond}
		c.Alerts.EvaluateEvery = config.Duration{Duration: 20 * time.Millisecond}
	})
	opsCtx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h.app.RunOps(opsCtx, h.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var firing []store.Alert
	waitFor(t, "the key age alert", func() bool {
		firing, _ = h.db.FiringAlerts(context.Background())
		return len(firing) == 1
	})
	if _, err := h.app.Auth.CreateUser(t.Context(), "test", "op", testPassword, store.RoleOperator, false, ""); err != nil {
		t.Fatal(err)
	}
	note := "#ack-note-" + strconv.FormatInt(firing[0].ID, 10)
	browse(t, ctx, "login and open Alerts",
		chromedp.Navigate(base+"/console/login"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "op"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label="Main"]`)),
		chromedp.Click(chromedp.CSS(`nav a[href="/console/alerts"]`)),
		chromedp.WaitVisible(chromedp.CSS(note)),
	)
	if text := bodyText(t, ctx); !strings.Contains(text, "Signing key older than its maximum age") || !strings.Contains(text, "Since") {
		t.Fatalf("alerts page:\n%s", text)
	}
	browse(t, ctx, "acknowledge",
		chromedp.SendKeys(chromedp.CSS(note), "rotation booked for tonight"),
		chromedp.Submit(chromedp.CSS(note)),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	text := bodyText(t, ctx)
	if !strings.Contains(text, "Alert acknowledged") || !strings.Contains(text, "by user:op") || !strings.Contains(text, "rotation booked for tonight") {
		t.Fatalf("after acknowledging:\n%s", text)
	}
}
