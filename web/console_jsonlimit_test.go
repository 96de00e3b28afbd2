package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// maxConsolePage is what no console page may exceed, whatever a client sent.
const maxConsolePage = 1 << 20

// nestedArrays is depth nested empty arrays: 2*depth bytes that json.Indent
// turns into about 2*depth² bytes.
func nestedArrays(depth int) string {
	return strings.Repeat("[", depth) + strings.Repeat("]", depth)
}

// deepJWT is an unsigned-looking compact JWS whose payload carries claim x
// nested depth deep; the signature segment is valid base64url but signs nothing.
func deepJWT(depth int) string {
	b64 := base64.RawURLEncoding.EncodeToString
	return b64([]byte(`{"alg":"PS256","typ":"JWT"}`)) + "." +
		b64([]byte(`{"iss":"hostile","x":`+nestedArrays(depth)+`}`)) + "." + b64([]byte("not a signature"))
}

// pageFigures reports a page's size and what the server allocated to build it.
// They are logged (go test -run Bounded -v), never asserted: no timing or
// allocation assertions in tests.
func pageFigures(t *testing.T, h *harness, method, path, cookie, form string) response {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := h.console(method, path, cookie, form)
	runtime.ReadMemStats(&after)
	t.Logf("%s %s: %d, page %d bytes, %d KiB allocated", method, path, r.status, len(r.body), (after.TotalAlloc-before.TotalAlloc)>>10)
	return r
}

// jwtWithClaims is a compact JWS with claims as given and a signature that signs nothing.
func jwtWithClaims(claims string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	return b64([]byte(`{"alg":"PS256"}`)) + "." + b64([]byte(claims)) + "." + b64([]byte("x"))
}

var attemptIDInPage = regexp.MustCompile(`/console/attempts/(\d+)`)

// TestConsolePagesBoundedForDeepJSON sends JSON nested thousands deep through
// every way it can reach a console page, and checks each page stays under 1 MiB
// and says why it shows the text raw.
func TestConsolePagesBoundedForDeepJSON(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)

	// A client registered before the limit existed may hold a deep request JWT.
	if r := h.register(h.validRequest(t)); r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	clientID := h.lastAudit(t).ClientID
	if err := storetest.Gorm(t, h.db).Exec(`UPDATE clients SET request_jwt = ? WHERE id = ?`, deepJWT(9000), clientID).Error; err != nil {
		t.Fatal(err)
	}
	// An audit event whose data nests deep (recorded by an older version, or any
	// future event that embeds what a client sent).
	deepEvent := &store.AuditEvent{Type: "test.deep", Actor: "test", Outcome: "success", Data: `{"x":` + nestedArrays(9000) + `}`}
	if err := h.app.Audit.Record(context.Background(), deepEvent); err != nil {
		t.Fatal(err)
	}
	// An anonymous request that fits the stored prefix (8 KiB) is kept whole.
	small := deepJWT(3000)
	if len(small) > store.MaxPayloadPrefix {
		t.Fatalf("the small request is %d bytes", len(small))
	}
	// The request: 25 KB with 9,000 nested arrays.
	large := deepJWT(9000)

	// The worst a 64 KiB paste can do within the limits: characters that HTML
	// escapes to five bytes each, and 32 levels of brackets, which indent to 67
	// bytes for every 3 sent.
	apostrophes := jwtWithClaims(`{"x":"` + strings.Repeat("'", 47<<10) + `"}`)
	wide := jwtWithClaims(`{"x":` + strings.Repeat("[", 30) + strings.Repeat("[],", 15<<10) + "[]" + strings.Repeat("]", 30) + `}`)
	for _, jwt := range []string{apostrophes, wide} {
		if len(jwt) > inspectMaxBytes {
			t.Fatalf("a paste of %d bytes", len(jwt))
		}
	}

	attempt := func(jwt string) string {
		t.Helper()
		r := h.register(jwt)
		if r.status != http.StatusBadRequest || r.json["error"] != "invalid_client_metadata" {
			t.Fatalf("register deep: %d %s", r.status, r.body)
		}
		return fmt.Sprint(h.lastAudit(t).ID)
	}
	smallID, largeID := attempt(small), attempt(large)

	rawNote := "shown raw (all "
	tooDeep := "nesting deeper than 32 levels"
	for _, tc := range []struct {
		name, method, path, form string
		status                   int
		want                     []string
	}{
		{"attempt that fits the stored prefix", http.MethodGet, "/console/attempts/" + smallID, "", http.StatusOK,
			[]string{rawNote, tooDeep, "Registration request (decoded, not verified)"}},
		{"attempt of 25 KB, 9,000 nested arrays", http.MethodGet, "/console/attempts/" + largeID, "", http.StatusOK,
			[]string{"First 8 KiB of " + fmt.Sprint(len(large)) + " bytes"}},
		{"audit event of that attempt", http.MethodGet, "/console/audit/" + largeID, "", http.StatusOK,
			[]string{"body_prefix"}},
		{"audit event whose data nests 9,000 deep", http.MethodGet, fmt.Sprintf("/console/audit/%d", deepEvent.ID), "", http.StatusOK,
			[]string{rawNote, tooDeep}},
		{"client whose stored request nests 9,000 deep", http.MethodGet, "/console/clients/" + clientID, "", http.StatusOK,
			[]string{rawNote, tooDeep, `"iss":"hostile"`}},
		{"JWT inspector, 9,000 nested arrays", http.MethodPost, "/console/tools/inspect", "jwt=" + large, http.StatusBadRequest,
			[]string{rawNote, tooDeep, "Header and claims"}},
		{"JWT inspector, 47 KiB of apostrophes", http.MethodPost, "/console/tools/inspect", url.Values{"jwt": {apostrophes}}.Encode(), http.StatusOK,
			[]string{"Unrecognised JWT", strings.Repeat("'", 100)}},
		{"JWT inspector, 32 levels, 15,000 arrays wide", http.MethodPost, "/console/tools/inspect", "jwt=" + wide, http.StatusOK,
			[]string{"shown raw (all 45.1 KiB): indented it could exceed 128 KiB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := pageFigures(t, h, tc.method, tc.path, cookie, tc.form)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if len(r.body) > maxConsolePage {
				t.Fatalf("page of %d bytes exceeds %d", len(r.body), maxConsolePage)
			}
			body := unescapeHTML(r.body)
			for _, s := range tc.want {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
		})
	}
	if !attemptIDInPage.MatchString(unescapeHTML(h.console(http.MethodGet, "/console/attempts", cookie, "").body)) {
		t.Error("the attempts list lost the deep attempts")
	}
}

