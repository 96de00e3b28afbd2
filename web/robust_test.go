package web

import (
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/config"
)

// hostileBodies are inputs no client may turn into a 500.
func hostileBodies(h *harness, t *testing.T) []string {
	b := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	valid := h.validRequest(t)
	parts := strings.Split(valid, ".")
	return []string{
		"", " ", "\x00", "....", "a.b.c", "a.b", strings.Repeat(".", 1000),
		b(`{"alg":"none"}`) + "." + b(`{}`) + ".",
		b(`{"alg":"PS256"}`) + "." + b(`null`) + ".x",
		b(`{"alg":"PS256"}`) + "." + b(`{"software_statement":{"a":1}}`) + ".x",
		b(`{"alg":"PS256"}`) + "." + b(`{"software_statement":"`+b(`{"alg":"PS256","kid":[]}`)+`.`+b(`{"software_id":7}`)+`.x"}`) + ".x",
		b(`{"alg":["PS256"]}`) + "." + parts[1] + "." + parts[2],
		b(`{"alg":"PS256","crit":["exp"]}`) + "." + parts[1] + "." + parts[2],
		parts[0] + "." + parts[1] + ".",
		parts[0] + "." + parts[1][:len(parts[1])/2] + "." + parts[2],
		parts[0] + "." + b(`{"exp":1e309}`) + "." + parts[2],
		parts[0] + "." + b(`{"exp":"soon","iat":-1,"aud":{},"iss":[]}`) + "." + parts[2],
		valid + valid,
		"\xff\xfe" + valid,
		strings.ToUpper(valid),
	}
}

func TestHostileInputNeverCausesServerErrors(t *testing.T) {
	h := newHarness(t)
	id := h.registered(t)
	tok := h.accessToken(t, id)
	for i, body := range hostileBodies(h, t) {
		for _, call := range []struct{ method, path, ct string }{
			{http.MethodPost, "/register", "application/jwt"},
			{http.MethodPut, "/register/" + id, "application/jwt"},
			{http.MethodPost, "/token", "application/x-www-form-urlencoded"},
		} {
			form := body
			if call.path == "/token" {
				form = tokenForm(body, nil)
			}
			r := h.do(call.method, call.path, call.ct, form, bearer(tok))
			if r.status >= 500 {
				t.Errorf("body %d on %s %s: %d %s", i, call.method, call.path, r.status, r.body)
			}
		}
	}
	for _, hdr := range []string{"Bearer", "Bearer ", "Bearer a.b.c", "Bearer " + strings.Repeat("a", 10000), "bearer " + tok + " extra", "Bearer \x00"} {
		r := h.do(http.MethodGet, "/register/"+id, "", "", map[string]string{"Authorization": hdr})
		if r.status >= 500 || r.status == 200 && !strings.HasPrefix(hdr, "bearer "+tok) {
			t.Errorf("Authorization %q: %d %s", hdr, r.status, r.body)
		}
	}
	res, err := h.app.Audit.Verify(t.Context())
	if err != nil || !res.OK {
		t.Fatalf("audit chain after hostile input: %+v %v", res, err)
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	h := newHarness(t)
	if r := h.do(http.MethodGet, "/nope", "", "", nil); r.status != 404 || r.json["error"] != "not_found" {
		t.Errorf("404: %d %s", r.status, r.body)
	}
	if r := h.do(http.MethodGet, "/register", "", "", nil); r.status != 405 {
		t.Errorf("405: %d %s", r.status, r.body)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	h := newHarness(t)
	if r := h.do(http.MethodGet, "/healthz", "", "", nil); r.status != 200 {
		t.Fatal(r.status)
	}
	if r := h.do(http.MethodGet, "/readyz", "", "", nil); r.status != 200 || r.json["database"] != "ok" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	h.db.Close()
	if r := h.do(http.MethodGet, "/readyz", "", "", nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with a closed database: %d", r.status)
	}
}

func TestRequestIDs(t *testing.T) {
	h := newHarness(t)
	r := h.do(http.MethodGet, "/healthz", "", "", map[string]string{"X-Request-Id": "gateway-123"})
	if r.header.Get("X-Request-Id") != "gateway-123" {
		t.Errorf("caller's id not kept: %q", r.header.Get("X-Request-Id"))
	}
	r = h.do(http.MethodGet, "/healthz", "", "", map[string]string{"X-Request-Id": "<script>"})
	if id := r.header.Get("X-Request-Id"); id == "<script>" || len(id) != 24 {
		t.Errorf("malformed id not replaced: %q", id)
	}
}

func TestPanicsBecomeLoggedJSON500(t *testing.T) {
	var logs strings.Builder
	s := &Server{cfg: config.Default(), log: slog.New(slog.NewTextHandler(&logs, nil))}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(s.requestID(), s.recoverPanics())
	e.GET("/boom", func(*gin.Context) { panic("kaboom") })
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 500 || !strings.Contains(string(body), `"error":"server_error"`) || strings.Contains(string(body), "kaboom") {
		t.Fatalf("%d %s", rec.Code, body)
	}
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), "request_id") {
		t.Fatalf("panic not logged: %s", logs.String())
	}
}

// FuzzRegisterEndpoint sends arbitrary bodies to POST /register through the real
// engine: whatever arrives, the answer is never a 5xx.
func FuzzRegisterEndpoint(f *testing.F) {
	h := newHarness(f)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJQUzI1NiJ9.e30.c2ln")
	f.Fuzz(func(t *testing.T, body string) {
		if r := h.register(body); r.status >= 500 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}
