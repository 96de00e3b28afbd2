package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/pgtest"
)

// replicaConfig writes the configuration of one replica on the PostgreSQL
// database whose URL the environment provides (DCRCONSOLE_DATABASE_URL).
func replicaConfig(t *testing.T, e *ecosystem, issuer string) testConfig {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	c := testConfig{Path: filepath.Join(dir, "dcrconsole.toml"), URL: "http://" + addr}
	q := strconv.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "[server]\nlisten = %s\npublic_url = %s\n\n", q(addr), q(issuer))
	fmt.Fprintf(&b, "[holder]\nissuer = %s\n\n[database]\ndriver = \"postgres\"\nmax_open_conns = 10\n\n", q(issuer))
	fmt.Fprintf(&b, "[register]\njwks_uri = %s\nbase_uri = %s\n\n", q(e.eco.Register.JWKSURI()), q(e.eco.Register.BaseURI()))
	fmt.Fprintf(&b, "[outbound]\nca_file = %s\nallow_private_networks = true\n", q(e.caFile))
	if err := os.WriteFile(c.Path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// post sends a form or a JWT and returns the status and body.
func post(t *testing.T, u, contentType, body string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return send(t, req, header...)
}

func send(t *testing.T, req *http.Request, header ...string) (int, string) {
	t.Helper()
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err.Error() // a killed replica: counted by the caller
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReplicasOnOnePostgres runs three server processes on one PostgreSQL
// database: one registration per software_id across replicas, a deletion on
// one refused on another at once, concurrent load with one replica killed -9
// midway, then every acknowledged registration is in the database and
// `audit verify` says the one chain is intact.
func TestReplicasOnOnePostgres(t *testing.T) {
	dbURL := pgtest.URL(t)
	e := newEcosystem(t, 12)
	issuer := "https://dh.replicas.test" // one issuer for the replicas behind one load balancer
	env := []string{"DCRCONSOLE_DATABASE_URL=" + dbURL, replicaMFAKey}
	var replicas []*server
	for range 3 {
		s := startServer(t, replicaConfig(t, e, issuer), env)
		replicas = append(replicas, s)
	}
	for _, s := range replicas {
		s.waitReady(t)
	}

	// One software product, registered at once on every replica: one 201.
	var wg sync.WaitGroup
	statuses := make([]int, 9)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = post(t, replicas[i%3].URL+"/register", "application/jwt", e.request(t, e.products[0], issuer))
		}()
	}
	wg.Wait()
	created, clientID := 0, ""
	for _, s := range statuses {
		if s == http.StatusCreated {
			created++
		} else if s != http.StatusBadRequest {
			t.Errorf("status %d", s)
		}
	}
	if created != 1 {
		t.Fatalf("%d registrations of one software_id succeeded across replicas (%v), want 1", created, statuses)
	}
	// The registered client: read its id from the database through the CLI-free store.
	db, err := store.Open(context.Background(), dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids, err := db.ActiveClientIDsForSoftware(context.Background(), e.products[0].product.ID)
	if err != nil || len(ids) != 1 {
		t.Fatalf("active clients %v %v", ids, err)
	}
	clientID = ids[0]

	// A token from replica 0, the client deletes itself on replica 1, and
	// replica 2 refuses both its token and a new one on the next request.
	token := func(s *server) (int, string) {
		adr := e.products[0].adr
		a, err := adr.SignRequest(adr.AssertionClaims(clientID, issuer), jwa.ES256)
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"grant_type": {"client_credentials"}, "client_assertion": {a},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}
		return post(t, s.URL+"/token", "application/x-www-form-urlencoded", form.Encode())
	}
	status, body := token(replicas[0])
	if status != http.StatusOK {
		t.Fatalf("token: %d %s", status, body)
	}
	at := body[strings.Index(body, `"access_token":"`)+16:]
	at = at[:strings.Index(at, `"`)]
	del, _ := http.NewRequest(http.MethodDelete, replicas[1].URL+"/register/"+clientID, nil)
	if status, body := send(t, del, "Authorization", "Bearer "+at); status != http.StatusNoContent {
		t.Fatalf("delete on replica 1: %d %s", status, body)
	}
	get, _ := http.NewRequest(http.MethodGet, replicas[2].URL+"/register/"+clientID, nil)
	if status, body := send(t, get, "Authorization", "Bearer "+at); status != http.StatusUnauthorized {
		t.Fatalf("GET on replica 2 after delete on replica 1: %d %s", status, body)
	}
	if status, body := token(replicas[2]); status != http.StatusBadRequest {
		t.Fatalf("token on replica 2 after delete: %d %s", status, body)
	}

	// Concurrent load on every replica; replica 2 is killed -9 midway.
	var mu sync.Mutex
	var acked []string
	for i, sw := range e.products[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body := post(t, replicas[i%3].URL+"/register", "application/jwt", e.request(t, sw, issuer))
			if status == http.StatusCreated {
				id := body[strings.Index(body, `"client_id":"`)+13:]
				mu.Lock()
				acked = append(acked, id[:strings.Index(id, `"`)])
				mu.Unlock()
			}
		}()
		if i == len(e.products)/2 {
			replicas[2].kill(t)
		}
	}
	wg.Wait()
	if len(acked) < len(e.products[1:])/2 {
		t.Fatalf("only %d of %d registrations acknowledged", len(acked), len(e.products)-1)
	}
	for _, id := range acked {
		if c, err := db.GetClient(context.Background(), id); err != nil || c.Status != store.StatusActive {
			t.Errorf("client %s acknowledged with 201 but not active in the database: %v", id, err)
		}
	}
	code, stdout, stderr := runCLI(t, env, "audit", "verify", "--db", dbURL)
	if code != 0 || !strings.Contains(stdout, "audit chain intact") {
		t.Fatalf("audit verify: %d %q %q", code, stdout, stderr)
	}
}

