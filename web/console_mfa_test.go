package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/console"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

var (
	totpSecretRe   = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)
	recoveryCodeRe = regexp.MustCompile(`<li>([a-z2-9]{5}-[a-z2-9]{5})</li>`)
)

// mfaHarness is a harness whose console requires MFA per policy, with the
// sign-in clock frozen at the returned pointer's time (tests move it).
func mfaHarness(t *testing.T, policy string) (*harness, *time.Time) {
	h := newHarness(t, func(c *config.Config) { c.Console.RequireMFA = policy })
	clock := time.Now().Truncate(time.Minute)
	h.app.Auth.Now = func() time.Time { return clock }
	return h, &clock
}

// passwordStep posts the login form and returns the session cookie and where
// the console sends the browser next.
func (h *harness) passwordStep(t *testing.T, username, password string) (cookie, next string) {
	t.Helper()
	r := h.do(http.MethodPost, "/console/login", "application/x-www-form-urlencoded",
		"username="+url.QueryEscape(username)+"&password="+url.QueryEscape(password), nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("login of %s: %d %s", username, r.status, r.body)
	}
	return sessionCookie(t, r), r.header.Get("Location")
}

func sessionCookie(t *testing.T, r response) string {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == console.SessionCookie && c.Value != "" {
			return console.SessionCookie + "=" + c.Value
		}
	}
	t.Fatalf("no session cookie: %d %s", r.status, r.body)
	return ""
}

// enrolTOTP sets up an authenticator app through the pages, with the code of
// the clock's current step; it returns the secret and the recovery codes.
func (h *harness) enrolTOTP(t *testing.T, cookie string, clock *time.Time) (string, []string, response) {
	t.Helper()
	r := h.console(http.MethodGet, "/console/account/mfa/totp", cookie, "")
	m := totpSecretRe.FindSubmatch(r.body)
	if r.status != http.StatusOK || m == nil || !strings.Contains(string(r.body), `src="data:image/png;base64,`) {
		t.Fatalf("set-up page: %d %s", r.status, r.body)
	}
	secret := string(m[1])
	code, err := totp.GenerateCode(secret, *clock)
	if err != nil {
		t.Fatal(err)
	}
	r = h.console(http.MethodPost, "/console/account/mfa/totp", cookie, "code="+code)
	var codes []string
	for _, m := range recoveryCodeRe.FindAllSubmatch(r.body, -1) {
		codes = append(codes, string(m[1]))
	}
	if r.status != http.StatusOK || len(codes) != 10 {
		t.Fatalf("confirm: %d, %d codes\n%s", r.status, len(codes), r.body)
	}
	return secret, codes, r
}

func TestTOTPEnrolmentSignInAndReplay(t *testing.T) {
	h, clock := mfaHarness(t, "none")
	cookie := h.operator(t, store.RoleOperator)
	// A wrong code does not set the app up.
	r := h.console(http.MethodGet, "/console/account/mfa/totp", cookie, "")
	if r.status != 200 {
		t.Fatalf("%d", r.status)
	}
	if r := h.console(http.MethodPost, "/console/account/mfa/totp", cookie, "code=000000"); r.status != http.StatusBadRequest ||
		!totpSecretRe.Match(r.body) {
		t.Fatalf("wrong code: %d", r.status)
	}
	secret, _, _ := h.enrolTOTP(t, cookie, clock)
	var row store.TOTP
	storetest.Gorm(t, h.db).Where("user_id > 0").Take(&row)
	if strings.Contains(row.Secret, secret) || !strings.HasPrefix(row.Secret, "v1:") {
		t.Fatalf("secret stored in clear: %q", row.Secret)
	}

	// The password alone now opens only the second-factor step.
	pending, next := h.passwordStep(t, "operator-user", testPassword)
	if next != "/console/login/mfa" {
		t.Fatalf("after the password: %s", next)
	}
	for _, path := range []string{"/console/", "/console/clients", "/console/account", "/console/account/mfa"} {
		if r := h.console(http.MethodGet, path, pending, ""); r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/login/mfa" {
			t.Errorf("pending session reached %s: %d %s", path, r.status, r.header.Get("Location"))
		}
	}
	if r := h.console(http.MethodPost, "/console/software/block", pending, "software_id=x&reason=y"); r.status != http.StatusForbidden {
		t.Errorf("pending session acted: %d", r.status)
	}
	// The code the enrolment used is refused: replay within its window.
	used, _ := totp.GenerateCode(secret, *clock)
	if r := h.console(http.MethodPost, "/console/login/mfa", pending, "code="+used); r.status != http.StatusUnauthorized {
		t.Fatalf("replayed enrolment code: %d", r.status)
	}
	if ev := h.lastAudit(t); ev.Outcome != store.OutcomeRejected || !strings.Contains(ev.Reason, "replay") {
		t.Fatalf("audit: %+v", ev)
	}
	*clock = clock.Add(30 * time.Second)
	code, _ := totp.GenerateCode(secret, *clock)
	r = h.console(http.MethodPost, "/console/login/mfa", pending, "code="+code)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/" {
		t.Fatalf("second factor: %d %s", r.status, r.body)
	}
	full := sessionCookie(t, r)
	if full == pending {
		t.Fatal("the session token was not replaced")
	}
	if r := h.console(http.MethodGet, "/console/clients", full, ""); r.status != 200 {
		t.Fatalf("signed in: %d", r.status)
	}
	if r := h.console(http.MethodGet, "/console/clients", pending, ""); r.status != http.StatusSeeOther ||
		!strings.HasPrefix(r.header.Get("Location"), "/console/login?") {
		t.Fatalf("the pending cookie still works: %d %s", r.status, r.header.Get("Location"))
	}
	// The same code again, in a new sign-in: refused.
	pending, _ = h.passwordStep(t, "operator-user", testPassword)
	if r := h.console(http.MethodPost, "/console/login/mfa", pending, "code="+code); r.status != http.StatusUnauthorized {
		t.Fatalf("replayed code: %d", r.status)
	}
}