// TestDeepRequestRefusedAtStepOne: a correctly signed registration request whose
// claims nest absurdly deep is refused before its claims are decoded, with the
// error the specification gives for a request that is not a JWT (step 1), and no
// client is created.
func TestDeepRequestRefusedAtStepOne(t *testing.T) {
	h := newHarness(t)
	for i, tc := range []struct {
		name  string
		depth int
		code  string
		desc  string
	}{
		{"33 levels", 33, "invalid_client_metadata", "ERR-DCR-002: Registration request is empty"},
		{"9,000 levels", 9000, "invalid_client_metadata", "ERR-DCR-002: Registration request is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One product each, so a request let through is not refused as a duplicate.
			jwt := h.requestFor(t, h.eco.ADRs[i], h.eco.Products[i], jwa.PS256, func(claims map[string]any) {
				claims["x"] = json.RawMessage(nestedArrays(tc.depth - 1)) // the claims object is the first level
			})
			r := h.register(jwt)
			if r.status != http.StatusBadRequest || r.json["error"] != tc.code || r.json["error_description"] != tc.desc {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if ev := h.lastAudit(t); ev.Step != "request" || !strings.Contains(ev.Reason, "nesting deeper than 32 levels") {
				t.Fatalf("audit step %q reason %q", ev.Step, ev.Reason)
			}
			if n := h.countClients(t); n != 0 {
				t.Fatalf("%d clients", n)
			}
		})
	}
	// 32 levels, counting the claims object, is still a valid request.
	jwt := h.requestFor(t, h.eco.ADRs[2], h.eco.Products[2], jwa.PS256, func(claims map[string]any) {
		claims["x"] = json.RawMessage(nestedArrays(31))
	})
	if r := h.register(jwt); r.status != http.StatusCreated {
		t.Fatalf("32 levels: %d %s", r.status, r.body)
	}
}

func unescapeHTML(b []byte) string {
	return strings.NewReplacer("&#34;", `"`, "&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(string(b))
}

// TestAPIRefusesDeepMetadata: RFC 7591 metadata handed over through the
// processing API is held to the same nesting limit as a request JWT, with the
// same step 1 error, and nothing is registered.
func TestAPIRefusesDeepMetadata(t *testing.T) {
	h, key := apiHarness(t, false)
	for i, tc := range []struct {
		name    string
		depth   int
		refused bool
	}{
		{"32 levels", 32, false},
		{"33 levels", 33, true},
		{"9,000 levels", 9000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := metadataFor(t, h, h.eco.ADRs[i], h.eco.Products[i], func(m map[string]any) {
				m["x"] = json.RawMessage(nestedArrays(tc.depth - 1))
			})
			status, resp, content := h.api(t, key, apiBase, map[string]string{"json": md})
			if !tc.refused {
				if resp.Action != "CREATED" {
					t.Fatalf("%d %+v", status, resp)
				}
				return
			}
			if resp.Action != "BAD_REQUEST" || content["error"] != "invalid_client_metadata" ||
				content["error_description"] != "ERR-DCR-002: Registration request is empty" {
				t.Fatalf("%d %+v %v", status, resp, content)
			}
			if ev := h.lastAudit(t); ev.Step != "request" || !strings.Contains(ev.Reason, "nesting deeper than 32 levels") {
				t.Fatalf("audit step %q reason %q", ev.Step, ev.Reason)
			}
		})
	}
	if n := h.countClients(t); n != 1 {
		t.Fatalf("%d clients, want the one of 32 levels", n)
	}
}
