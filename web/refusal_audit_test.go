package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// storedPayload extracts the bounded record of what was sent from a rejected
// event's Data: a registration attempt's body, or a token request's grant_type.
func storedPayload(t *testing.T, ev store.AuditEvent) store.Payload {
	t.Helper()
	var d struct {
		Prefix     string                   `json:"body_prefix"`
		RequestJWT string                   `json:"request_jwt"`
		Bytes      int                      `json:"source_bytes"`
		SHA256     string                   `json:"body_sha256"`
		Params     map[string]store.Payload `json:"params"`
	}
	if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
		t.Fatalf("event %d data is not JSON: %v", ev.ID, err)
	}
	if p, ok := d.Params["grant_type"]; ok {
		return p
	}
	return store.Payload{Prefix: d.Prefix + d.RequestJWT, Bytes: d.Bytes, SHA256: d.SHA256}
}

// TestRejectedPayloadsAreBounded sends rejected requests of every kind whose
// untrusted part is 1 KiB, 8 KiB, 8 KiB+1 and about 1 MiB (the largest body
// server.max_body_bytes allows): the audit log keeps at most 8 KiB of it with the
// length and SHA-256 of all of it, no free-text field grows with it, and the
// chain verifies. Before the bound, the whole request JWT and every quoted form
// value were stored.
func TestRejectedPayloadsAreBounded(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.API.Enabled, c.API.ServiceID = true, "svc-1"
		c.Server.MaxBodyBytes = 1 << 20 // the largest limit the config allows
	})
	key, err := h.app.Auth.NewAPIKey(context.Background(), "test", "as-1", "")
	if err != nil {
		t.Fatal(err)
	}
	clientID := h.registered(t)
	at := h.accessToken(t, clientID)
	kinds := []struct {
		name string
		send func(value string) response
		// overhead is what the request adds around the value (to stay within the body limit).
		overhead int
	}{
		{"POST /register", func(v string) response { return h.register(v) }, 0},
		{"PUT /register/{id}", func(v string) response {
			return h.do(http.MethodPut, "/register/"+clientID, "application/jwt", v, map[string]string{"Authorization": "Bearer " + at})
		}, 0},
		{"processing API registration", func(v string) response {
			body, _ := json.Marshal(map[string]string{"json": v})
			return h.do(http.MethodPost, apiBase, "application/json", string(body), map[string]string{"Authorization": "Bearer " + key})
		}, 16},
		{"processing API malformed call", func(v string) response {
			return h.do(http.MethodPost, apiBase, "application/json", v, map[string]string{"Authorization": "Bearer " + key})
		}, 0},
		{"POST /token", func(v string) response { return h.token("grant_type=" + v) }, 16},
	}
	sizes := []struct {
		name string
		n    int
	}{{"1 KiB", 1 << 10}, {"8 KiB", 8 << 10}, {"8 KiB+1", 8<<10 + 1}, {"1 MiB", 1 << 20}}
	for _, k := range kinds {
		for _, sz := range sizes {
			t.Run(k.name+"/"+sz.name, func(t *testing.T) {
				value := strings.Repeat("x", min(sz.n, 1<<20-k.overhead))
				if k.name == "processing API malformed call" {
					value = `{"json":` + value[8:] // not JSON: the body itself is what was sent
				}
				r := k.send(value)
				if r.status >= 500 || r.status < 400 && r.json["action"] != "BAD_REQUEST" {
					t.Fatalf("status %d: %.200s", r.status, r.body)
				}
				ev := h.lastAudit(t)
				if ev.Outcome != store.OutcomeRejected {
					t.Fatalf("last event %d is %s %s, want a rejection", ev.ID, ev.Type, ev.Outcome)
				}
				p := storedPayload(t, ev)
				if len(p.Prefix) > store.MaxPayloadPrefix || p.Prefix != value[:min(len(value), store.MaxPayloadPrefix)] {
					t.Fatalf("stored prefix has %d bytes, want the first %d of what was sent", len(p.Prefix), min(len(value), store.MaxPayloadPrefix))
				}
				if p.Bytes != len(value) || p.SHA256 != sha256Hex(value) {
					t.Fatalf("stored %d bytes sha256 %s, want %d and %s", p.Bytes, p.SHA256, len(value), sha256Hex(value))
				}
				for name, f := range map[string]string{"data": ev.Data, "reason": ev.Reason, "jti": ev.JTI, "actor": ev.Actor} {
					if len(f) > store.MaxPayloadPrefix+512 {
						t.Fatalf("%s has %d bytes", name, len(f))
					}
				}
			})
		}
	}
	res, err := h.app.Audit.Verify(context.Background())
	if err != nil || !res.OK {
		t.Fatalf("audit verify: %+v %v", res, err)
	}
}

// TestAttemptPageNotesTheBoundedPrefix: the attempt page shows the stored prefix
// and says it is the first 8 KiB of how many bytes, with their SHA-256.
func TestAttemptPageNotesTheBoundedPrefix(t *testing.T) {
	h := newHarness(t)
	body := strings.Repeat("y", 20<<10)
	if r := h.register(body); r.status != http.StatusBadRequest {
		t.Fatalf("register: %d", r.status)
	}
	ev := h.lastAudit(t)
	cookie := h.operator(t, store.RoleViewer)
	page := h.console(http.MethodGet, fmt.Sprintf("/console/attempts/%d", ev.ID), cookie, "")
	want := fmt.Sprintf("First 8 KiB of %d bytes, SHA-256 %s", len(body), sha256Hex(body))
	if page.status != http.StatusOK || !bytes.Contains(page.body, []byte(want)) {
		t.Fatalf("attempt page %d lacks %q", page.status, want)
	}
}

