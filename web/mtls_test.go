package web

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/authz"
	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
)

const (
	mtlsRequiredBody = `{"error":"client_certificate_required","error_description":"ERR-MTLS-002: No client certificate was found on request"}`
	mtlsHoKChallenge = `Bearer error="invalid_token", error_description="ERR-AUTH-001: Holder of Key check failed"`
	mtlsHoKBody      = `{"error":"invalid_token","error_description":"ERR-AUTH-001: Holder of Key check failed"}`
	mtlsGatewayAddr  = "192.0.2.10"        // the harness's h.do RemoteAddr
	mtlsUntrusted    = "198.51.100.7:5555" // anyone else
	mtlsHeader       = "X-SSL-Client-Thumbprint"
)

// mtlsDirectOption turns on direct TLS with client_auth "request". The engine
// never reads the files (main.go serves TLS); config validation only needs them to
// exist, so one placeholder stands for all three.
func mtlsDirectOption(t *testing.T) harnessOption {
	p := filepath.Join(t.TempDir(), "placeholder.pem")
	if err := os.WriteFile(p, []byte("# TLS is served by the test's httptest server\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) {
		c.TLS = config.TLS{CertFile: p, KeyFile: p, ClientCAFile: p, ClientAuth: "request"}
	}
}

func mtlsGatewayOption(c *config.Config) {
	c.MTLS.ThumbprintHeader = mtlsHeader
	c.MTLS.TrustedProxies = []string{mtlsGatewayAddr}
}

// mtlsServer serves the engine over real TLS, verifying a client certificate
// when one is presented, as main.serverTLSConfig does for client_auth "request".
func mtlsServer(t *testing.T, h *harness) *httptest.Server {
	t.Helper()
	tc, err := h.ca.ServerTLSConfig("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	tc.ClientAuth = tls.VerifyClientCertIfGiven
	tc.ClientCAs = h.ca.Pool()
	srv := httptest.NewUnstartedServer(h.app.Engine)
	srv.TLS = tc
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func mtlsCert(t *testing.T, h *harness, cn string) tls.Certificate {
	t.Helper()
	c, err := h.ca.ClientCertificate(cn)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mtlsThumbprint is the base64url SHA-256 of the certificate (RFC 8705 x5t#S256).
func mtlsThumbprint(c tls.Certificate) string {
	sum := sha256.Sum256(c.Certificate[0])
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// mtlsCall makes a real HTTPS request with client.
func mtlsCall(t *testing.T, client *http.Client, method, u, contentType, body string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	_ = json.Unmarshal(b, &r.json)
	return r
}

// mtlsFrom is h.do from another TCP peer than the gateway.
func mtlsFrom(h *harness, remoteAddr, method, path, contentType, body string, header map[string]string) response {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	req.RemoteAddr = remoteAddr
	rec := httptest.NewRecorder()
	h.app.Engine.ServeHTTP(rec, req)
	r := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	_ = json.Unmarshal(r.body, &r.json)
	return r
}

// mtlsTokenForm is a client_credentials form with a fresh ES256 assertion of the first ADR.
func mtlsTokenForm(t *testing.T, h *harness, clientID string) string {
	t.Helper()
	a, err := h.eco.ADRs[0].ClientAssertion(clientID, testIssuer, jwa.ES256)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {a},
	}.Encode()
}

// mtlsClaims decodes a JWT's payload without verifying it.
func mtlsClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	claims, err := cdrsim.UnverifiedClaims(jwt)
	if err != nil {
		t.Fatalf("access token %q: %v", jwt, err)
	}
	return claims
}

func mtlsBoundThumbprint(t *testing.T, accessToken string) string {
	t.Helper()
	cnf, _ := mtlsClaims(t, accessToken)["cnf"].(map[string]any)
	s, _ := cnf["x5t#S256"].(string)
	return s
}

func mtlsWantBody(t *testing.T, what string, r response, status int, body string) {
	t.Helper()
	if r.status != status || !bytes.Equal(bytes.TrimSpace(r.body), []byte(body)) {
		t.Fatalf("%s: got %d %s\nwant %d %s", what, r.status, r.body, status, body)
	}
}

func mtlsWantHoKFailure(t *testing.T, what string, r response) {
	t.Helper()
	mtlsWantBody(t, what, r, http.StatusUnauthorized, mtlsHoKBody)
	if got := r.header.Get("WWW-Authenticate"); got != mtlsHoKChallenge {
		t.Fatalf("%s: WWW-Authenticate %q, want %q", what, got, mtlsHoKChallenge)
	}
}

func TestMTLSDirectTLS(t *testing.T) {
	h := newHarness(t, mtlsDirectOption(t))
	srv := mtlsServer(t, h)
	certA, certOther := mtlsCert(t, h, "adr-1"), mtlsCert(t, h, "other")
	thumbA := mtlsThumbprint(certA)
	noCert, withA, withOther := h.ca.Client(), h.ca.Client(certA), h.ca.Client(certOther)
	for _, c := range []*http.Client{noCert, withA, withOther} {
		t.Cleanup(c.CloseIdleConnections)
	}

	r := mtlsCall(t, noCert, http.MethodGet, srv.URL+"/.well-known/openid-configuration", "", "", nil)
	if r.status != http.StatusOK || r.json["tls_client_certificate_bound_access_tokens"] != true {
		t.Fatalf("discovery: %d %s", r.status, r.body)
	}

	r = mtlsCall(t, noCert, http.MethodPost, srv.URL+"/register", "application/jwt", h.validRequest(t), nil)
	mtlsWantBody(t, "POST /register without a certificate", r, http.StatusForbidden, mtlsRequiredBody)
	if n := h.countClients(t); n != 0 {
		t.Fatalf("%d clients stored after a refused registration", n)
	}
	if ev := h.lastAudit(t); ev.Outcome != "rejected" || ev.ErrorCode != "client_certificate_required" {
		t.Errorf("audit of the refusal %+v", ev)
	}

	r = mtlsCall(t, withA, http.MethodPost, srv.URL+"/register", "application/jwt", h.validRequest(t), nil)
	if r.status != http.StatusCreated {
		t.Fatalf("POST /register with a certificate: %d %s", r.status, r.body)
	}
	clientID, _ := r.json["client_id"].(string)
	if ev := h.lastAudit(t); ev.Type != "registration.create" || ev.Outcome != "success" || ev.CertThumbprint != thumbA {
		t.Errorf("audit event %+v, want thumbprint %s", ev, thumbA)
	}
	if c, err := h.db.GetClient(t.Context(), clientID); err != nil || c.CertThumbprint != thumbA {
		t.Errorf("stored client %+v (%v), want thumbprint %s", c, err, thumbA)
	}

	r = mtlsCall(t, noCert, http.MethodPost, srv.URL+"/token", "application/x-www-form-urlencoded", mtlsTokenForm(t, h, clientID), nil)
	mtlsWantBody(t, "POST /token without a certificate", r, http.StatusForbidden, mtlsRequiredBody)

	r = mtlsCall(t, withA, http.MethodPost, srv.URL+"/token", "application/x-www-form-urlencoded", mtlsTokenForm(t, h, clientID), nil)
	if r.status != http.StatusOK {
		t.Fatalf("POST /token with a certificate: %d %s", r.status, r.body)
	}
	accessToken, _ := r.json["access_token"].(string)
	if got := mtlsBoundThumbprint(t, accessToken); got != thumbA {
		t.Fatalf("cnf.x5t#S256 %q, want %q", got, thumbA)
	}
	if ev := h.lastAudit(t); ev.Type != "token.issue" || ev.CertThumbprint != thumbA {
		t.Errorf("token audit event %+v", ev)
	}

	path := srv.URL + "/register/" + clientID
	bearer := map[string]string{"Authorization": "Bearer " + accessToken}
	r = mtlsCall(t, withA, http.MethodGet, path, "", "", bearer)
	if r.status != http.StatusOK || r.json["client_id"] != clientID {
		t.Fatalf("GET with the bound certificate: %d %s", r.status, r.body)
	}
	mtlsWantHoKFailure(t, "GET with another certificate", mtlsCall(t, withOther, http.MethodGet, path, "", "", bearer))
	mtlsWantHoKFailure(t, "GET without a certificate", mtlsCall(t, noCert, http.MethodGet, path, "", "", bearer))
	if ev := h.lastAudit(t); ev.Type != "registration.read" || ev.Outcome != "rejected" || ev.Actor != "client:"+clientID {
		t.Errorf("audit of the holder-of-key refusal %+v", ev)
	}
}

// mtlsCraftedThumbprint is a SHA-256-sized value whose standard base64 has '+',
// '/' and padding, so the forms a gateway may send all differ.
func mtlsCraftedThumbprint() []byte {
	return bytes.Repeat([]byte{0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff}, 6)[:sha256.Size]
}

func TestMTLSGatewayHeader(t *testing.T) {
	h := newHarness(t, mtlsGatewayOption)
	sumA := sha256.Sum256([]byte("certificate A"))
	thumbA := base64.RawURLEncoding.EncodeToString(sumA[:])
	sumB := sha256.Sum256([]byte("certificate B"))
	thumbB := base64.RawURLEncoding.EncodeToString(sumB[:])
	viaGateway := func(thumbprint string) map[string]string { return map[string]string{mtlsHeader: thumbprint} }

	if r := h.do(http.MethodGet, "/.well-known/openid-configuration", "", "", nil); r.json["tls_client_certificate_bound_access_tokens"] != true {
		t.Fatalf("discovery: %d %s", r.status, r.body)
	}

	t.Run("header missing", func(t *testing.T) {
		mtlsWantBody(t, "POST /register", h.register(h.validRequest(t)), http.StatusForbidden, mtlsRequiredBody)
	})
	t.Run("header not a thumbprint", func(t *testing.T) {
		r := h.do(http.MethodPost, "/register", "application/jwt", h.validRequest(t), viaGateway("not-a-thumbprint"))
		mtlsWantBody(t, "POST /register", r, http.StatusForbidden, mtlsRequiredBody)
	})
	t.Run("forged header from an untrusted address is ignored", func(t *testing.T) {
		r := mtlsFrom(h, mtlsUntrusted, http.MethodPost, "/register", "application/jwt", h.validRequest(t), viaGateway(thumbA))
		mtlsWantBody(t, "POST /register", r, http.StatusForbidden, mtlsRequiredBody)
		if ev := h.lastAudit(t); ev.CertThumbprint != "" || ev.RemoteAddr != "198.51.100.7" {
			t.Errorf("audit event %+v: the forged thumbprint must not be recorded", ev)
		}
	})
	if n := h.countClients(t); n != 0 {
		t.Fatalf("%d clients stored after refused registrations", n)
	}

	r := h.do(http.MethodPost, "/register", "application/jwt", h.validRequest(t), viaGateway(thumbA))
	if r.status != http.StatusCreated {
		t.Fatalf("POST /register via the gateway: %d %s", r.status, r.body)
	}
	clientID, _ := r.json["client_id"].(string)
	if ev := h.lastAudit(t); ev.Type != "registration.create" || ev.CertThumbprint != thumbA {
		t.Errorf("audit event %+v, want thumbprint %s", ev, thumbA)
	}

	t.Run("token without the header", func(t *testing.T) {
		r := h.do(http.MethodPost, "/token", "application/x-www-form-urlencoded", mtlsTokenForm(t, h, clientID), nil)
		mtlsWantBody(t, "POST /token", r, http.StatusForbidden, mtlsRequiredBody)
	})
	t.Run("token with a forged header from an untrusted address", func(t *testing.T) {
		r := mtlsFrom(h, mtlsUntrusted, http.MethodPost, "/token", "application/x-www-form-urlencoded", mtlsTokenForm(t, h, clientID), viaGateway(thumbA))
		mtlsWantBody(t, "POST /token", r, http.StatusForbidden, mtlsRequiredBody)
	})

	crafted := mtlsCraftedThumbprint()
	craftedURL := base64.RawURLEncoding.EncodeToString(crafted)
	forms := []struct{ name, header, want string }{
		{"base64url", thumbA, thumbA},
		{"hex lower case", hex.EncodeToString(sumA[:]), thumbA},
		{"hex upper case with colons", mtlsColonHex(sumA[:]), thumbA},
		{"base64 standard padded", base64.StdEncoding.EncodeToString(crafted), craftedURL},
		{"base64 standard unpadded", base64.RawStdEncoding.EncodeToString(crafted), craftedURL},
		{"base64url padded", base64.URLEncoding.EncodeToString(crafted), craftedURL},
		{"surrounding spaces", "  " + craftedURL + " ", craftedURL},
	}
	if s := base64.StdEncoding.EncodeToString(crafted); !strings.ContainsAny(s, "+/") || !strings.HasSuffix(s, "=") {
		t.Fatalf("crafted thumbprint %s does not exercise normalisation", s)
	}
	for _, f := range forms {
		t.Run("thumbprint as "+f.name, func(t *testing.T) {
			r := h.do(http.MethodPost, "/token", "application/x-www-form-urlencoded", mtlsTokenForm(t, h, clientID), viaGateway(f.header))
			if r.status != http.StatusOK {
				t.Fatalf("POST /token: %d %s", r.status, r.body)
			}
			accessToken, _ := r.json["access_token"].(string)
			if got := mtlsBoundThumbprint(t, accessToken); got != f.want {
				t.Fatalf("cnf.x5t#S256 %q, want %q", got, f.want)
			}
			if ev := h.lastAudit(t); ev.Type != "token.issue" || ev.CertThumbprint != f.want {
				t.Errorf("audit event %+v", ev)
			}
			// The normalised thumbprint and the header's own spelling both pass the holder-of-key check.
			for _, hdr := range []string{f.want, f.header} {
				r := h.do(http.MethodGet, "/register/"+clientID, "", "", map[string]string{"Authorization": "Bearer " + accessToken, mtlsHeader: hdr})
				if r.status != http.StatusOK {
					t.Fatalf("GET with header %q: %d %s", hdr, r.status, r.body)
				}
			}
		})
	}

	r = h.do(http.MethodPost, "/token", "application/x-www-form-urlencoded", mtlsTokenForm(t, h, clientID), viaGateway(thumbA))
	if r.status != http.StatusOK {
		t.Fatalf("POST /token via the gateway: %d %s", r.status, r.body)
	}
	accessToken, _ := r.json["access_token"].(string)
	bound := func(thumbprint string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + accessToken, mtlsHeader: thumbprint}
	}
	path := "/register/" + clientID
	if r := h.do(http.MethodGet, path, "", "", bound(thumbA)); r.status != http.StatusOK {
		t.Fatalf("GET with the bound thumbprint: %d %s", r.status, r.body)
	}
	mtlsWantHoKFailure(t, "GET with another thumbprint", h.do(http.MethodGet, path, "", "", bound(thumbB)))
	mtlsWantHoKFailure(t, "GET without the header", h.do(http.MethodGet, path, "", "", map[string]string{"Authorization": "Bearer " + accessToken}))
	mtlsWantHoKFailure(t, "GET with the right header from an untrusted address",
		mtlsFrom(h, mtlsUntrusted, http.MethodGet, path, "", "", bound(thumbA)))

	// A token without cnf (say, issued before mTLS was switched on) is bound to nothing.
	now := time.Now()
	unbound, err := h.app.Keys.Sign(authz.AccessTokenClaims{Issuer: testIssuer, Audience: testIssuer, Subject: clientID, ClientID: clientID,
		Scope: authz.ScopeRegistration, IssuedAt: now.Unix(), Expires: now.Add(time.Minute).Unix(), JTI: "unbound"}, authz.TypeAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	mtlsWantHoKFailure(t, "GET with an unbound token and no header", h.do(http.MethodGet, path, "", "", map[string]string{"Authorization": "Bearer " + unbound}))
	mtlsWantHoKFailure(t, "GET with an unbound token and a header", h.do(http.MethodGet, path, "", "", map[string]string{"Authorization": "Bearer " + unbound, mtlsHeader: thumbA}))

	if c, err := h.db.GetClient(t.Context(), clientID); err != nil || c.Status != store.StatusActive || c.CertThumbprint != thumbA {
		t.Errorf("stored client %+v (%v)", c, err)
	}
}

// mtlsColonHex is "AB:CD:..." as some gateways print fingerprints.
func mtlsColonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = strings.ToUpper(hex.EncodeToString([]byte{x}))
	}
	return strings.Join(parts, ":")
}
