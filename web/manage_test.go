package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/authz"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

const unknownChallenge = `Bearer error="invalid_request", error_description="The client is unknown"`

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// mintToken signs an access token with the holder's key, for the cases a real
// token endpoint would never produce (expired, wrong audience, no scope).
func mintToken(t *testing.T, h *harness, edit func(*authz.AccessTokenClaims)) string {
	t.Helper()
	now := time.Now()
	c := authz.AccessTokenClaims{Issuer: testIssuer, Audience: testIssuer, Subject: "x", ClientID: "x", Scope: "cdr:registration",
		IssuedAt: now.Unix(), Expires: now.Add(5 * time.Minute).Unix(), JTI: "j"}
	edit(&c)
	tok, err := h.app.Keys.Sign(c, authz.TypeAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestManagementAuthorizationOrder has one row per row of the authorization order.
func TestManagementAuthorizationOrder(t *testing.T) {
	h := newHarness(t)
	id := h.registered(t)
	good := h.accessToken(t, id)
	// A second client (another ADR), to use its token on the first one.
	r := h.register(h.requestFor(t, h.eco.ADRs[1], h.eco.Products[1], jwa.PS256, nil))
	otherID := r.json["client_id"].(string)
	otherToken := func() string {
		r := h.token(tokenForm(assertionFor(t, h.eco.ADRs[1], otherID, jwa.ES256, nil), nil))
		return r.json["access_token"].(string)
	}()
	expiredAt := time.Now().Add(-time.Hour).Truncate(time.Second)
	tests := []struct {
		name      string
		path      string
		header    map[string]string
		status    int
		challenge string
		body      string
	}{
		{"no token", "/register/" + id, nil, 401, "Bearer", ""},
		{"basic auth", "/register/" + id, map[string]string{"Authorization": "Basic dXNlcjpwdw=="}, 401, "Bearer", ""},
		{"malformed token", "/register/" + id, bearer("not.a.token"), 401, `Bearer error="invalid_token", error_description="The token is malformed"`, ""},
		{"bad signature", "/register/" + id, bearer(good[:len(good)-4] + "AAAA"), 401, `Bearer error="invalid_token", error_description="The signature is invalid"`, ""},
		{"signed by someone else", "/register/" + id, bearer(assertionFor(t, h.eco.ADRs[0], id, jwa.ES256, nil)), 401, `Bearer error="invalid_token", error_description="The signature key was not found"`, ""},
		{"wrong issuer", "/register/" + id, bearer(mintToken(t, h, func(c *authz.AccessTokenClaims) { c.Issuer = "https://evil"; c.ClientID = id })), 401,
			`Bearer error="invalid_token", error_description="The issuer is invalid"`, ""},
		{"wrong audience", "/register/" + id, bearer(mintToken(t, h, func(c *authz.AccessTokenClaims) { c.Audience = "https://evil"; c.ClientID = id })), 401,
			`Bearer error="invalid_token", error_description="The audience is invalid"`, ""},
		{"expired", "/register/" + id, bearer(mintToken(t, h, func(c *authz.AccessTokenClaims) { c.Expires = expiredAt.Unix(); c.ClientID = id })), 401,
			`Bearer error="invalid_token", error_description="The token expired at '` + expiredAt.UTC().Format("01/02/2006 15:04:05") + `'"`, ""},
		{"insufficient scope", "/register/" + id, bearer(mintToken(t, h, func(c *authz.AccessTokenClaims) { c.Scope = "openid"; c.ClientID = id })), 403, "",
			`{"error":"insufficient_scope"}`},
		{"token of another client", "/register/" + id, bearer(otherToken), 401, unknownChallenge, `{"error":"invalid_request","error_description":"The client is unknown"}`},
		{"unknown client id in path", "/register/00000000-0000-0000-0000-000000000000", bearer(good), 401, unknownChallenge,
			`{"error":"invalid_request","error_description":"The client is unknown"}`},
		{"token for a client that does not exist", "/register/ghost", bearer(mintToken(t, h, func(c *authz.AccessTokenClaims) { c.ClientID = "ghost" })), 401, unknownChallenge,
			`{"error":"invalid_request","error_description":"The client is unknown"}`},
	}
	for _, tc := range tests {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				r := h.do(method, tc.path, "application/jwt", "", tc.header)
				if r.status != tc.status {
					t.Fatalf("status %d %s, want %d", r.status, r.body, tc.status)
				}
				if tc.challenge != "" && r.header.Get("WWW-Authenticate") != tc.challenge {
					t.Fatalf("WWW-Authenticate %q\nwant %q", r.header.Get("WWW-Authenticate"), tc.challenge)
				}
				if strings.TrimSpace(string(r.body)) != tc.body {
					t.Fatalf("body %q, want %q", r.body, tc.body)
				}
			})
		}
	}
	// Nothing above changed the client.
	if c, _ := h.db.GetClient(t.Context(), id); c.Status != store.StatusActive {
		t.Fatalf("client status %s", c.Status)
	}
	ev := h.lastAudit(t)
	if ev.Outcome != "rejected" || ev.Step != "authorization" {
		t.Errorf("refusal not audited: %+v", ev)
	}
}

