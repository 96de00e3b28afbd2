package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

const apiBase = "/api/svc-1/client/registration"

// apiHarness is a harness with the processing API on and one API key.
func apiHarness(t *testing.T, rotate bool) (*harness, string) {
	h := newHarness(t, func(c *config.Config) {
		c.API.Enabled, c.API.ServiceID, c.API.RotateRegistrationAccessToken = true, "svc-1", rotate
	})
	key, err := h.app.Auth.NewAPIKey(context.Background(), "test", "as-1", "")
	if err != nil {
		t.Fatal(err)
	}
	return h, key
}

// authleteResponse and authleteClient decode our answers with the field names
// and types of Authlete's published ClientRegistrationResponse and Client.
type authleteResponse struct {
	ResultCode      string          `json:"resultCode"`
	ResultMessage   string          `json:"resultMessage"`
	Action          string          `json:"action"`
	ResponseContent string          `json:"responseContent"`
	Client          *authleteClient `json:"client"`
}

type authleteClient struct {
	ClientID              int64    `json:"clientId"`
	ClientIDAlias         string   `json:"clientIdAlias"`
	ClientIDAliasEnabled  bool     `json:"clientIdAliasEnabled"`
	ClientName            string   `json:"clientName"`
	ClientType            string   `json:"clientType"`
	ApplicationType       string   `json:"applicationType"`
	RedirectURIs          []string `json:"redirectUris"`
	ResponseTypes         []string `json:"responseTypes"`
	GrantTypes            []string `json:"grantTypes"`
	JWKSURI               string   `json:"jwksUri"`
	TokenAuthMethod       string   `json:"tokenAuthMethod"`
	TokenAuthSignAlg      string   `json:"tokenAuthSignAlg"`
	IDTokenSignAlg        string   `json:"idTokenSignAlg"`
	SoftwareID            string   `json:"softwareId"`
	CreatedAt             int64    `json:"createdAt"`
	ModifiedAt            int64    `json:"modifiedAt"`
	DynamicallyRegistered bool     `json:"dynamicallyRegistered"`
}

func (h *harness) api(t *testing.T, key, path string, body any) (int, authleteResponse, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	if s, ok := body.(string); ok {
		raw = []byte(s)
	}
	hdr := map[string]string{}
	if key != "" {
		hdr["Authorization"] = "Bearer " + key
	}
	r := h.do(http.MethodPost, path, "application/json", string(raw), hdr)
	var resp authleteResponse
	dec := json.NewDecoder(bytes.NewReader(r.body))
	if err := dec.Decode(&resp); err != nil {
		t.Fatalf("undecodable answer %d %s: %v", r.status, r.body, err)
	}
	var content map[string]any
	if resp.ResponseContent != "" {
		if err := json.Unmarshal([]byte(resp.ResponseContent), &content); err != nil {
			t.Fatalf("responseContent is not JSON: %q", resp.ResponseContent)
		}
	}
	return r.status, resp, content
}

