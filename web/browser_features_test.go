package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dcrconsole/dcrconsole/store"
)

// TestBrowserSearchAndBulkRevoke: in headless Chromium, an operator types a
// brand id into the header's search, lands on the brand's page, and revokes
// its registrations in bulk after the confirmation with the count.
func TestBrowserSearchAndBulkRevoke(t *testing.T) {
	h, base, ctx := browserHarness(t)
	clientID := h.registered(t)
	if _, err := h.app.Auth.CreateUser(t.Context(), "test", "ops", testPassword, store.RoleOperator, false, ""); err != nil {
		t.Fatal(err)
	}
	brand := h.eco.ADRs[0].BrandID()
	browse(t, ctx, "login",
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "ops"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("#global-search")),
	)
	browse(t, ctx, "search the brand id",
		chromedp.SendKeys(chromedp.CSS("#global-search"), brand[:12]),
		chromedp.Submit(chromedp.CSS("#global-search")),
		chromedp.WaitVisible(chromedp.CSS(`a[href^="/console/bulk?action=revoke"]`)),
	)
	if text := bodyText(t, ctx); !strings.Contains(text, h.eco.ADRs[0].Name()) || !strings.Contains(text, h.eco.Products[0].ID) {
		t.Fatalf("brand page:\n%s", text)
	}
	browse(t, ctx, "confirmation",
		chromedp.Click(chromedp.CSS(`a[href^="/console/bulk?action=revoke"]`)),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name="reason"]`)),
	)
	if text := bodyText(t, ctx); !strings.Contains(text, "1 active registrations will be revoked") {
		t.Fatalf("confirmation:\n%s", text)
	}
	browse(t, ctx, "bulk revoke",
		chromedp.SendKeys(chromedp.CSS(`textarea[name="reason"]`), "brand offboarded"),
		chromedp.SendKeys(chromedp.CSS(`input[name="confirm"]`), "1"),
		chromedp.Submit(chromedp.CSS(`input[name="confirm"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	)
	if text := bodyText(t, ctx); !strings.Contains(text, "Revoked 1 registration") {
		t.Fatalf("after the bulk revoke:\n%s", text)
	}
	c, err := h.db.GetClient(t.Context(), clientID)
	if err != nil || c.Status != store.StatusRevoked || c.StatusReason != "brand offboarded" {
		t.Fatalf("client %+v %v", c, err)
	}
}
