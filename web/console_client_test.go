package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/console"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// clientsFollow follows a POST's redirect with its flash cookie and returns the page.
func clientsFollow(t *testing.T, h *harness, r response, cookie string) string {
	t.Helper()
	if r.status != http.StatusSeeOther {
		t.Fatalf("want a redirect, got %d %s", r.status, r.body)
	}
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == console.FlashCookie && c.Value != "" {
			cookie += "; " + console.FlashCookie + "=" + c.Value
		}
	}
	return clientsGet(t, h, r.header.Get("Location"), cookie)
}

func clientStatus(t *testing.T, h *harness, id string) string {
	t.Helper()
	var c store.Client
	if err := storetest.Gorm(t, h.db).Where("id = ?", id).Take(&c).Error; err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func TestConsoleClientDetail(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleOperator)
	id := h.registered(t)
	path := "/console/clients/" + id

	body := clientsGet(t, h, path, cookie)
	adr, p := h.eco.ADRs[0], h.eco.Products[0]
	for _, want := range []string{
		id, p.ID, p.Name, "cdr-register", // SSA claims
		h.eco.Register.KeyID(),                     // the Register key that verified the SSA
		adr.RSAKeyID(), adr.ECKeyID(), "RSA", "EC", // ADR keys fetched at registration
		"redirect_uris", adr.RedirectURI(1), "token_endpoint_auth_method", "private_key_jwt",
		"bank:accounts.basic:read", "Registration request", "iat", " UTC)", "never", "Not blocked", "Revoke", "Refresh now",
	} {
		if !strings.Contains(body, html.EscapeString(want)) {
			t.Errorf("detail page lacks %q", want)
		}
	}

	r := h.console(http.MethodPost, path+"/refresh-keys", cookie, "")
	if body := clientsFollow(t, h, r, cookie); !strings.Contains(body, "Keys fetched") {
		t.Error("no flash after refresh")
	}
	if ev := h.lastAudit(t); ev.Type != "operator.refresh_keys" || ev.ClientID != id || ev.Actor != "user:operator-user" || ev.Outcome != "success" {
		t.Errorf("audit: %+v", ev)
	}
	// The history links each event to its page.
	if body := clientsGet(t, h, path, cookie); !regexp.MustCompile(`href="/console/audit/\d+"`).MatchString(body) ||
		!strings.Contains(body, "registration.create") {
		t.Error("audit history missing")
	}
	if r := h.console(http.MethodGet, "/console/clients/nope", cookie, ""); r.status != http.StatusNotFound {
		t.Errorf("unknown client: %d", r.status)
	}
	viewer := h.operator(t, store.RoleViewer)
	if body := clientsGet(t, h, path, viewer); strings.Contains(body, `action="/console/clients/`) || strings.Contains(body, "/software/block") {
		t.Error("a viewer sees action forms")
	}
}

func TestConsoleClientRevokeAndRestore(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleOperator)
	id := h.registered(t)
	tok := h.accessToken(t, id)
	path := "/console/clients/" + id
	post := func(action string, form url.Values) response {
		return h.console(http.MethodPost, path+"/"+action, cookie, form.Encode())
	}

	// A refused confirmation shows the page again, the reason as typed kept in
	// its field and the error beside the form.
	r := post("revoke", url.Values{"reason": {"ADR asked <politely>"}, "confirm": {"someone else"}})
	body := string(r.body)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(body, "flash-error") || !strings.Contains(body, "The confirmation does not match") || clientStatus(t, h, id) != "active" {
		t.Fatalf("wrong confirmation accepted or not explained: %d", r.status)
	}
	if !strings.Contains(body, `value="ADR asked &lt;politely&gt;"`) || !strings.Contains(body, `aria-describedby="revoke-error"`) {
		t.Error("the reason typed was lost, or the error is not tied to the field")
	}
	r = post("revoke", url.Values{"confirm": {id}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "A reason is required") || clientStatus(t, h, id) != "active" {
		t.Fatal("revoked without a reason")
	}
	body = clientsFollow(t, h, post("revoke", url.Values{"reason": {"ADR asked"}, "confirm": {h.eco.Products[0].Name}}), cookie)
	if !strings.Contains(body, "Client revoked") || clientStatus(t, h, id) != "revoked" {
		t.Fatal("not revoked")
	}
	if ev := h.lastAudit(t); ev.Type != "client.status" || ev.Actor != "user:operator-user" || ev.ClientID != id || !strings.Contains(ev.Reason, "ADR asked") {
		t.Errorf("audit: %+v", ev)
	}
	if r := h.do(http.MethodGet, "/register/"+id, "", "", bearer(tok)); r.status != http.StatusUnauthorized {
		t.Fatalf("revoked client still served: %d", r.status)
	}

	body = clientsFollow(t, h, post("restore", url.Values{"reason": {"mistake"}}), cookie)
	if !strings.Contains(body, "Client restored") || clientStatus(t, h, id) != "active" {
		t.Fatal("not restored")
	}
	if r := h.do(http.MethodGet, "/register/"+id, "", "", bearer(h.accessToken(t, id))); r.status != http.StatusOK {
		t.Fatalf("restored client: %d", r.status)
	}

	// Revoke again, let the ADR register anew: the old one cannot come back.
	clientsFollow(t, h, post("revoke", url.Values{"reason": {"lost client_id"}, "confirm": {id}}), cookie)
	newID := h.registered(t)
	body = clientsFollow(t, h, post("restore", url.Values{"reason": {"try"}}), cookie)
	if !strings.Contains(body, "Another registration for this software product is active") || clientStatus(t, h, id) != "revoked" || clientStatus(t, h, newID) != "active" {
		t.Fatal("restore over an active registration")
	}
	body = clientsFollow(t, h, h.console(http.MethodPost, "/console/clients/"+newID+"/restore", cookie, "reason=x"), cookie)
	if !strings.Contains(body, "Only a revoked client can be restored") {
		t.Error("restoring an active client")
	}
}

