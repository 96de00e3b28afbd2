package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/oidctest"
)

// writeServerCert writes a certificate for 127.0.0.1 issued by ca, and its key, as PEM files.
func writeServerCert(t *testing.T, ca *cdrsim.CA, dir, name string) (certFile, keyFile string) {
	t.Helper()
	tc, err := ca.ServerTLSConfig("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert := tc.Certificates[0]
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	var certPEM []byte
	for _, der := range cert.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestConsoleListenerBesideMutualTLS runs the binary with the main listener
// demanding client certificates (tls.client_auth = "require") and the console
// on a listener of its own with its own TLS: ADRs keep mutual TLS and the API,
// the main listener serves no console, and a browser without any client
// certificate signs in with SSO on the console listener. SIGTERM drains both.
func TestConsoleListenerBesideMutualTLS(t *testing.T) {
	e := newEcosystem(t, 0)
	ca := e.eco.CA
	dir := t.TempDir()
	mainCert, mainKey := writeServerCert(t, ca, dir, "main")
	conCert, conKey := writeServerCert(t, ca, dir, "console")
	mainAddr, conAddr := freeAddr(t), freeAddr(t)
	mainURL, conURL := "https://"+mainAddr, "https://"+conAddr
	idp := oidctest.Start(t, oidctest.Options{ClientID: "dcrconsole", ClientSecret: "binary test secret", RedirectURI: conURL + "/console/sso/callback"})
	idp.AddUser(oidctest.User{Subject: "00u-erin", Username: "erin", Password: "erin-pw", Groups: []string{"dcr-operators"}})

	q := strconv.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "[server]\nlisten = %s\npublic_url = %s\n\n[holder]\nissuer = %s\n\n", q(mainAddr), q(mainURL), q(mainURL))
	fmt.Fprintf(&b, "[database]\npath = %s\n\n", q(filepath.Join(dir, "dcrconsole.db")))
	fmt.Fprintf(&b, "[register]\njwks_uri = %s\nbase_uri = %s\n\n", q(e.eco.Register.JWKSURI()), q(e.eco.Register.BaseURI()))
	fmt.Fprintf(&b, "[outbound]\nca_file = %s\nallow_private_networks = true\n\n", q(e.caFile))
	fmt.Fprintf(&b, "[tls]\ncert_file = %s\nkey_file = %s\nclient_ca_file = %s\nclient_auth = \"require\"\n\n", q(mainCert), q(mainKey), q(e.caFile))
	fmt.Fprintf(&b, "[console]\nlisten = %s\ntls_cert_file = %s\ntls_key_file = %s\n\n", q(conAddr), q(conCert), q(conKey))
	fmt.Fprintf(&b, "[console.oidc]\nissuer = %s\nclient_id = \"dcrconsole\"\nroles = { \"dcr-operators\" = \"operator\" }\n", q(idp.Issuer))
	cfg := testConfig{Path: filepath.Join(dir, "dcrconsole.toml"), URL: conURL}
	if err := os.WriteFile(cfg.Path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, cfg, []string{"DCRCONSOLE_OIDC_CLIENT_SECRET=binary test secret"})
	noCert := ca.Client()
	waitOK(t, s, noCert, conURL+"/readyz")

	// The main listener: no certificate, no connection; with one, the API
	// answers and the console is not there.
	if resp, err := noCert.Get(mainURL + "/jwks"); err == nil {
		resp.Body.Close()
		t.Fatalf("main listener answered %d without a client certificate", resp.StatusCode)
	}
	clientCert, err := ca.ClientCertificate("adr.example")
	if err != nil {
		t.Fatal(err)
	}
	withCert := ca.Client(clientCert)
	for path, want := range map[string]int{"/jwks": 200, "/.well-known/openid-configuration": 200, "/console/login": 404, "/static/app.css": 404} {
		if got := status(t, withCert, mainURL+path); got != want {
			t.Errorf("main listener %s: %d, want %d", path, got, want)
		}
	}
	// The console listener: no client certificate asked, no API.
	for path, want := range map[string]int{"/console/login": 200, "/static/app.css": 200, "/jwks": 404} {
		if got := status(t, noCert, conURL+path); got != want {
			t.Errorf("console listener %s: %d, want %d", path, got, want)
		}
	}

	ctx := chromium(t)
	err = chromedp.Do(ctx,
		chromedp.Navigate(conURL+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#sso")),
		chromedp.Click(chromedp.CSS("#sso")),
		chromedp.WaitVisible(chromedp.CSS("#idp-username")),
		chromedp.SendKeys(chromedp.CSS("#idp-username"), "erin"),
		chromedp.SendKeys(chromedp.CSS("#idp-password"), "erin-pw"),
		chromedp.Click(chromedp.CSS("#idp-submit")),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label="Main"], main h1`)),
	)
	if err != nil {
		t.Fatalf("sso sign-in: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil || !strings.Contains(text, "erin") || !strings.Contains(text, "(operator)") {
		t.Fatalf("not signed in as operator erin: %q %v", text, err)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
}

func status(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitOK polls url until it answers 200.
func waitOK(t *testing.T, s *server, c *http.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(readyDeadline)
	for {
		if s.exited() {
			t.Fatalf("dcrconsole exited before it was ready (exit code %d)", s.cmd.ProcessState.ExitCode())
		}
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s did not answer 200 within %s (last error: %v)", url, readyDeadline, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// chromium starts headless Chromium without any client certificate. It
// accepts the test CA's server certificates (a private CA the browser does
// not know); what is tested is that no client certificate is asked for.
func chromium(t *testing.T) context.Context {
	exe := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium is not installed")
		}
		t.Skip("Chromium not found: install Debian's chromium to run the browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}
