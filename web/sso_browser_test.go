package web

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/oidctest"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

const (
	ssoClientID     = "dcrconsole"
	ssoClientSecret = "a test client secret"
	ssoSecretEnv    = "DCRCONSOLE_TEST_OIDC_SECRET"
)

// ssoRoles is the group → role mapping of the SSO tests.
var ssoRoles = map[string]string{"dcr-admins": "admin", "dcr-operators": "operator", "dcr-viewers": "viewer"}

// ssoHarness is a harness served on a real port with single sign-on through
// a real OpenID Provider (oidctest) on another site (localhost).
func ssoHarness(t *testing.T, opts ...harnessOption) (*harness, string, *oidctest.Provider) {
	t.Helper()
	t.Setenv(ssoSecretEnv, ssoClientSecret)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	idp := oidctest.Start(t, oidctest.Options{ClientID: ssoClientID, ClientSecret: ssoClientSecret, RedirectURI: base + SSOCallbackPath})
	opts = append([]harnessOption{func(c *config.Config) {
		c.Server.PublicURL = base
		c.Console.OIDC.Issuer, c.Console.OIDC.ClientID, c.Console.OIDC.ClientSecretEnv = idp.Issuer, ssoClientID, ssoSecretEnv
		c.Console.OIDC.Roles = ssoRoles
	}}, opts...)
	h := newHarness(t, opts...)
	srv := httptest.NewUnstartedServer(h.app.Engine)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return h, base, idp
}

