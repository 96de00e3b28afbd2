package web

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/dcrconsole/dcrconsole/config"
)

// chromiumPath finds Debian's Chromium. Without it the browser tests skip, except
// under CI (which installs it), where a missing browser is a failure.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is not installed; .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("Chromium not found: install Debian's chromium to run the browser tests")
	return ""
}

// browserHarness serves a harness on a real port and opens headless Chromium.
func browserHarness(t *testing.T, extra ...harnessOption) (*harness, string, context.Context) {
	return browserHarnessFor(t, 90*time.Second, extra...)
}

// browserHarnessFor is browserHarness with a longer budget for the whole test.
func browserHarnessFor(t *testing.T, budget time.Duration, hopts ...harnessOption) (*harness, string, context.Context) {
	exe := chromiumPath(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	h := newHarness(t, append([]harnessOption{func(c *config.Config) { c.Server.PublicURL = base }}, hopts...)...)
	srv := httptest.NewUnstartedServer(h.app.Engine)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, budget)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser
		t.Fatalf("start Chromium: %v", err)
	}
	// Accept the confirm() dialogs of data-confirm forms.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return h, base, ctx
}

func browse(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

func bodyText(t *testing.T, ctx context.Context) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatalf("read page: %v", err)
	}
	return text
}

// TestBrowserOperatorJourney walks the console as an operator would, in real
// headless Chromium: first login and forced password change, search, open a
// client, read its decoded SSA, revoke it (and see the DCR API refuse it), find
// the revocation in the audit log, and export CSV.
func TestBrowserOperatorJourney(t *testing.T) {
	h, base, ctx := browserHarness(t)
	oneTime, err := h.app.Auth.EnsureAdmin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	clientID := h.registered(t)
	token := h.accessToken(t, clientID)
	clientName := h.eco.Products[0].Name

	// First login with the one-time password, then the forced change.
	browse(t, ctx, "login",
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), oneTime),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("#new")),
	)
	const newPassword = "a long and private passphrase"
	browse(t, ctx, "change password",
		chromedp.SendKeys(chromedp.CSS("#current"), oneTime),
		chromedp.SendKeys(chromedp.CSS("#new"), newPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), newPassword),
		chromedp.Submit(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), newPassword),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label="Main"]`)),
	)

	// Search, then open the client.
	browse(t, ctx, "search",
		chromedp.Navigate(base+"/console/clients"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="q"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), strings.Fields(clientName)[0]),
		chromedp.Submit(chromedp.CSS(`input[name="q"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/console/clients/`+clientID+`"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/console/clients/`+clientID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#revoke-reason")),
	)
	detail := bodyText(t, ctx)
	for _, want := range []string{clientName, "cdr-register", h.eco.Register.KeyID(), h.eco.Products[0].ID} {
		if !strings.Contains(detail, want) {
			t.Fatalf("client page lacks %q", want)
		}
	}

	// Revoke with a reason and the confirmation.
	browse(t, ctx, "revoke",
		chromedp.SendKeys(chromedp.CSS("#revoke-reason"), "ADR reported a leaked key"),
		chromedp.SendKeys(chromedp.CSS("#revoke-confirm"), clientID),
		chromedp.Submit(chromedp.CSS("#revoke-confirm")),
		chromedp.WaitVisible(chromedp.CSS("#restore-reason")),
	)
	r := h.do(http.MethodGet, "/register/"+clientID, "", "", bearer(token))
	if r.status != http.StatusUnauthorized {
		t.Fatalf("GET /register/{id} after revocation: %d %s", r.status, r.body)
	}

	// The revocation is in the audit log.
	browse(t, ctx, "audit log",
		chromedp.Navigate(base+"/console/audit?type=client.status"),
		chromedp.WaitVisible(chromedp.CSS("main table")),
	)
	if text := bodyText(t, ctx); !strings.Contains(text, "ADR reported a leaked key") || !strings.Contains(text, "user:admin") {
		t.Fatalf("audit log lacks the revocation:\n%s", text)
	}

	// Export the clients as CSV: the browser follows the export link and the
	// download is read back from disk.
	dir := t.TempDir()
	if _, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptrTo(true)}); err != nil {
		t.Fatalf("download behaviour: %v", err)
	}
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	browse(t, ctx, "export",
		chromedp.Navigate(base+"/console/clients"),
		chromedp.WaitVisible(chromedp.CSS(`a[href^="/console/clients.csv"]`)),
		chromedp.Click(chromedp.CSS(`a[href^="/console/clients.csv"]`)),
	)
	file := ""
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("the CSV download did not complete: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
	}
	csv, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(csv), clientID) || !strings.Contains(string(csv), "revoked") {
		t.Fatalf("CSV:\n%s", csv)
	}
}

func ptrTo[T any](v T) *T { return &v }
