package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store/pgtest"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// NUL (U+0000) in client text: PostgreSQL's text columns refuse it (SQLSTATE
// 22021), so it must be refused before any statement carries it, with the same
// answer on both backends, and nothing stored.

// nulHarness is a harness on backend with the processing API on and an API key.
func nulHarness(t *testing.T, backend string) (*harness, string) {
	h := newHarness(t, withBackend(t, backend), func(c *config.Config) {
		c.API.Enabled, c.API.ServiceID = true, "svc-1"
	})
	key, err := h.app.Auth.NewAPIKey(context.Background(), "test", "as-1", "")
	if err != nil {
		t.Fatal(err)
	}
	return h, key
}

// rowCounts is how many rows the tables client text could reach hold.
func (h *harness) rowCounts(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"clients", "used_jtis", "client_notes", "users", "blocked_software", "api_keys"} {
		var n int64
		if err := storetest.Gorm(t, h.db).Table(table).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

// TestNULInRegistrationIsInvalidMetadata: a NUL in any string claim of the
// request, of the SSA or of RFC 7591 JSON is invalid_client_metadata /
// ERR-DCR-004 on both backends, through POST /register and the processing API.
func TestNULInRegistrationIsInvalidMetadata(t *testing.T) {
	request := func(h *harness, ssaEdit func(map[string]any), reqEdit func(map[string]any)) string {
		p := h.eco.Products[0]
		ssa, err := h.eco.Register.SignSSA(p, func(c, _ map[string]any) {
			if ssaEdit != nil {
				ssaEdit(c)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		claims := h.eco.ADRs[0].RequestClaims(ssa, testIssuer, p.ID)
		if reqEdit != nil {
			reqEdit(claims)
		}
		jwt, err := h.eco.ADRs[0].SignRequest(claims, jwa.PS256)
		if err != nil {
			t.Fatal(err)
		}
		return jwt
	}
	cases := []struct {
		name     string
		ssa, req func(map[string]any)
	}{
		{name: "request client_name", req: func(c map[string]any) { c["client_name"] = "Bank\x00App" }},
		{name: "request jti", req: func(c map[string]any) { c["jti"] = "j\x00ti" }},
		{name: "request iss", req: func(c map[string]any) { c["iss"] = "\x00" }},
		{name: "request redirect_uris item", req: func(c map[string]any) {
			c["redirect_uris"] = []any{"https://adr.example/cb\x00"}
		}},
		{name: "request nested member", req: func(c map[string]any) { c["x"] = map[string]any{"y": []any{"\x00"}} }},
		{name: "request member name", req: func(c map[string]any) { c["a\x00b"] = "v" }},
		{name: "SSA client_name", ssa: func(c map[string]any) { c["client_name"] = "\x00" }},
		{name: "SSA software_id", ssa: func(c map[string]any) { c["software_id"] = c["software_id"].(string) + "\x00" }},
		{name: "SSA org_name", ssa: func(c map[string]any) { c["org_name"] = "Org\x00" }},
		{name: "SSA redirect_uris item", ssa: func(c map[string]any) {
			c["redirect_uris"] = []any{"https://adr.example/cb\x00"}
		}},
	}
	for _, backend := range pgtest.Backends() {
		t.Run(backend, func(t *testing.T) {
			h, key := nulHarness(t, backend)
			before := h.rowCounts(t)
			for _, tc := range cases {
				t.Run("POST /register "+tc.name, func(t *testing.T) {
					r := h.register(request(h, tc.ssa, tc.req))
					assertInvalidMetadata(t, r.status, r.json)
				})
				if tc.req != nil {
					t.Run("API "+tc.name, func(t *testing.T) {
						json := metadataFor(t, h, h.eco.ADRs[0], h.eco.Products[0], tc.req)
						status, resp, content := h.api(t, key, apiBase, map[string]string{"json": json})
						if status != http.StatusOK || resp.Action != "BAD_REQUEST" {
							t.Fatalf("%d %+v", status, resp)
						}
						assertInvalidMetadata(t, http.StatusBadRequest, content)
					})
				}
			}
			if after := h.rowCounts(t); !equalCounts(before, after) {
				t.Fatalf("rows stored: before %v after %v", before, after)
			}
			if ev := h.lastAudit(t); ev.ErrorCode != dcr.CodeInvalidClientMetadata {
				t.Fatalf("last refusal not audited: %+v", ev)
			}
			if res, err := h.app.Audit.Verify(context.Background()); err != nil || !res.OK {
				t.Fatalf("audit verify: %+v %v", res, err)
			}
		})
	}
}

func assertInvalidMetadata(t *testing.T, status int, body map[string]any) {
	t.Helper()
	if status != http.StatusBadRequest || body["error"] != dcr.CodeInvalidClientMetadata || body["error_description"] != dcr.DescRequestInvalid {
		t.Fatalf("got %d %v, want 400 %s / %s", status, body, dcr.CodeInvalidClientMetadata, dcr.DescRequestInvalid)
	}
}

func equalCounts(a, b map[string]int64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

// TestNULInOtherInputIs400: every other way client text reaches a column or a
// query (console search, notes, user names, blocks, API keys, the token form, a
// client id in a path, the processing API's clientId) is a 400, never a 500, and
// stores nothing, on both backends.
func TestNULInOtherInputIs400(t *testing.T) {
	for _, backend := range pgtest.Backends() {
		t.Run(backend, func(t *testing.T) {
			h, key := nulHarness(t, backend)
			id := h.registered(t)
			admin := h.operator(t, "admin")
			before := h.rowCounts(t)
			form := "application/x-www-form-urlencoded"
			cases := []struct {
				name                      string
				method, path, ctype, body string
				cookie                    bool
			}{
				{"console search NUL", http.MethodGet, "/console/search?q=ab%00", "", "", true},
				{"console search not UTF-8", http.MethodGet, "/console/search?q=%FF%FE", "", "", true},
				{"console clients filter", http.MethodGet, "/console/clients?q=" + url.QueryEscape(id[:4]+"\x00"), "", "", true},
				{"console audit filter", http.MethodGet, "/console/audit?actor=%00", "", "", true},
				{"client id in a console path", http.MethodGet, "/console/clients/" + id + "%00", "", "", true},
				{"note", http.MethodPost, "/console/clients/" + id + "/notes", form, "note=hello%00&ticket=T-1", true},
				{"note as multipart", http.MethodPost, "/console/clients/" + id + "/notes", "multipart/form-data; boundary=XyZ",
					"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\x00\r\n--XyZ--\r\n", true},
				{"note ticket not UTF-8", http.MethodPost, "/console/clients/" + id + "/notes", form, "note=hello&ticket=%C0", true},
				{"user name", http.MethodPost, "/console/users", form, "username=eve%00&role=viewer", true},
				{"block reason", http.MethodPost, "/console/software/block", form, "software_id=" + h.eco.Products[1].ID + "&reason=x%00", true},
				{"API key name", http.MethodPost, "/console/apikeys", form, "name=k%00", true},
				{"login user name", http.MethodPost, "/console/login", form, "username=a%00&password=x", false},
				{"token client_id", http.MethodPost, "/token", form, "grant_type=client_credentials&client_id=%00", false},
				{"client id in a DCR path", http.MethodGet, "/register/" + id + "%00", "", "", false},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					hdr := map[string]string{"Sec-Fetch-Site": "same-origin"}
					if tc.cookie {
						hdr["Cookie"] = admin
					}
					r := h.do(tc.method, tc.path, tc.ctype, tc.body, hdr)
					if r.status != http.StatusBadRequest || r.json["error"] != "invalid_request" || r.json["error_description"] != descUnstorable {
						t.Fatalf("%d %s", r.status, r.body)
					}
				})
			}
			t.Run("token client assertion iss", func(t *testing.T) {
				nul := id + "\x00"
				assertion := assertionFor(t, h.eco.ADRs[0], id, jwa.ES256, func(c map[string]any) { c["iss"], c["sub"] = nul, nul })
				r := h.token(tokenForm(assertion, nil))
				if r.status != http.StatusBadRequest || r.json["error"] != "invalid_client" || r.json["error_description"] != "The client is unknown" {
					t.Fatalf("%d %s", r.status, r.body)
				}
			})
			t.Run("API clientId", func(t *testing.T) {
				status, resp, _ := h.api(t, key, apiBase+"/get", map[string]string{"clientId": id + "\x00", "token": "x"})
				if status != http.StatusBadRequest || resp.ResultCode == "" || resp.Action != "" {
					t.Fatalf("%d %+v", status, resp)
				}
			})
			if after := h.rowCounts(t); !equalCounts(before, after) {
				t.Fatalf("rows stored: before %v after %v", before, after)
			}
		})
	}
}

// TestUnstorableUserAgentIsSanitised: a User-Agent that is not UTF-8 (net/http
// lets obs-text through) is only a record: sign-in works and the session keeps
// it with U+FFFD in place of the bad bytes.
func TestUnstorableUserAgentIsSanitised(t *testing.T) {
	for _, backend := range pgtest.Backends() {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, withBackend(t, backend))
			if _, err := h.app.Auth.CreateUser(context.Background(), "test", "ua-user", testPassword, "viewer", false, ""); err != nil {
				t.Fatal(err)
			}
			r := h.do(http.MethodPost, "/console/login", "application/x-www-form-urlencoded",
				"username=ua-user&password="+url.QueryEscape(testPassword), map[string]string{"User-Agent": "Browser/1 \xff\xfe"})
			if r.status != http.StatusSeeOther {
				t.Fatalf("login: %d %s", r.status, r.body)
			}
			var ua string
			if err := storetest.Gorm(t, h.db).Table("sessions").Select("user_agent").Take(&ua).Error; err != nil {
				t.Fatal(err)
			}
			if ua != "Browser/1 \uFFFD" {
				t.Fatalf("user agent stored as %q", ua)
			}
		})
	}
}

// TestUnreadableFormReachesItsHandler: a form the middleware cannot parse is
// left to the handler, which answers it as before (the token endpoint's own 400).
func TestUnreadableFormReachesItsHandler(t *testing.T) {
	h := newHarness(t)
	r := h.do(http.MethodPost, "/token", "application/x-www-form-urlencoded", "grant_type=%zz", nil)
	if r.status != http.StatusBadRequest || r.json["error_description"] != "The request body is not a valid form" {
		t.Fatalf("%d %s", r.status, r.body)
	}
}