// TestDBCopyToPostgres: a deployment on SQLite (registrations, a revocation,
// audit events) moves to PostgreSQL with nothing lost: `db copy` verifies the
// chain there with the source's head hash, `audit verify` on the target says
// intact, a server on the target serves the copied client, and the numeric
// client ids and console users came along.
func TestDBCopyToPostgres(t *testing.T) {
	e := newEcosystem(t, 2)
	cfg := writeConfig(t, e)
	s := startServer(t, cfg, nil)
	s.waitReady(t)
	ids := registerAll(t, s, e, cfg.URL)
	if code := s.stop(t); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	if code, _, stderr := runCLI(t, nil, "user", "add", "alice", "--role", "operator", "--config", cfg.Path); code != 0 {
		t.Fatalf("user add: %d %s", code, stderr)
	}
	src, err := store.Open(context.Background(), cfg.DBPath, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	rowID, _ := src.ClientRowID(context.Background(), ids[1])
	src.Close()

	dbURL := pgtest.URL(t)
	code, stdout, stderr := runCLI(t, nil, "db", "copy", "--from", "sqlite:"+cfg.DBPath, "--to", dbURL)
	if code != 0 || !strings.Contains(stdout, "audit chain intact on the destination") {
		t.Fatalf("db copy: %d\n%s\n%s", code, stdout, stderr)
	}
	_, srcOut, _ := runCLI(t, nil, "audit", "verify", "--db", cfg.DBPath)
	code, dstOut, stderr := runCLI(t, nil, "audit", "verify", "--db", dbURL)
	if code != 0 || srcOut != dstOut {
		t.Fatalf("audit verify on the target: %d %q, source %q (%s)", code, dstOut, srcOut, stderr)
	}
	dst, err := store.Open(context.Background(), dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for _, id := range ids {
		if c, err := dst.GetClient(context.Background(), id); err != nil || c.Status != store.StatusActive {
			t.Errorf("client %s on the target: %v", id, err)
		}
	}
	if got, _ := dst.ClientRowID(context.Background(), ids[1]); got != rowID {
		t.Errorf("numeric client id %d on the target, %d on the source", got, rowID)
	}
	if u, err := dst.UserByName(context.Background(), "ALICE"); err != nil || u.Role != "operator" {
		t.Errorf("user alice on the target: %+v %v", u, err)
	}
	// A server on the target refuses a second registration of a copied product.
	pg := startServer(t, replicaConfig(t, e, cfg.URL), []string{"DCRCONSOLE_DATABASE_URL=" + dbURL, replicaMFAKey})
	pg.waitReady(t)
	if r := pg.register(t, e.request(t, e.products[0], cfg.URL)); r.status != http.StatusBadRequest {
		t.Fatalf("duplicate on the target: %d %s", r.status, r.raw)
	}
}

// replicaMFAKey is the MFA key every replica of a test shares (on PostgreSQL
// the server refuses to start without one).
const replicaMFAKey = "DCRCONSOLE_MFA_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