// newBrowser starts headless Chromium; each sign-in opens its own browser
// context (its own cookies) with incognito.
func newBrowser(t *testing.T) context.Context {
	exe := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// incognito is a fresh browser context: no cookies of earlier sign-ins.
func incognito(t *testing.T, browserCtx context.Context) context.Context {
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return ctx
}

// ssoSignIn clicks "Sign in with SSO" on the console at base, signs in at the
// IdP's own page and returns the text of the console page it ends on. A
// successful sign-in ends on the console's navigation, a refusal on its error page.
func ssoSignIn(t *testing.T, ctx context.Context, base, username, password string) string {
	t.Helper()
	browse(t, ctx, "sso sign-in of "+username,
		chromedp.Navigate(base+"/console/clients"),
		chromedp.WaitVisible(chromedp.CSS("#sso")),
		chromedp.Click(chromedp.CSS("#sso")),
		chromedp.WaitVisible(chromedp.CSS("#idp-username")),
		chromedp.SendKeys(chromedp.CSS("#idp-username"), username),
		chromedp.SendKeys(chromedp.CSS("#idp-password"), password),
		chromedp.Click(chromedp.CSS("#idp-submit")),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label="Main"], main h1`)),
	)
	return pageText(t, ctx)
}

// pageText is the whole page's text, navigation included.
func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatalf("read page: %v", err)
	}
	return text
}

func ssoUser(t *testing.T, h *harness, username string) store.User {
	t.Helper()
	var u store.User
	if err := storetest.Gorm(t, h.db).Where("username = ?", username).Take(&u).Error; err != nil {
		t.Fatalf("user %s: %v", username, err)
	}
	return u
}

func countAudit(t *testing.T, h *harness, typ store.EventType, outcome store.Outcome, reasonLike string) int64 {
	t.Helper()
	var n int64
	storetest.Gorm(t, h.db).Table("audit_events").Where("type = ? AND outcome = ? AND reason LIKE ?", typ, outcome, "%"+reasonLike+"%").Count(&n)
	return n
}

func countSessions(t *testing.T, h *harness, userID int64) int64 {
	t.Helper()
	var n int64
	storetest.Gorm(t, h.db).Model(&store.Session{}).Where("user_id = ?", userID).Count(&n)
	return n
}

// TestBrowserSSOMapsGroupsToRoles signs in through a real OpenID Provider in
// headless Chromium: the highest mapped group wins, the account is provisioned
// just in time and marked SSO, a changed group changes the role at the next
// sign-in (audited), and a user without a mapped group is refused with a clear
// page, audited, and loses the session they had.
func TestBrowserSSOMapsGroupsToRoles(t *testing.T) {
	h, base, idp := ssoHarness(t)
	browserCtx := newBrowser(t)
	idp.AddUser(oidctest.User{Subject: "00u-alice", Username: "alice@bank.example", Password: "alice-pw", Email: "alice@bank.example",
		Groups: []string{"staff", "dcr-viewers", "dcr-operators"}})
	idp.AddUser(oidctest.User{Subject: "00u-bob", Username: "bob@bank.example", Password: "bob-pw"}) // no groups claim at all
	idp.AddUser(oidctest.User{Subject: "00u-carol", Username: "carol@bank.example", Password: "carol-pw", Groups: []string{"staff"}})

	cases := []struct {
		name, user, password string
		groups               []string // set at the IdP before signing in; nil keeps them
		wantRole             string   // "" means refused
	}{
		{"highest mapped group wins", "alice@bank.example", "alice-pw", nil, store.RoleOperator},
		{"role follows the group at the next sign-in", "alice@bank.example", "alice-pw", []string{"dcr-admins"}, store.RoleAdmin},
		{"no groups claim is refused", "bob@bank.example", "bob-pw", nil, ""},
		{"no mapped group is refused", "carol@bank.example", "carol-pw", nil, ""},
	}
	var adminCtx context.Context // alice's browser once she is an admin
	outer := t                   // the browser contexts outlive the subtests
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.groups != nil {
				idp.SetGroups(tc.user, tc.groups)
			}
			ctx := incognito(outer, browserCtx)
			text := ssoSignIn(t, ctx, base, tc.user, tc.password)
			if tc.wantRole == "" {
				if !strings.Contains(text, "No access to this console") || !strings.Contains(text, "no group that grants a role") {
					t.Fatalf("refusal page: %q", text)
				}
				if countAudit(t, h, store.EventOperatorSSOLogin, store.OutcomeRejected, "no_role") == 0 {
					t.Error("refusal not audited")
				}
				return
			}
			if !strings.Contains(text, "Dashboard") {
				t.Fatalf("not signed in: %q", text)
			}
			u := ssoUser(t, h, tc.user)
			if u.Role != tc.wantRole || !u.IsSSO() || u.IDPIssuer != idp.Issuer {
				t.Fatalf("account %+v, want SSO role %s", u, tc.wantRole)
			}
			if u.Role == store.RoleAdmin {
				adminCtx = ctx
			}
		})
	}
	if adminCtx == nil {
		t.Fatal("alice never became an admin")
	}
	alice := ssoUser(t, h, "alice@bank.example")
	if n := countAudit(t, h, store.EventOperatorUserCreate, store.OutcomeSuccess, "provisioned by single sign-on: user alice@bank.example"); n != 1 {
		t.Errorf("provisioning audited %d times", n)
	}
	if n := countAudit(t, h, store.EventOperatorSSORole, store.OutcomeSuccess, "role operator -> admin from groups dcr-admins"); n != 1 {
		t.Errorf("role change audited %d times", n)
	}
	if n := countAudit(t, h, store.EventOperatorSSOLogin, store.OutcomeSuccess, "alice@bank.example"); n != 2 {
		t.Errorf("%d successful SSO sign-ins audited", n)
	}

	// As an admin now, alice sees herself as an SSO user on the users page.
	ctx := adminCtx
	browse(t, ctx, "users page", chromedp.Navigate(base+"/console/users"), chromedp.WaitVisible(chromedp.CSS("table")))
	if text := pageText(t, ctx); !strings.Contains(text, "SSO") || !strings.Contains(text, "identity provider sets its role") {
		t.Errorf("users page does not show the SSO account: %q", text)
	}
	if countSessions(t, h, alice.ID) == 0 {
		t.Fatal("alice has no session")
	}
	// Removed from the groups at the IdP: the next sign-in is refused and
	// ends every session she still had.
	idp.SetGroups("alice@bank.example", []string{"staff"})
	if text := ssoSignIn(t, incognito(t, browserCtx), base, "alice@bank.example", "alice-pw"); !strings.Contains(text, "No access to this console") {
		t.Fatalf("removed user not refused: %q", text)
	}
	if n := countSessions(t, h, alice.ID); n != 0 {
		t.Errorf("%d sessions survived the removal", n)
	}
	browse(t, ctx, "old session", chromedp.Navigate(base+"/console/users"), chromedp.WaitVisible(chromedp.CSS("#sso")))
}

// TestBrowserSSORefusesBadIDTokens: an ID token for another audience, and an
// expired one, are refused at the callback though the IdP's key signed them;
// nobody is signed in and the refusal is audited with the reason.
func TestBrowserSSORefusesBadIDTokens(t *testing.T) {
	h, base, idp := ssoHarness(t)
	browserCtx := newBrowser(t)
	idp.AddUser(oidctest.User{Subject: "00u-dave", Username: "dave", Password: "dave-pw", Groups: []string{"dcr-admins"}})
	cases := []struct {
		name, wantDetail string
		arrange          func()
	}{
		{"wrong audience", "audience", func() {
			idp.TamperIDTokens(func(c map[string]any) { c["aud"] = []string{"another-application"}; c["azp"] = "another-application" })
		}},
		{"expired", "expired", func() { idp.TamperIDTokens(nil); idp.SetIDTokenLifetime(-10 * time.Minute) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.arrange()
			text := ssoSignIn(t, incognito(t, browserCtx), base, "dave", "dave-pw")
			if !strings.Contains(text, "failed verification") {
				t.Fatalf("page: %q", text)
			}
			if n := countAudit(t, h, store.EventOperatorSSOLogin, store.OutcomeRejected, tc.wantDetail); n != 1 {
				t.Errorf("%d refusals audited with %q", n, tc.wantDetail)
			}
		})
	}
	var n int64
	storetest.Gorm(t, h.db).Model(&store.User{}).Where("idp_subject <> ''").Count(&n)
	if n != 0 {
		t.Errorf("%d SSO accounts provisioned from bad tokens", n)
	}
	// The same IdP with a good token signs dave in.
	idp.SetIDTokenLifetime(5 * time.Minute)
	if text := ssoSignIn(t, incognito(t, browserCtx), base, "dave", "dave-pw"); !strings.Contains(text, "Dashboard") {
		t.Fatalf("good token refused: %q", text)
	}
}
