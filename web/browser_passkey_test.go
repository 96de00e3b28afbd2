package web

import (
	"context"
	"net"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
)

// passkeyBrowser serves a harness at http://localhost:PORT (a passkey's
// relying party id must be a domain name; localhost is a secure context) and
// opens headless Chromium with a CDP virtual authenticator: a platform
// authenticator with discoverable credentials and user verification, whose
// user is always present and verified.
func passkeyBrowser(t *testing.T) (*harness, string, context.Context) {
	exe := chromiumPath(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	base := "http://localhost:" + port
	h := newHarness(t, func(c *config.Config) { c.Server.PublicURL = base })
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
		chromedp.Flag("host-resolver-rules", "MAP localhost 127.0.0.1"),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	_, err = chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
			Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return h, base, tctx
}

func waitPath(t *testing.T, ctx context.Context, step, path string) {
	t.Helper()
	var loc string
	for range 300 { // a navigation may be under way: ask again until it lands
		loc, _ = chromedp.Run(ctx, chromedp.Location())
		if u, err := url.Parse(loc); err == nil && u.Path == path {
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete"`)); err == nil {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not at %s but %s", step, path, loc)
}

// TestBrowserPasskeys registers a passkey in real Chromium, signs in with it
// as the second factor and as the only factor, and removes it.
func TestBrowserPasskeys(t *testing.T) {
	h, base, ctx := passkeyBrowser(t)
	if _, err := h.app.Auth.CreateUser(t.Context(), "test", "pk-user", testPassword, store.RoleOperator, false, ""); err != nil {
		t.Fatal(err)
	}
	passwordSignIn := func(step string) {
		browse(t, ctx, step,
			chromedp.Navigate(base+"/console/login"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), "pk-user"),
			chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
			chromedp.Submit(chromedp.CSS("#password")),
		)
	}
	logOut := func(step string) {
		browse(t, ctx, step, chromedp.Navigate(base+"/console/login"), chromedp.WaitVisible(chromedp.CSS("#username")))
		_, _ = chromedp.Run(ctx, chromedp.Evaluate[any](`fetch("/console/logout", {method: "POST"}).then(() => 1)`, chromedp.EvalAwaitPromise))
	}
	passwordSignIn("password sign-in")
	waitPath(t, ctx, "password sign-in", "/console/")

	browse(t, ctx, "register a passkey",
		chromedp.Navigate(base+"/console/account/mfa"),
		chromedp.WaitVisible(chromedp.CSS("#passkey-name")),
		chromedp.SendKeys(chromedp.CSS("#passkey-name"), "virtual key"),
		chromedp.Click(chromedp.CSS("#passkey-register")),
		chromedp.WaitVisible(chromedp.CSS("#passkeys")),
	)
	if text := bodyText(t, ctx); !strings.Contains(text, "virtual key") {
		t.Fatalf("passkey not listed:\n%s", text)
	}
	u, _ := h.db.UserByName(t.Context(), "pk-user")
	if n, _ := h.db.CountPasskeys(t.Context(), u.ID); n != 1 {
		t.Fatalf("%d passkeys stored", n)
	}

	logOut("log out")
	passwordSignIn("password, then the passkey")
	waitPath(t, ctx, "second factor page", "/console/login/mfa")
	browse(t, ctx, "passkey as second factor", chromedp.Click(chromedp.CSS("#passkey-signin")))
	waitPath(t, ctx, "passkey as second factor", "/console/")
	if ev := h.lastAudit(t); ev.Type != store.EventOperatorLogin || !strings.Contains(ev.Reason, "password and a passkey") {
		t.Fatalf("audit: %+v", ev)
	}

	logOut("log out again")
	browse(t, ctx, "passkey as the only factor",
		chromedp.WaitVisible(chromedp.CSS("#passkey-primary")),
		chromedp.Click(chromedp.CSS("#passkey-primary")),
	)
	waitPath(t, ctx, "passkey as the only factor", "/console/")
	if ev := h.lastAudit(t); ev.Type != store.EventOperatorLogin || ev.Actor != "user:pk-user" || !strings.Contains(ev.Reason, "signed in with a passkey") {
		t.Fatalf("audit: %+v", ev)
	}

	browse(t, ctx, "remove the passkey",
		chromedp.Navigate(base+"/console/account/mfa"),
		chromedp.WaitVisible(chromedp.CSS("#passkeys button.danger")),
		chromedp.Click(chromedp.CSS("#passkeys button.danger")),
		chromedp.WaitNotPresent(chromedp.CSS("#passkeys")),
	)
	if n, _ := h.db.CountPasskeys(t.Context(), u.ID); n != 0 {
		t.Fatalf("%d passkeys left", n)
	}
	logOut("log out at the end")
	passwordSignIn("password alone once the passkey is gone")
	waitPath(t, ctx, "password alone", "/console/")
}