// metadataFor is RFC 7591 client metadata carrying p's SSA.
func metadataFor(t testing.TB, h *harness, adr *cdrsim.ADR, p *cdrsim.Product, edit func(map[string]any)) string {
	t.Helper()
	ssa, err := h.eco.Register.SignSSA(p)
	if err != nil {
		t.Fatal(err)
	}
	m := adr.RequestClaims(ssa, testIssuer, p.ID)
	for _, k := range []string{"iss", "aud", "iat", "exp", "jti"} {
		delete(m, k)
	}
	if edit != nil {
		edit(m)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestAPILifecycle(t *testing.T) {
	h, key := apiHarness(t, false)
	adr, p := h.eco.ADRs[0], h.eco.Products[0]
	status, resp, content := h.api(t, key, apiBase, map[string]string{
		"json": metadataFor(t, h, adr, p, func(m map[string]any) { m["client_name"] = "Not the SSA's name" }),
	})
	if status != 200 || resp.Action != "CREATED" || resp.ResultCode != "DCR-A001" || !strings.HasPrefix(resp.ResultMessage, "[DCR-A001]") {
		t.Fatalf("%d %+v", status, resp)
	}
	rat, _ := content["registration_access_token"].(string)
	id, _ := content["client_id"].(string)
	if len(rat) < 43 || content["registration_client_uri"] != testIssuer+"/register/"+id || content["client_name"] != p.Name {
		t.Fatalf("content %v (SSA claims must win over metadata)", content)
	}
	c := resp.Client
	if c == nil || c.ClientIDAlias != id || c.ClientID <= 0 || !c.DynamicallyRegistered || c.SoftwareID != p.ID || c.TokenAuthMethod != "PRIVATE_KEY_JWT" ||
		c.CreatedAt < 1e12 || len(c.RedirectURIs) == 0 || c.GrantTypes[0] == "" {
		t.Fatalf("client %+v", c)
	}
	stored, _ := h.db.GetClient(t.Context(), id)
	if stored.Source != store.SourceAPI || stored.APIKeyName != "as-1" || stored.RATHash == "" || strings.Contains(stored.RATHash, rat) {
		t.Fatalf("stored %+v", stored)
	}
	if strings.Contains(string(mustJSON(resp)), stored.RATHash) {
		t.Fatal("the RAT hash leaked into a response")
	}

	status, resp, content = h.api(t, key, apiBase+"/get", map[string]string{"clientId": id, "token": rat})
	if status != 200 || resp.Action != "OK" || content["client_id"] != id || content["registration_access_token"] != nil || content["registration_client_uri"] == nil {
		t.Fatalf("get: %d %+v", status, resp)
	}

	upd := metadataFor(t, h, adr, p, func(m map[string]any) { m["redirect_uris"] = []any{adr.RedirectURI(2)} })
	status, resp, content = h.api(t, key, apiBase+"/update", map[string]string{"clientId": id, "token": rat, "json": upd})
	if status != 200 || resp.Action != "UPDATED" || content["registration_access_token"] != nil || content["client_id"] != id {
		t.Fatalf("update: %d %+v", status, resp)
	}
	if uris := content["redirect_uris"].([]any); len(uris) != 1 {
		t.Fatalf("redirect_uris %v", uris)
	}

	status, resp, _ = h.api(t, key, apiBase+"/delete", map[string]string{"clientId": id, "token": rat})
	if status != 200 || resp.Action != "DELETED" || resp.ResponseContent != "" {
		t.Fatalf("delete: %d %+v", status, resp)
	}
	status, resp, _ = h.api(t, key, apiBase+"/get", map[string]string{"clientId": id, "token": rat})
	if resp.Action != "UNAUTHORIZED" {
		t.Fatalf("get after delete: %d %+v", status, resp)
	}
	var events int64
	storetest.Gorm(t, h.db).Model(&store.AuditEvent{}).Where("actor = 'apikey:as-1'").Count(&events)
	if events < 5 {
		t.Fatalf("only %d API events audited", events)
	}
}

func TestAPIRegisterWithRequestJWTAndRotation(t *testing.T) {
	h, key := apiHarness(t, true)
	status, resp, content := h.api(t, key, apiBase, map[string]string{"json": h.validRequest(t)})
	if status != 200 || resp.Action != "CREATED" {
		t.Fatalf("%d %+v", status, resp)
	}
	id, rat := content["client_id"].(string), content["registration_access_token"].(string)
	body := h.requestFor(t, h.eco.ADRs[0], h.eco.Products[0], jwa.PS256, nil)
	_, resp, content = h.api(t, key, apiBase+"/update", map[string]string{"clientId": id, "token": rat, "json": body})
	newRAT, _ := content["registration_access_token"].(string)
	if resp.Action != "UPDATED" || newRAT == "" || newRAT == rat {
		t.Fatalf("rotation: %+v", resp)
	}
	if _, resp, _ = h.api(t, key, apiBase+"/get", map[string]string{"clientId": id, "token": rat}); resp.Action != "UNAUTHORIZED" {
		t.Fatalf("old RAT still works: %+v", resp)
	}
	if _, resp, _ = h.api(t, key, apiBase+"/get", map[string]string{"clientId": id, "token": newRAT}); resp.Action != "OK" {
		t.Fatalf("new RAT refused: %+v", resp)
	}
}

func TestAPIBadRequests(t *testing.T) {
	h, key := apiHarness(t, false)
	adr, p := h.eco.ADRs[0], h.eco.Products[0]
	if _, resp, _ := h.api(t, key, apiBase, map[string]string{"json": metadataFor(t, h, adr, p, nil)}); resp.Action != "CREATED" {
		t.Fatalf("setup: %+v", resp)
	}
	tests := []struct {
		name, json, code, desc string
	}{
		{"not a JSON object", `[1,2]`, "invalid_client_metadata", "ERR-DCR-002: Registration request is empty"},
		{"software_statement missing", `{"client_name":"x"}`, "invalid_software_statement", "ERR-DCR-006: The software_statement is empty or invalid"},
		{"SSA invalid", metadataFor(t, h, adr, p, func(m map[string]any) {
			ssa := m["software_statement"].(string)
			m["software_statement"] = ssa[:len(ssa)-6] + "AAAAAA"
		}), "invalid_software_statement", "ERR-DCR-005: SSA validation failed."},
		{"metadata rule", metadataFor(t, h, h.eco.ADRs[1], h.eco.Products[1], func(m map[string]any) { m["token_endpoint_auth_method"] = "none" }),
			"invalid_client_metadata", "The 'token_endpoint_auth_method' claim value must be one of 'private_key_jwt'."},
		{"redirect uri", metadataFor(t, h, h.eco.ADRs[1], h.eco.Products[1], func(m map[string]any) { m["redirect_uris"] = []any{"https://evil.example/cb"} }),
			"invalid_redirect_uri", "ERR-DCR-003: The redirect_uri 'https://evil.example/cb' is not valid as it is not included in the software_statement"},
		{"duplicate", metadataFor(t, h, adr, p, nil), "invalid_client_metadata", "ERR-DCR-001: Duplicate registrations for a given software_id are not valid."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, resp, content := h.api(t, key, apiBase, map[string]string{"json": tc.json})
			if status != 200 || resp.Action != "BAD_REQUEST" || resp.ResultCode != "DCR-A010" || content["error"] != tc.code || content["error_description"] != tc.desc {
				t.Fatalf("%d %+v %v", status, resp, content)
			}
		})
	}
	setStatus(t, h, func() error { return h.eco.Register.SetProductStatus(h.eco.Products[2].ID, "INACTIVE") })
	_, resp, content := h.api(t, key, apiBase, map[string]string{"json": metadataFor(t, h, h.eco.ADRs[2], h.eco.Products[2], nil)})
	if resp.Action != "BAD_REQUEST" || content["error"] != "unapproved_software_statement" {
		t.Fatalf("inactive product: %+v", resp)
	}
}

func TestAPIUnauthorizedIsIndistinguishable(t *testing.T) {
	h, key := apiHarness(t, false)
	_, _, content := h.api(t, key, apiBase, map[string]string{"json": h.validRequest(t)})
	id := content["client_id"].(string)
	_, wrong, _ := h.api(t, key, apiBase+"/get", map[string]string{"clientId": id, "token": "wrong"})
	_, unknown, _ := h.api(t, key, apiBase+"/get", map[string]string{"clientId": "no-such-client", "token": "wrong"})
	if wrong.Action != "UNAUTHORIZED" || mustJSON(wrong) != mustJSON(unknown) {
		t.Fatalf("answers differ:\n%s\n%s", mustJSON(wrong), mustJSON(unknown))
	}
	// A client revoked by an operator is unknown to the API too.
	if err := h.app.Registrar.Revoke(t.Context(), id, id, opAction("test revocation")); err != nil {
		t.Fatal(err)
	}
	rat := content["registration_access_token"].(string)
	if _, resp, _ := h.api(t, key, apiBase+"/get", map[string]string{"clientId": id, "token": rat}); resp.Action != "UNAUTHORIZED" {
		t.Fatalf("revoked client: %+v", resp)
	}
}

func TestAPITransportErrors(t *testing.T) {
	h, key := apiHarness(t, false)
	call := func(path, auth, body string) response {
		hdr := map[string]string{}
		if auth != "" {
			hdr["Authorization"] = auth
		}
		return h.do(http.MethodPost, path, "application/json", body, hdr)
	}
	tests := []struct {
		name, path, auth, body string
		status                 int
		code                   string
	}{
		{"unknown service", "/api/other/client/registration", "Bearer " + key, `{"json":"{}"}`, 404, "DCR-A031"},
		{"no API key", apiBase, "", `{"json":"{}"}`, 401, "DCR-A032"},
		{"wrong API key", apiBase, "Bearer dcrk_wrong", `{"json":"{}"}`, 401, "DCR-A032"},
		{"bad JSON", apiBase, "Bearer " + key, `{"json":`, 400, "DCR-A030"},
		{"json missing", apiBase, "Bearer " + key, `{}`, 400, "DCR-A030"},
		{"json not a string", apiBase, "Bearer " + key, `{"json":{"a":1}}`, 400, "DCR-A030"},
		{"unknown field", apiBase, "Bearer " + key, `{"json":"{}","extra":1}`, 400, "DCR-A030"},
		{"get without token", apiBase + "/get", "Bearer " + key, `{"clientId":"x"}`, 400, "DCR-A030"},
		{"delete without clientId", apiBase + "/delete", "Bearer " + key, `{"token":"x"}`, 400, "DCR-A030"},
		{"update without json", apiBase + "/update", "Bearer " + key, `{"token":"x","clientId":"y"}`, 400, "DCR-A030"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(tc.path, tc.auth, tc.body)
			if r.status != tc.status || r.json["resultCode"] != tc.code || r.json["action"] != nil {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	if err := h.app.Auth.RevokeAPIKey(t.Context(), "test", "as-1", ""); err != nil {
		t.Fatal(err)
	}
	if r := call(apiBase, "Bearer "+key, `{"json":"{}"}`); r.status != 401 {
		t.Fatalf("revoked key: %d", r.status)
	}
}

func TestAPIDisabledByDefault(t *testing.T) {
	h := newHarness(t)
	if r := h.do(http.MethodPost, apiBase, "application/json", `{"json":"{}"}`, nil); r.status != 404 {
		t.Fatalf("%d", r.status)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func opAction(reason string) dcr.OperatorAction {
	return dcr.OperatorAction{Actor: "user:test", Reason: reason}
}

func TestConsoleAPIKeys(t *testing.T) {
	h, _ := apiHarness(t, false)
	admin := h.operator(t, store.RoleAdmin)
	r := h.console(http.MethodPost, "/console/apikeys", admin, "name=as-2")
	body := string(r.body)
	i := strings.Index(body, "dcrk_")
	if r.status != 200 || i < 0 || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %s", r.status, body)
	}
	key := body[i : i+5+43]
	if status, _, _ := h.api(t, key, apiBase+"/get", map[string]string{"clientId": "x", "token": "y"}); status != 200 {
		t.Fatalf("new key refused: %d", status)
	}
	if r := h.console(http.MethodGet, "/console/apikeys", admin, ""); strings.Contains(string(r.body), key) || !strings.Contains(string(r.body), "as-2") {
		t.Fatal("the key is shown again, or not listed")
	}
	if r := h.console(http.MethodPost, "/console/apikeys", admin, "name=as-2"); r.status != 400 {
		t.Fatalf("duplicate name: %d", r.status)
	}
	for _, bad := range []string{".", "..", "a b", "a/b"} {
		if r := h.console(http.MethodPost, "/console/apikeys", admin, "name="+url.QueryEscape(bad)); r.status != 400 {
			t.Fatalf("name %q accepted: %d", bad, r.status)
		}
	}
	if r := h.console(http.MethodPost, "/console/apikeys/revoke", admin, "name=as-2"); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	if status, _, _ := h.api(t, key, apiBase+"/get", map[string]string{"clientId": "x", "token": "y"}); status != 401 {
		t.Fatalf("revoked key accepted: %d", status)
	}
	for _, role := range []string{store.RoleViewer, store.RoleOperator} {
		cookie := h.operator(t, role)
		if r := h.console(http.MethodGet, "/console/apikeys", cookie, ""); r.status != 403 {
			t.Errorf("%s GET: %d", role, r.status)
		}
		if r := h.console(http.MethodPost, "/console/apikeys", cookie, "name=x"); r.status != 403 {
			t.Errorf("%s POST: %d", role, r.status)
		}
	}
}

// TestConsoleShowsAPISource: a client made through the processing API shows its
// source and the API key that made it, and the source filter finds it.
func TestConsoleShowsAPISource(t *testing.T) {
	h, key := apiHarness(t, false)
	_, _, content := h.api(t, key, apiBase, map[string]string{"json": h.validRequest(t)})
	id := content["client_id"].(string)
	viewer := h.operator(t, store.RoleViewer)
	if r := h.console(http.MethodGet, "/console/clients/"+id, viewer, ""); !strings.Contains(string(r.body), "processing API (key as-1)") {
		t.Fatalf("detail page lacks the source: %d", r.status)
	}
	if r := h.console(http.MethodGet, "/console/clients?source=api", viewer, ""); !strings.Contains(string(r.body), id) {
		t.Fatal("source filter misses the API client")
	}
	if r := h.console(http.MethodGet, "/console/clients?source=register", viewer, ""); strings.Contains(string(r.body), id) {
		t.Fatal("source filter shows the API client under register")
	}
}
