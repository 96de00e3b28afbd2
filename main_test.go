package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/pgtest"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// These tests drive the real binary, built once in TestMain, as an operator
// would: a config file, signals, kill -9 and the audit verify command.

// binPath is the dcrconsole binary built by TestMain.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "dcrconsole-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "main_test:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "dcrconsole")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "main_test: go build:", err)
		return 1
	}
	return pgtest.Main(m) // and stop the PostgreSQL cluster a test started
}

// Deadlines for the process to come up, finish its demo and exit. They bound a
// hang; nothing asserts how fast anything is.
const (
	readyDeadline = 15 * time.Second
	demoDeadline  = 30 * time.Second
	exitDeadline  = 20 * time.Second
)

const descRequestInvalid = "ERR-DCR-004: Client Registration Request validation failed."

// httpClient opens a new connection per request, so a POST never lands on a
// keep-alive connection to a process that has since been stopped.
var httpClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// syncBuffer is a bytes.Buffer safe for the exec copier and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is one running dcrconsole process.
type server struct {
	URL string
	// Stderr is the process's log (stdout goes there too; the server writes none).
	Stderr *syncBuffer
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
}

// startServer starts the binary with args (after --config cfg.Path) and env
// added to the test's environment; it is killed at cleanup if still running.
func startServer(t testing.TB, cfg testConfig, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"--config", cfg.Path}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	s := &server{URL: cfg.URL, Stderr: &syncBuffer{}, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout = s.Stderr
	cmd.Stderr = s.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("dcrconsole output:\n%s", s.Stderr.String())
		}
	})
	return s
}