func TestGetRegistration(t *testing.T) {
	h := newHarness(t)
	id := h.registered(t)
	r := h.do(http.MethodGet, "/register/"+id, "", "", bearer(h.accessToken(t, id)))
	if r.status != 200 || r.json["client_id"] != id || r.json["software_statement"] == nil || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if ev := h.lastAudit(t); ev.Type != "registration.read" || ev.Outcome != "success" || ev.ClientID != id {
		t.Errorf("audit %+v", ev)
	}
}

func TestPutRegistration(t *testing.T) {
	h := newHarness(t)
	first := h.register(h.validRequest(t))
	id := first.json["client_id"].(string)
	tok := h.accessToken(t, id)
	adr, p := h.eco.ADRs[0], h.eco.Products[0]

	// A PUT that narrows the redirect URIs.
	body := h.requestFor(t, adr, p, jwa.PS256, func(c map[string]any) { c["redirect_uris"] = []any{adr.RedirectURI(2)} })
	r := h.do(http.MethodPut, "/register/"+id, "application/jwt", body, bearer(tok))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r.json["client_id"] != id || r.json["client_id_issued_at"] != first.json["client_id_issued_at"] {
		t.Fatalf("identity changed: %v", r.json)
	}
	if uris := r.json["redirect_uris"].([]any); len(uris) != 1 || uris[0] != adr.RedirectURI(2) {
		t.Fatalf("redirect_uris %v", uris)
	}
	got := h.do(http.MethodGet, "/register/"+id, "", "", bearer(tok))
	if uris := got.json["redirect_uris"].([]any); len(uris) != 1 {
		t.Fatalf("GET after PUT: %v", got.json["redirect_uris"])
	}
	ev := h.lastAudit(t)
	upd := store.AuditEvent{}
	storetest.Gorm(t, h.db).Where("type = 'registration.update'").Order("id DESC").Take(&upd)
	if upd.Outcome != "success" || !strings.Contains(upd.Data, "redirect_uris") {
		t.Errorf("update audit %+v (last %+v)", upd, ev)
	}

	// A PUT carrying another product's SSA.
	other := h.requestFor(t, h.eco.ADRs[1], h.eco.Products[1], jwa.PS256, nil)
	r = h.do(http.MethodPut, "/register/"+id, "application/jwt", other, bearer(tok))
	if r.status != 400 || r.json["error"] != "invalid_software_statement" || r.json["error_description"] != "The software_statement does not belong to this client" {
		t.Fatalf("foreign SSA: %d %s", r.status, r.body)
	}
	// A PUT failing the pipeline answers like POST.
	bad := h.requestFor(t, adr, p, jwa.PS256, func(c map[string]any) { c["redirect_uris"] = []any{"https://evil.example/cb"} })
	r = h.do(http.MethodPut, "/register/"+id, "application/jwt", bad, bearer(tok))
	if r.status != 400 || r.json["error"] != "invalid_redirect_uri" {
		t.Fatalf("bad PUT: %d %s", r.status, r.body)
	}
	r = h.do(http.MethodPut, "/register/"+id, "text/plain", body, bearer(tok))
	if r.status != http.StatusUnsupportedMediaType {
		t.Fatalf("PUT content type: %d", r.status)
	}
	if ev := h.lastAudit(t); ev.Type != "registration.update" || ev.ClientID != id || ev.Step != "transport" {
		t.Fatalf("a refused PUT is audited as %+v", ev)
	}
	// The stored registration is the successful PUT's.
	c, _ := h.db.GetClient(t.Context(), id)
	if !strings.Contains(c.Registration, adr.RedirectURI(2)) || strings.Contains(c.Registration, adr.RedirectURI(1)) {
		t.Fatalf("stored %s", c.Registration)
	}
}

func TestDeleteThenGetThenRegisterAgain(t *testing.T) {
	h := newHarness(t)
	id := h.registered(t)
	tok := h.accessToken(t, id)
	r := h.do(http.MethodDelete, "/register/"+id, "", "", bearer(tok))
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("delete: %d %q", r.status, r.body)
	}
	r = h.do(http.MethodGet, "/register/"+id, "", "", bearer(tok))
	if r.status != 401 || r.header.Get("WWW-Authenticate") != unknownChallenge {
		t.Fatalf("GET after DELETE: %d %s", r.status, r.body)
	}
	c, _ := h.db.GetClient(t.Context(), id)
	if c.Status != store.StatusDeleted {
		t.Fatalf("status %s", c.Status)
	}
	// The software_id is free again.
	again := h.register(h.validRequest(t))
	if again.status != http.StatusCreated || again.json["client_id"] == id {
		t.Fatalf("fresh POST: %d %s", again.status, again.body)
	}
}
