package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/console"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/pgtest"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

const testIssuer = "https://dh.test"

// harness is a whole dcrconsole (real engine, real SQLite file) in front of a
// simulated CDR Register and ADRs on 127.0.0.1 over TLS.
type harness struct {
	t   *testing.T
	ca  *cdrsim.CA
	eco *cdrsim.Ecosystem
	cfg config.Config
	db  *store.DB
	app *App
}

type harnessOption func(*config.Config)

// onPostgres puts the harness on a fresh PostgreSQL database of its own.
func onPostgres(t testing.TB) harnessOption {
	url := pgtest.URL(t)
	return func(c *config.Config) { c.Database.Driver, c.Database.URL = config.DriverPostgres, url }
}

// onPostgresURL puts the harness on the PostgreSQL database at url.
func onPostgresURL(url string) harnessOption {
	return func(c *config.Config) { c.Database.Driver, c.Database.URL = config.DriverPostgres, url }
}

// withBackend puts the harness on backend (pgtest.SQLite or pgtest.Postgres).
func withBackend(t testing.TB, backend string) harnessOption {
	if backend == pgtest.Postgres {
		return onPostgres(t)
	}
	return func(c *config.Config) { c.Database.Driver = config.DriverSQLite }
}

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	ca, err := cdrsim.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	eco, err := cdrsim.NewEcosystem(ca, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eco.Close)
	cfg := config.Default()
	cfg.Server.PublicURL = testIssuer
	cfg.Holder.Issuer = testIssuer
	cfg.Database.Path = filepath.Join(t.TempDir(), "dcrconsole.db")
	if pgtest.DefaultBackend() == pgtest.Postgres {
		onPostgres(t)(&cfg)
	}
	cfg.Register.JWKSURI = eco.Register.JWKSURI()
	cfg.Register.BaseURI = eco.Register.BaseURI()
	cfg.Outbound.AllowPrivateNetworks = true
	cfg.Outbound.Timeout = config.Duration{Duration: 3 * time.Second}
	// The MFA tests (console_mfa_test.go) turn MFA on; replicas on PostgreSQL share the key file.
	cfg.Console.RequireMFA = "none"
	cfg.Console.MFAKeyFile = filepath.Join(filepath.Dir(cfg.Database.Path), "mfa-key")
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.Database.DSN(), store.Options{MaxOpenConns: cfg.Database.MaxOpenConns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := Build(context.Background(), cfg, db, log, BuildOptions{RootCAs: ca.Pool(), ForcedRefreshMinInterval: -1, PasswordHash: auth.CheapHashParams})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Register.CheckStatus {
		if err := app.RegisterData.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tt, _ := t.(*testing.T)
	return &harness{t: tt, ca: ca, eco: eco, cfg: cfg, db: db, app: app}
}

// requestFor signs a registration request for product p by adr, after edit.
func (h *harness) requestFor(t testing.TB, adr *cdrsim.ADR, p *cdrsim.Product, alg jwa.SignatureAlgorithm, edit func(claims map[string]any)) string {
	t.Helper()
	ssa, err := h.eco.Register.SignSSA(p)
	if err != nil {
		t.Fatal(err)
	}
	claims := adr.RequestClaims(ssa, testIssuer, p.ID)
	if edit != nil {
		edit(claims)
	}
	jwt, err := adr.SignRequest(claims, alg)
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}

// validRequest is a valid registration request of the first ADR's product.
func (h *harness) validRequest(t testing.TB) string {
	return h.requestFor(t, h.eco.ADRs[0], h.eco.Products[0], jwa.PS256, nil)
}

type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (h *harness) do(method, path, contentType, body string, header map[string]string) response {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	req.RemoteAddr = "192.0.2.10:40000"
	rec := httptest.NewRecorder()
	h.app.Engine.ServeHTTP(rec, req)
	r := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	_ = json.Unmarshal(r.body, &r.json)
	return r
}

func (h *harness) register(body string) response {
	return h.do(http.MethodPost, "/register", "application/jwt", body, nil)
}

// lastAudit is the newest audit event.
func (h *harness) lastAudit(t testing.TB) store.AuditEvent {
	t.Helper()
	var ev store.AuditEvent
	if err := storetest.Gorm(t, h.db).Order("id DESC").Take(&ev).Error; err != nil {
		t.Fatal(err)
	}
	return ev
}

func (h *harness) countClients(t testing.TB) int64 {
	t.Helper()
	var n int64
	if err := storetest.Gorm(t, h.db).Model(&store.Client{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// testPassword is every console test account's password.
const testPassword = "correct horse battery staple"

// operator creates a console account with role (named after it) and signs it
// in; it returns the session cookie header value.
func (h *harness) operator(t testing.TB, role string) string {
	t.Helper()
	if _, err := h.app.Auth.CreateUser(context.Background(), "test", role+"-user", testPassword, role, false, ""); err != nil {
		t.Fatal(err)
	}
	return h.signIn(t, role+"-user", testPassword)
}

// signIn posts the login form and returns the session cookie header value.
func (h *harness) signIn(t testing.TB, username, password string) string {
	t.Helper()
	r := h.do(http.MethodPost, "/console/login", "application/x-www-form-urlencoded",
		"username="+url.QueryEscape(username)+"&password="+url.QueryEscape(password), nil)
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == console.SessionCookie && c.Value != "" {
			return console.SessionCookie + "=" + c.Value
		}
	}
	t.Fatalf("login of %s failed: %d %s", username, r.status, r.body)
	return ""
}

// console requests a console page as a browser on the same site would.
func (h *harness) console(method, path, cookie, form string) response {
	hdr := map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-origin"}
	ct := ""
	if method == http.MethodPost {
		ct = "application/x-www-form-urlencoded"
	}
	return h.do(method, path, ct, form, hdr)
}

// TestMain stops the PostgreSQL cluster the tests started, if any.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
