package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/authz"
	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// registered registers the first ADR's product and returns its client_id.
func (h *harness) registered(t testing.TB) string {
	t.Helper()
	r := h.register(h.validRequest(t))
	if r.status != http.StatusCreated {
		t.Fatalf("registration: %d %s", r.status, r.body)
	}
	return r.json["client_id"].(string)
}

func tokenForm(assertion string, edit func(url.Values)) string {
	f := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
	if edit != nil {
		edit(f)
	}
	return f.Encode()
}

func (h *harness) token(form string) response {
	return h.do(http.MethodPost, "/token", "application/x-www-form-urlencoded", form, nil)
}

// assertionFor signs a client assertion of adr for clientID after edit.
func assertionFor(t testing.TB, adr *cdrsim.ADR, clientID string, alg jwa.SignatureAlgorithm, edit func(map[string]any)) string {
	t.Helper()
	c := adr.AssertionClaims(clientID, testIssuer)
	if edit != nil {
		edit(c)
	}
	s, err := adr.SignRequest(c, alg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// accessToken gets a cdr:registration token for clientID of the first ADR.
func (h *harness) accessToken(t testing.TB, clientID string) string {
	t.Helper()
	r := h.token(tokenForm(assertionFor(t, h.eco.ADRs[0], clientID, jwa.ES256, nil), nil))
	if r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	return r.json["access_token"].(string)
}

func payload(t testing.TB, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTokenSuccess(t *testing.T) {
	h := newHarness(t)
	id := h.registered(t)
	for _, alg := range []jwa.SignatureAlgorithm{jwa.ES256, jwa.PS256} {
		r := h.token(tokenForm(assertionFor(t, h.eco.ADRs[0], id, alg, nil), func(f url.Values) { f.Set("client_id", id) }))
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", alg, r.status, r.body)
		}
		if r.header.Get("Cache-Control") != "no-store" || r.json["token_type"] != "Bearer" || r.json["scope"] != "cdr:registration" || r.json["expires_in"] != 300.0 {
			t.Fatalf("response %v %v", r.header, r.json)
		}
		at := r.json["access_token"].(string)
		header, _ := base64.RawURLEncoding.DecodeString(strings.Split(at, ".")[0])
		if !strings.Contains(string(header), `"typ":"at+jwt"`) {
			t.Errorf("header %s", header)
		}
		p := payload(t, at)
		if p["iss"] != testIssuer || p["sub"] != id || p["client_id"] != id || p["scope"] != "cdr:registration" || p["jti"] == nil || p["cnf"] != nil {
			t.Errorf("claims %v", p)
		}
		if exp, iat := p["exp"].(float64), p["iat"].(float64); exp-iat != 300 {
			t.Errorf("lifetime %v", exp-iat)
		}
	}
	ev := h.lastAudit(t)
	if ev.Type != "token.issue" || ev.Outcome != "success" || ev.ClientID != id {
		t.Errorf("audit %+v", ev)
	}
	// The token endpoint URL is an accepted audience too.
	r := h.token(tokenForm(assertionFor(t, h.eco.ADRs[0], id, jwa.ES256, func(c map[string]any) { c["aud"] = testIssuer + "/token" }), nil))
	if r.status != http.StatusOK {
		t.Fatalf("aud = token endpoint: %d %s", r.status, r.body)
	}
	// Explicit scope.
	r = h.token(tokenForm(assertionFor(t, h.eco.ADRs[0], id, jwa.ES256, nil), func(f url.Values) { f.Set("scope", "cdr:registration") }))
	if r.status != http.StatusOK {
		t.Fatalf("explicit scope: %d %s", r.status, r.body)
	}
}

func TestTokenErrors(t *testing.T) {
	h := newHarness(t)
	id := h.registered(t)
	other := h.eco.ADRs[1]
	replayed := assertionFor(t, h.eco.ADRs[0], id, jwa.ES256, nil)
	if r := h.token(tokenForm(replayed, nil)); r.status != 200 {
		t.Fatalf("first use: %d %s", r.status, r.body)
	}
	valid := func() string { return assertionFor(t, h.eco.ADRs[0], id, jwa.ES256, nil) }
	edited := func(edit func(map[string]any)) string { return assertionFor(t, h.eco.ADRs[0], id, jwa.ES256, edit) }
	tests := []struct {
		name   string
		ct     string
		form   string
		status int
		code   string
	}{
		{"wrong content type", "application/json", tokenForm(valid(), nil), 400, "invalid_request"},
		{"grant_type missing", "", tokenForm(valid(), func(f url.Values) { f.Del("grant_type") }), 400, "invalid_request"},
		{"grant_type authorization_code", "", tokenForm(valid(), func(f url.Values) { f.Set("grant_type", "authorization_code") }), 400, "unsupported_grant_type"},
		{"repeated parameter", "", tokenForm(valid(), func(f url.Values) { f.Add("grant_type", "client_credentials") }), 400, "invalid_request"},
		{"assertion missing", "", tokenForm("", func(f url.Values) { f.Del("client_assertion") }), 400, "invalid_client"},
		{"assertion type wrong", "", tokenForm(valid(), func(f url.Values) { f.Set("client_assertion_type", "urn:x") }), 400, "invalid_client"},
		{"assertion not a JWT", "", tokenForm("garbage", nil), 400, "invalid_client"},
		{"client_id mismatch", "", tokenForm(valid(), func(f url.Values) { f.Set("client_id", "someone-else") }), 400, "invalid_client"},
		{"unknown client", "", tokenForm(edited(func(c map[string]any) { c["iss"], c["sub"] = "nobody", "nobody" }), nil), 400, "invalid_client"},
		{"sub differs from iss", "", tokenForm(edited(func(c map[string]any) { c["sub"] = "x" }), nil), 400, "invalid_client"},
		{"signed by another ADR's key", "", tokenForm(assertionFor(t, other, id, jwa.ES256, nil), nil), 400, "invalid_client"},
		{"alg none", "", tokenForm(func() string {
			s, _ := h.eco.ADRs[0].SignWith(jwa.NoSignature, nil, "", h.eco.ADRs[0].AssertionClaims(id, testIssuer))
			return s
		}(), nil), 400, "invalid_client"},
		{"HS256", "", tokenForm(func() string {
			s, _ := h.eco.ADRs[0].SignWith(jwa.HS256, []byte("secret"), h.eco.ADRs[0].ECKeyID(), h.eco.ADRs[0].AssertionClaims(id, testIssuer))
			return s
		}(), nil), 400, "invalid_client"},
		{"wrong aud", "", tokenForm(edited(func(c map[string]any) { c["aud"] = "https://other-holder.example" }), nil), 400, "invalid_client"},
		{"expired", "", tokenForm(edited(func(c map[string]any) { c["exp"] = time.Now().Add(-5 * time.Minute).Unix() }), nil), 400, "invalid_client"},
		{"exp missing", "", tokenForm(edited(func(c map[string]any) { delete(c, "exp") }), nil), 400, "invalid_client"},
		{"jti missing", "", tokenForm(edited(func(c map[string]any) { delete(c, "jti") }), nil), 400, "invalid_client"},
		{"replayed assertion", "", tokenForm(replayed, nil), 400, "invalid_client"},
		{"scope not allowed", "", tokenForm(valid(), func(f url.Values) { f.Set("scope", "cdr:registration bank:accounts.basic:read") }), 400, "invalid_scope"},
		{"scope empty", "", tokenForm(valid(), func(f url.Values) { f.Set("scope", "") }), 400, "invalid_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.ct
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			r := h.do(http.MethodPost, "/token", ct, tc.form, nil)
			if r.status != tc.status || r.json["error"] != tc.code || r.json["error_description"] == "" {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
			}
		})
	}
	var refused int64
	storetest.Gorm(t, h.db).Table("audit_events").Where("type = 'token.issue' AND outcome = 'rejected'").Count(&refused)
	if refused < 15 {
		t.Errorf("only %d token refusals audited", refused)
	}
}

func TestTokenRefusedForDeletedClient(t *testing.T) {
	h := newHarness(t)
	id := h.registered(t)
	at := h.accessToken(t, id)
	if r := h.do(http.MethodDelete, "/register/"+id, "", "", map[string]string{"Authorization": "Bearer " + at}); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	r := h.token(tokenForm(assertionFor(t, h.eco.ADRs[0], id, jwa.ES256, nil), nil))
	if r.status != 400 || r.json["error"] != "invalid_client" {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestDiscoveryAndJWKS(t *testing.T) {
	h := newHarness(t)
	r := h.do(http.MethodGet, "/.well-known/openid-configuration", "", "", nil)
	if r.status != 200 {
		t.Fatal(r.status)
	}
	want := map[string]any{
		"issuer": testIssuer, "registration_endpoint": testIssuer + "/register", "token_endpoint": testIssuer + "/token",
		"jwks_uri": testIssuer + "/jwks", "tls_client_certificate_bound_access_tokens": false,
	}
	for k, v := range want {
		if r.json[k] != v {
			t.Errorf("%s = %v, want %v", k, r.json[k], v)
		}
	}
	for _, k := range []string{"token_endpoint_auth_methods_supported", "token_endpoint_auth_signing_alg_values_supported", "grant_types_supported",
		"response_types_supported", "scopes_supported", "id_token_signing_alg_values_supported", "request_object_signing_alg_values_supported",
		"authorization_signing_alg_values_supported"} {
		if _, ok := r.json[k].([]any); !ok {
			t.Errorf("%s missing", k)
		}
	}
	j := h.do(http.MethodGet, "/jwks", "", "", nil)
	if j.status != 200 || !strings.Contains(string(j.body), `"kid"`) {
		t.Fatalf("jwks %d %s", j.status, j.body)
	}
	for _, private := range []string{`"d":`, `"p":`, `"q":`} {
		if strings.Contains(string(j.body), private) {
			t.Fatalf("JWKS leaks private key material: %s", j.body)
		}
	}
}

// TestKeyRotation: a rotated key signs new tokens; tokens of the old key keep
// working while it is still published.
func TestKeyRotation(t *testing.T) {
	h := newHarness(t)
	id := h.registered(t)
	oldToken := h.accessToken(t, id)
	oldKID := h.app.Keys.SigningKeyID()
	if _, err := rotate(h); err != nil {
		t.Fatal(err)
	}
	if err := h.app.Keys.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if h.app.Keys.SigningKeyID() == oldKID {
		t.Fatal("rotation did not change the signing key")
	}
	jwks := string(h.do(http.MethodGet, "/jwks", "", "", nil).body)
	if !strings.Contains(jwks, oldKID) || !strings.Contains(jwks, h.app.Keys.SigningKeyID()) {
		t.Fatalf("both keys must be published: %s", jwks)
	}
	for _, tok := range []string{oldToken, h.accessToken(t, id)} {
		if r := h.do(http.MethodGet, "/register/"+id, "", "", map[string]string{"Authorization": "Bearer " + tok}); r.status != 200 {
			t.Fatalf("GET with token: %d %s", r.status, r.body)
		}
	}
}

func rotate(h *harness) (string, error) {
	return authz.RotateHolderKey(context.Background(), h.db, h.app.Audit, "test", h.cfg.Holder.SigningAlg, 11*time.Minute)
}