func TestConsoleClientsSoftwareBlock(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleOperator)
	p := h.eco.Products[1]
	back := "/console/clients/" + h.registered(t)
	request := func() response { return h.register(h.requestFor(t, h.eco.ADRs[1], p, jwa.PS256, nil)) }

	form := url.Values{"software_id": {p.ID}, "return": {back}}
	body := clientsFollow(t, h, h.console(http.MethodPost, "/console/software/block", cookie, form.Encode()), cookie)
	if !strings.Contains(body, "A reason is required") {
		t.Error("blocked without a reason")
	}
	form.Set("reason", "misuse reported")
	r := h.console(http.MethodPost, "/console/software/block", cookie, form.Encode())
	if r.header.Get("Location") != back {
		t.Errorf("return: %q", r.header.Get("Location"))
	}
	if body := clientsFollow(t, h, r, cookie); !strings.Contains(body, "blocked: new registrations are refused") {
		t.Error("no flash")
	}
	if ev := h.lastAudit(t); ev.Type != "operator.block" || ev.SoftwareID != p.ID || ev.Actor != "user:operator-user" {
		t.Errorf("audit: %+v", ev)
	}
	if r := request(); r.status != http.StatusBadRequest || r.json["error"] != "unapproved_software_statement" ||
		r.json["error_description"] != "The software product has been blocked by the Data Holder" {
		t.Fatalf("blocked product registered: %d %s", r.status, r.body)
	}
	if body := clientsFollow(t, h, h.console(http.MethodPost, "/console/software/block", cookie, form.Encode()), cookie); !strings.Contains(body, "already blocked") {
		t.Error("double block")
	}

	form.Set("return", "https://evil.example/")
	r = h.console(http.MethodPost, "/console/software/unblock", cookie, form.Encode())
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/clients" {
		t.Errorf("unblock: %d to %q", r.status, r.header.Get("Location"))
	}
	if r := request(); r.status != http.StatusCreated {
		t.Fatalf("unblocked product: %d %s", r.status, r.body)
	}
	if body := clientsFollow(t, h, h.console(http.MethodPost, "/console/software/unblock", cookie, form.Encode()), cookie); !strings.Contains(body, "not blocked") {
		t.Error("unblocking twice")
	}
}

func TestConsoleClientActionsNeedOperatorAndSameSite(t *testing.T) {
	h := newHarness(t)
	id := h.registered(t)
	viewer := h.operator(t, store.RoleViewer)
	operator := h.operator(t, store.RoleOperator)
	sid := h.eco.Products[0].ID
	posts := map[string]string{
		"/console/clients/" + id + "/revoke":       "reason=x&confirm=" + id,
		"/console/clients/" + id + "/restore":      "reason=x",
		"/console/clients/" + id + "/refresh-keys": "",
		"/console/software/block":                  "reason=x&software_id=" + sid,
		"/console/software/unblock":                "reason=x&software_id=" + sid,
	}
	for path, form := range posts {
		if r := h.console(http.MethodPost, path, viewer, form); r.status != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d", path, r.status)
		}
		r := h.do(http.MethodPost, path, "application/x-www-form-urlencoded", form, map[string]string{"Cookie": operator, "Sec-Fetch-Site": "cross-site"})
		if r.status != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d", path, r.status)
		}
	}
	if clientStatus(t, h, id) != "active" {
		t.Fatal("a refused POST changed the client")
	}
	if b, _ := h.db.SoftwareBlock(t.Context(), sid); b != nil {
		t.Fatal("a refused POST blocked the product")
	}
}

func TestConsoleClientsEscapeWhatClientsSent(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleOperator)
	adr := h.eco.ADRs[0]
	p := adr.NewProduct("", "<script>alert(1)</script>")
	p.LogoURI = "javascript:alert(1)"
	p.ClientURI = "javascript:alert(2)"
	h.eco.Register.AddLegalEntity(adr.NewLegalEntity(h.eco.Products[0], p))
	if err := h.app.RegisterData.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := h.register(h.requestFor(t, adr, p, jwa.PS256, nil))
	if r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	id := r.json["client_id"].(string)
	for _, path := range []string{"/console/clients", "/console/clients?q=script", "/console/clients/" + id} {
		body := clientsGet(t, h, path, cookie)
		if !strings.Contains(body, "&lt;script&gt;") || strings.Contains(body, "<script>alert") ||
			strings.Contains(body, `href="javascript:`) || strings.Contains(body, "href=\"about:invalid") {
			t.Errorf("%s: not escaped, or an unsafe link", path)
		}
	}
	if body := clientsGet(t, h, "/console/clients/"+id, cookie); !strings.Contains(body, "javascript:alert(1)") {
		t.Error("the logo_uri is not shown as text")
	}
}