func TestRecoveryCodeWorksOnce(t *testing.T) {
	h, clock := mfaHarness(t, "none")
	cookie := h.operator(t, store.RoleViewer)
	_, codes, _ := h.enrolTOTP(t, cookie, clock)
	pending, _ := h.passwordStep(t, "viewer-user", testPassword)
	r := h.console(http.MethodPost, "/console/login/mfa", pending, "code="+url.QueryEscape(" "+strings.ToUpper(codes[3])+" "))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/" {
		t.Fatalf("recovery code: %d %s", r.status, r.body)
	}
	if ev := h.lastAudit(t); ev.Type != store.EventOperatorLogin || !strings.Contains(ev.Reason, "recovery code") {
		t.Fatalf("audit: %+v", ev)
	}
	pending, _ = h.passwordStep(t, "viewer-user", testPassword)
	if r := h.console(http.MethodPost, "/console/login/mfa", pending, "code="+codes[3]); r.status != http.StatusUnauthorized {
		t.Fatalf("recovery code used twice: %d", r.status)
	}
	var hashes []store.RecoveryCode
	storetest.Gorm(t, h.db).Find(&hashes)
	for _, rc := range hashes {
		if strings.Contains(rc.CodeHash, strings.ReplaceAll(codes[3], "-", "")) {
			t.Fatal("recovery code stored in clear")
		}
	}
	if len(hashes) != 10 {
		t.Fatalf("%d stored codes", len(hashes))
	}
}

// TestRequireMFAEnforcement: where the password sends each role under each
// policy, with and without a second factor, and that enrolment is the only
// page an account that must enrol can reach.
func TestRequireMFAEnforcement(t *testing.T) {
	const (
		in     = "/console/"
		second = "/console/login/mfa"
		enrol  = "/console/account/mfa"
	)
	want := map[string]map[string][2]string{ // policy → role → {not enrolled, enrolled}
		"none":  {store.RoleViewer: {in, second}, store.RoleOperator: {in, second}, store.RoleAdmin: {in, second}},
		"admin": {store.RoleViewer: {in, second}, store.RoleOperator: {in, second}, store.RoleAdmin: {enrol, second}},
		"all":   {store.RoleViewer: {enrol, second}, store.RoleOperator: {enrol, second}, store.RoleAdmin: {enrol, second}},
	}
	for _, policy := range []string{"none", "admin", "all"} {
		t.Run(policy, func(t *testing.T) {
			h, clock := mfaHarness(t, policy)
			for _, role := range []string{store.RoleViewer, store.RoleOperator, store.RoleAdmin} {
				for i, enrolled := range []bool{false, true} {
					name := role + map[bool]string{false: "-bare", true: "-enrolled"}[enrolled]
					if _, err := h.app.Auth.CreateUser(t.Context(), "test", name, testPassword, role, false, ""); err != nil {
						t.Fatal(err)
					}
					if enrolled {
						u, _ := h.db.UserByName(t.Context(), name)
						setup, err := h.app.Auth.StartTOTP(t.Context(), u)
						if err != nil {
							t.Fatal(err)
						}
						code, _ := totp.GenerateCode(setup.Secret, *clock)
						if _, err := h.app.Auth.ConfirmTOTP(t.Context(), u, code, ""); err != nil {
							t.Fatal(err)
						}
					}
					cookie, next := h.passwordStep(t, name, testPassword)
					if next != want[policy][role][i] {
						t.Errorf("%s %s: sent to %s, want %s", policy, name, next, want[policy][role][i])
					}
					if next == enrol {
						checkEnrolOnly(t, h, cookie, clock)
					}
				}
			}
		})
	}
}