// TestProcessingAPIRefusalsAreAudited: a processing-API call refused for its
// key or service is audited with the presented key's prefix (or "anonymous") as
// actor; a malformed call with the key's name. Before, none of these left a trace.
func TestProcessingAPIRefusalsAreAudited(t *testing.T) {
	h, key := apiHarness(t, false)
	revoked, err := h.app.Auth.NewAPIKey(context.Background(), "test", "old-as", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.app.Auth.RevokeAPIKey(context.Background(), "test", "old-as", ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, auth, body string
		status                 int
		evType                 store.EventType
		actor, code, step, why string
	}{
		{"no API key", apiBase, "", `{"json":"{}"}`, 401, store.EventRegistrationCreate, "anonymous", "invalid_token", "authorization", "no Authorization header"},
		{"empty bearer", apiBase + "/get", "Bearer ", `{}`, 401, store.EventRegistrationRead, "anonymous", "invalid_token", "authorization", "no API key after Bearer"},
		{"wrong API key", apiBase + "/update", "Bearer dcrk_wrongwrongwrong", `{}`, 401, store.EventRegistrationUpdate, "apikey-prefix:dcrk_wrongwr", "invalid_token", "authorization", "unknown or revoked API key"},
		{"revoked API key", apiBase + "/delete", "Bearer " + revoked, `{}`, 401, store.EventRegistrationDelete, "apikey-prefix:" + revoked[:12], "invalid_token", "authorization", "unknown or revoked API key"},
		{"not a bearer key", apiBase, "Basic dXNlcjpwYXNz", `{}`, 401, store.EventRegistrationCreate, "apikey-prefix:dXNlcjpwYXNz", "invalid_token", "authorization", "not a Bearer API key"},
		{"unknown service", "/api/other/client/registration", "Bearer " + key, `{}`, 404, store.EventRegistrationCreate, "apikey-prefix:" + key[:12], "invalid_request", "transport", "service id \"other\""},
		{"bad JSON", apiBase, "Bearer " + key, `{"json":`, 400, store.EventRegistrationCreate, "apikey:as-1", "invalid_request", "transport", "not a JSON object"},
		{"json missing", apiBase, "Bearer " + key, `{}`, 400, store.EventRegistrationCreate, "apikey:as-1", "invalid_request", "transport", "'json' is required"},
		{"get without token", apiBase + "/get", "Bearer " + key, `{"clientId":"x"}`, 400, store.EventRegistrationRead, "apikey:as-1", "invalid_request", "transport", "'token' is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.auth != "" {
				hdr["Authorization"] = tc.auth
			}
			if r := h.do(http.MethodPost, tc.path, "application/json", tc.body, hdr); r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			ev := h.lastAudit(t)
			if ev.Type != tc.evType || ev.Outcome != store.OutcomeRejected || ev.Actor != tc.actor || ev.ErrorCode != tc.code ||
				ev.Step != tc.step || !strings.Contains(ev.Reason, tc.why) || ev.RequestID == "" {
				t.Fatalf("event %+v", ev)
			}
			if strings.Contains(ev.Actor+ev.Reason+ev.Data, key) || strings.Contains(ev.Actor+ev.Reason+ev.Data, revoked) {
				t.Fatal("a whole API key was stored in the audit log")
			}
		})
	}
}

// TestTokenTransportRefusalsAreAudited: POST /token refused before the
// assertion is looked at (mTLS, Content-Type, a form that does not parse, a
// repeated parameter) is audited like the other token refusals.
func TestTokenTransportRefusalsAreAudited(t *testing.T) {
	h := newHarness(t)
	hm := newHarness(t, mtlsGatewayOption)
	form := tokenForm("a.b.c", nil)
	tests := []struct {
		name       string
		h          *harness
		ct, body   string
		status     int
		code, why  string
		grantTyped bool
	}{
		{"wrong Content-Type", h, "application/json", `{"grant_type":"client_credentials"}`, 400, "invalid_request", `Content-Type was "application/json"`, false},
		{"form does not parse", h, "application/x-www-form-urlencoded", "grant_type=%zz", 400, "invalid_request", "not a valid form", false},
		{"repeated parameter", h, "application/x-www-form-urlencoded", form + "&scope=a&scope=b", 400, "invalid_request", `parameter "scope" sent 2 times`, true},
		{"no client certificate", hm, "application/x-www-form-urlencoded", form, 403, "client_certificate_required", "ERR-MTLS-002", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.h.do(http.MethodPost, "/token", tc.ct, tc.body, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			ev := tc.h.lastAudit(t)
			if ev.Type != store.EventTokenIssue || ev.Outcome != store.OutcomeRejected || ev.ErrorCode != tc.code ||
				ev.Step != string(dcr.StepTransport) || !strings.Contains(ev.Reason, tc.why) {
				t.Fatalf("event %+v", ev)
			}
			if tc.grantTyped && !strings.Contains(ev.Data, `"grant_type"`) {
				t.Fatalf("the parameters read are not recorded: %s", ev.Data)
			}
			if strings.Contains(ev.Data, "a.b.c") {
				t.Fatal("the client assertion itself was stored")
			}
		})
	}
}
