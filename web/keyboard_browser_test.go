package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/dcrconsole/dcrconsole/store"
)

// tabTo presses Tab until the focused element matches sel (already focused
// counts), as a keyboard user moves through a page; it fails when sel is not
// reached in 80 presses.
func tabTo(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	for i := range 80 {
		if i > 0 {
			if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
				t.Fatalf("Tab towards %s: %v", sel, err)
			}
		}
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement && document.activeElement.matches(`+jsString(sel)+`)`))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
	}
	focused, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : ""`))
	t.Fatalf("%s is not reachable with Tab (focus ended on %s)", sel, focused)
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// typeKeys types text into the focused element, one key event per character.
func typeKeys(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(text)); err != nil {
		t.Fatal(err)
	}
}

// pressEnterAndWait presses Enter and waits for sel on the page it leads to.
func pressEnterAndWait(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("Enter, then %s: %v", sel, err)
	}
}

// TestBrowserKeyboardOnlyJourney signs in, finds a client and revokes it with
// the keyboard alone: Tab, typing and Enter, never a click or a scripted value.
func TestBrowserKeyboardOnlyJourney(t *testing.T) {
	h, base, ctx := browserHarnessFor(t, 3*time.Minute)
	clientID := h.registered(t)
	name := h.eco.Products[0].Name
	h.operator(t, store.RoleOperator)

	browse(t, ctx, "open the console", chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS("#username")))
	tabTo(t, ctx, "#username")
	typeKeys(t, ctx, "operator-user")
	tabTo(t, ctx, "#password")
	typeKeys(t, ctx, testPassword)
	pressEnterAndWait(t, ctx, `nav[aria-label="Main"]`)

	// The first Tab reaches the skip link, and it shows on screen.
	tabTo(t, ctx, "a.skip-link")
	left, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.activeElement.getBoundingClientRect().left`))
	if err != nil || left < 0 {
		t.Errorf("the focused skip link is off screen (left %v, %v)", left, err)
	}

	tabTo(t, ctx, `nav[aria-label="Main"] a[href="/console/clients"]`)
	pressEnterAndWait(t, ctx, `input[name="q"]`)
	tabTo(t, ctx, `input[name="q"]`)
	typeKeys(t, ctx, strings.Fields(name)[0])
	pressEnterAndWait(t, ctx, `a[href="/console/clients/`+clientID+`"]`)
	tabTo(t, ctx, `a[href="/console/clients/`+clientID+`"]`)
	pressEnterAndWait(t, ctx, "#revoke-reason")

	// A wrong confirmation first: the reason typed survives the refusal.
	tabTo(t, ctx, "#revoke-reason")
	typeKeys(t, ctx, "ADR asked by phone")
	tabTo(t, ctx, "#revoke-confirm")
	typeKeys(t, ctx, "not the id")
	pressEnterAndWait(t, ctx, "#revoke-error")
	kept, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#revoke-reason").value`))
	if err != nil || kept != "ADR asked by phone" {
		t.Fatalf("the reason after a refused confirmation: %q, %v", kept, err)
	}
	tabTo(t, ctx, "#revoke-confirm")
	typeKeys(t, ctx, clientID)
	pressEnterAndWait(t, ctx, "#restore-reason") // the confirm() dialog is accepted by the harness

	if got := clientStatus(t, h, clientID); got != store.StatusRevoked {
		t.Fatalf("status after the keyboard revoke: %s", got)
	}
}