// checkEnrolOnly: a session that must enrol reaches nothing but enrolment;
// setting up an app signs it in.
func checkEnrolOnly(t *testing.T, h *harness, cookie string, clock *time.Time) {
	t.Helper()
	for _, path := range []string{"/console/", "/console/audit", "/console/account", "/console/login/mfa"} {
		if r := h.console(http.MethodGet, path, cookie, ""); r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/account/mfa" {
			t.Errorf("enrolling session reached %s: %d", path, r.status)
		}
	}
	if r := h.console(http.MethodPost, "/console/account/mfa/recovery", cookie, ""); r.status != http.StatusForbidden {
		t.Errorf("enrolling session made recovery codes: %d", r.status)
	}
	if r := h.console(http.MethodGet, "/console/account/mfa", cookie, ""); r.status != 200 || !strings.Contains(string(r.body), "must sign in with a second factor") {
		t.Errorf("enrolment page: %d", r.status)
	}
	_, _, r := h.enrolTOTP(t, cookie, clock)
	full := sessionCookie(t, r)
	if r := h.console(http.MethodGet, "/console/", full, ""); r.status != 200 {
		t.Errorf("not signed in after enrolment: %d", r.status)
	}
	if r := h.console(http.MethodGet, "/console/", cookie, ""); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/console/login?") {
		t.Errorf("the enrolling cookie still works: %d", r.status)
	}
}

// TestSignInEndpointsRefuseGarbage: malformed or replayed input to the
// second-factor and passkey endpoints is a 4xx with a message, never a 500.
func TestSignInEndpointsRefuseGarbage(t *testing.T) {
	h, clock := mfaHarness(t, "none")
	cookie := h.operator(t, store.RoleOperator)
	json := func(path, cookie, body string) response {
		return h.do(http.MethodPost, path, "application/json", body,
			map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-origin"})
	}
	begin := h.console(http.MethodPost, "/console/login/passkey/begin", "", "")
	ceremony, _ := begin.json["ceremony"].(string)
	if begin.status != 200 || ceremony == "" || begin.json["options"] == nil {
		t.Fatalf("begin: %d %s", begin.status, begin.body)
	}
	for _, tc := range []struct{ name, path, cookie, body string }{
		{"unknown ceremony", "/console/login/passkey/finish?ceremony=nope", "", `{}`},
		{"garbage answer", "/console/login/passkey/finish?ceremony=" + ceremony, "", `{"id":`},
		{"ceremony used already", "/console/login/passkey/finish?ceremony=" + ceremony, "", `{}`},
		{"registration without begin", "/console/account/passkeys/finish?ceremony=x", cookie, `[]`},
	} {
		if r := json(tc.path, tc.cookie, tc.body); r.status != http.StatusBadRequest || r.json["error"] == nil {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
	if r := h.console(http.MethodPost, "/console/account/passkeys/begin", cookie, "name="); r.status != http.StatusBadRequest {
		t.Errorf("nameless passkey: %d", r.status)
	}
	if r := h.console(http.MethodPost, "/console/login/mfa/passkey/begin", cookie, ""); r.status != http.StatusUnauthorized {
		t.Errorf("second-factor passkey for a signed-in session: %d %s", r.status, r.body)
	}
	secret, _, _ := h.enrolTOTP(t, cookie, clock)
	pending, _ := h.passwordStep(t, "operator-user", testPassword)
	for _, code := range []string{"", "12345", "abcdef", strings.Repeat("9", 5000), "------"} {
		if r := h.console(http.MethodPost, "/console/login/mfa", pending, "code="+url.QueryEscape(code)); r.status != http.StatusUnauthorized {
			t.Errorf("code %.10q: %d", code, r.status)
		}
	}
	// Wrong second factors count against the sign-in throttle like wrong passwords.
	*clock = clock.Add(30 * time.Second)
	code, _ := totp.GenerateCode(secret, *clock)
	if r := h.console(http.MethodPost, "/console/login/mfa", pending, "code="+code); r.status != http.StatusTooManyRequests {
		t.Errorf("sixth attempt: %d", r.status)
	}
}