// exited reports whether the process has exited.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// waitReady polls GET /readyz until it answers 200.
func (s *server) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(readyDeadline)
	for {
		if s.exited() {
			t.Fatalf("dcrconsole exited before it was ready (exit code %d)", s.cmd.ProcessState.ExitCode())
		}
		resp, err := httpClient.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /readyz did not answer 200 within %s (last error: %v)", readyDeadline, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLog waits until the process output contains want.
func (s *server) waitLog(t testing.TB, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(s.Stderr.String(), want) {
		if s.exited() {
			t.Fatalf("dcrconsole exited (code %d) before logging %q", s.cmd.ProcessState.ExitCode(), want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("dcrconsole did not log %q within %s", want, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and returns the exit code.
func (s *server) stop(t testing.TB) int {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	return s.wait(t)
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	s.wait(t)
}

func (s *server) wait(t testing.TB) int {
	t.Helper()
	select {
	case <-s.done:
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(exitDeadline):
		t.Fatalf("dcrconsole did not exit within %s", exitDeadline)
		return -1
	}
}

// registration is a POST /register answer.
type registration struct {
	status int
	body   map[string]any
	raw    string
}

func (s *server) register(t *testing.T, jwt string) registration {
	t.Helper()
	resp, err := httpClient.Post(s.URL+"/register", "application/jwt", strings.NewReader(jwt))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := registration{status: resp.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// software is a product and the ADR that owns (and signs for) it.
type software struct {
	adr     *cdrsim.ADR
	product *cdrsim.Product
}

// ecosystem is a simulated Register and ADRs, and the CA file that makes the
// binary trust them.
type ecosystem struct {
	eco    *cdrsim.Ecosystem
	caFile string
	// products are the software products the Register publishes: one per ADR,
	// plus the extra ones of newEcosystem.
	products []software
}

// newEcosystem starts a Register with two ADRs; the first ADR gets extra
// products, so that tests can make several registrations under the CDR
// one-registration-per-product rule.
func newEcosystem(t testing.TB, extra int) *ecosystem {
	t.Helper()
	ca, err := cdrsim.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	eco, err := cdrsim.NewEcosystem(ca, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eco.Close)
	e := &ecosystem{eco: eco, caFile: filepath.Join(t.TempDir(), "ca.pem")}
	if err := os.WriteFile(e.caFile, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, p := range eco.Products {
		e.products = append(e.products, software{eco.ADRs[i], p})
	}
	first := eco.ADRs[0]
	owned := []*cdrsim.Product{eco.Products[0]}
	for i := range extra {
		p := first.NewProduct("", fmt.Sprintf("Extra app %d", i+1))
		owned = append(owned, p)
		e.products = append(e.products, software{first, p})
	}
	eco.Register.AddLegalEntity(first.NewLegalEntity(owned...))
	return e
}

// request signs a valid registration request for sw addressed to issuer.
func (e *ecosystem) request(t *testing.T, sw software, issuer string) string {
	t.Helper()
	ssa, err := e.eco.Register.SignSSA(sw.product)
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := sw.adr.SignRequest(sw.adr.RequestClaims(ssa, issuer, sw.product.ID), jwa.PS256)
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}

// testConfig is a config file written for one test.
type testConfig struct {
	Path   string
	URL    string // server.public_url and holder.issuer
	DBPath string
}

// freeAddr returns a 127.0.0.1 address that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// writeConfig writes a config listening on a free port; with e it points at the
// simulated Register and a database in a temp dir, and extra TOML lines are
// appended to the [holder] table.
func writeConfig(t testing.TB, e *ecosystem, holder ...string) testConfig {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	c := testConfig{Path: filepath.Join(dir, "dcrconsole.toml"), URL: "http://" + addr, DBPath: filepath.Join(dir, "dcrconsole.db")}
	q := strconv.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "[server]\nlisten = %s\npublic_url = %s\n\n", q(addr), q(c.URL))
	fmt.Fprintf(&b, "[holder]\nissuer = %s\n%s\n\n", q(c.URL), strings.Join(holder, "\n"))
	fmt.Fprintf(&b, "[database]\npath = %s\n\n", q(c.DBPath))
	if e != nil {
		fmt.Fprintf(&b, "[register]\njwks_uri = %s\nbase_uri = %s\n\n", q(e.eco.Register.JWKSURI()), q(e.eco.Register.BaseURI()))
		fmt.Fprintf(&b, "[outbound]\nca_file = %s\nallow_private_networks = true\n", q(e.caFile))
	}
	if err := os.WriteFile(c.Path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// registerAll registers every product once and returns the client_ids.
func registerAll(t *testing.T, s *server, e *ecosystem, issuer string) []string {
	t.Helper()
	var ids []string
	for i, sw := range e.products {
		r := s.register(t, e.request(t, sw, issuer))
		id, _ := r.body["client_id"].(string)
		if r.status != http.StatusCreated || id == "" {
			t.Fatalf("registration %d: status %d, want 201 with a client_id: %s", i+1, r.status, r.raw)
		}
		ids = append(ids, id)
	}
	return ids
}

// runCLI runs the binary to completion and returns its exit code and output.
func runCLI(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), exitDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("dcrconsole %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("dcrconsole %s did not finish within %s; output:\n%s%s", strings.Join(args, " "), exitDeadline, out.String(), errOut.String())
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// TestRestartKeepsJTIReplayProtection checks that a used registration request
// jti is remembered on disk: the very same request replayed after a graceful
// restart is refused (by the jti rule, since duplicates are allowed here).
func TestRestartKeepsJTIReplayProtection(t *testing.T) {
	t.Parallel()
	e := newEcosystem(t, 0)
	cfg := writeConfig(t, e, "allow_duplicate_registrations = true")

	s := startServer(t, cfg, nil)
	s.waitReady(t)
	jwt := e.request(t, e.products[0], cfg.URL)
	if r := s.register(t, jwt); r.status != http.StatusCreated {
		t.Fatalf("first registration: status %d, want 201: %s", r.status, r.raw)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("graceful stop: exit code %d, want 0", code)
	}

	s = startServer(t, cfg, nil)
	s.waitReady(t)
	r := s.register(t, jwt)
	if r.status != http.StatusBadRequest || r.body["error_description"] != descRequestInvalid {
		t.Fatalf("replay after restart: status %d, body %s; want 400 with error_description %q", r.status, r.raw, descRequestInvalid)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("graceful stop: exit code %d, want 0", code)
	}
	// The 400 must come from the jti rule, not from some other check.
	if ev := lastAuditEvent(t, cfg.DBPath); !strings.Contains(ev.Reason, "already used") {
		t.Fatalf("replay after restart was refused for another reason: %q", ev.Reason)
	}
}

// lastAuditEvent is the newest audit event in the database at path.
func lastAuditEvent(t *testing.T, path string) store.AuditEvent {
	t.Helper()
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ev store.AuditEvent
	if err := storetest.Gorm(t, db).Order("id DESC").Take(&ev).Error; err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestAcknowledgedRegistrationSurvivesKill checks that a 201 means the
// registration is on disk: after kill -9 straight after the last 201, every
// acknowledged client is in the database, active, and the audit chain is intact.
func TestAcknowledgedRegistrationSurvivesKill(t *testing.T) {
	t.Parallel()
	e := newEcosystem(t, 3) // 2 + 3 = 5 products
	cfg := writeConfig(t, e)

	s := startServer(t, cfg, nil)
	s.waitReady(t)
	ids := registerAll(t, s, e, cfg.URL)
	s.kill(t)
	if len(ids) != 5 {
		t.Fatalf("got %d registrations, want 5", len(ids))
	}

	ctx := context.Background()
	db, err := store.Open(ctx, cfg.DBPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		c, err := db.GetClient(ctx, id)
		if err != nil {
			t.Errorf("client %s acknowledged with 201 but not in the database: %v", id, err)
			continue
		}
		if c.Status != store.StatusActive {
			t.Errorf("client %s: status %q, want %q", id, c.Status, store.StatusActive)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, nil, "audit", "verify", "--db", cfg.DBPath)
	if code != 0 || !strings.Contains(stdout, "audit chain intact") {
		t.Fatalf("audit verify: exit code %d, stdout %q, stderr %q; want 0 and \"audit chain intact\"", code, stdout, stderr)
	}
}

// TestAuditVerifyDetectsTampering checks that `audit verify` fails (exit 1)
// and names the event when one audit row is edited behind dcrconsole's back.
func TestAuditVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	e := newEcosystem(t, 1)
	cfg := writeConfig(t, e)

	s := startServer(t, cfg, nil)
	s.waitReady(t)
	registerAll(t, s, e, cfg.URL)
	if code := s.stop(t); code != 0 {
		t.Fatalf("graceful stop: exit code %d, want 0", code)
	}
	if code, stdout, stderr := runCLI(t, nil, "audit", "verify", "--db", cfg.DBPath); code != 0 {
		t.Fatalf("audit verify before tampering: exit code %d, stdout %q, stderr %q; want 0", code, stdout, stderr)
	}

	ctx := context.Background()
	db, err := store.Open(ctx, cfg.DBPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := storetest.Gorm(t, db).Exec("UPDATE audit_events SET reason = 'edited' WHERE id = 2")
	if res.Error != nil || res.RowsAffected != 1 {
		db.Close()
		t.Fatalf("tampering with event 2: error %v, %d rows changed", res.Error, res.RowsAffected)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, nil, "audit", "verify", "--db", cfg.DBPath)
	if code != 1 || !strings.Contains(stdout, "event 2") {
		t.Fatalf("audit verify after tampering: exit code %d, stdout %q, stderr %q; want 1 and text naming event 2", code, stdout, stderr)
	}
}

// TestConfigErrorsNameTheKey checks that a bad configuration stops the binary
// with exit code 2 and a message naming the offending key.
func TestConfigErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, toml, want string
	}{
		{"unknown key", "[holder]\nfoo = 1\n", "holder.foo"},
		{"bad duration", "[holder]\nclock_skew = \"x\"\n", "clock_skew"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "bad.toml")
			if err := os.WriteFile(path, []byte(tt.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runCLI(t, nil, "--config", path)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit code %d, stdout %q, stderr %q; want 2 and stderr naming %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

// TestRealServerRefusesDemoDatabase checks that demo and real databases stay
// apart: a normal start on a file created by demo mode is refused.
func TestRealServerRefusesDemoDatabase(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, nil)
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.DBPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetMeta(ctx, store.MetaDemo, "true"); err != nil {
		db.Close()
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, nil, "--config", cfg.Path)
	if code != 1 || !strings.Contains(stderr, "demo") {
		t.Fatalf("exit code %d, stdout %q, stderr %q; want 1 and stderr mentioning demo", code, stdout, stderr)
	}
}

// TestDemoMode checks that --demo runs end to end on its own: simulated
// Register and ADRs, real registrations through the public endpoint, a clean
// shutdown, and an intact audit chain in the demo database.
func TestDemoMode(t *testing.T) {
	t.Parallel()
	// demo mode keeps its database under os.TempDir(); a TMPDIR of its own keeps
	// parallel runs apart.
	env := []string{"TMPDIR=" + t.TempDir()}
	cfg := writeConfig(t, nil)

	s := startServer(t, cfg, env, "--demo")
	s.waitLog(t, "registrations done", demoDeadline)
	s.waitReady(t)
	if out := s.Stderr.String(); !strings.Contains(out, "status=201") {
		t.Errorf("demo made no successful registration; output:\n%s", out)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("graceful stop: exit code %d, want 0", code)
	}

	code, stdout, stderr := runCLI(t, env, "audit", "verify", "--demo")
	if code != 0 || !strings.Contains(stdout, "audit chain intact") {
		t.Fatalf("audit verify --demo: exit code %d, stdout %q, stderr %q; want 0 and \"audit chain intact\"", code, stdout, stderr)
	}
	if want := "audit chain intact: " + readmeDemoEvents(t) + " events"; !strings.Contains(stdout, want) {
		t.Errorf("audit verify --demo printed %q; the README's sample output says %q", stdout, want)
	}
}
