package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/pgtest"
)

// The key flows run on both backends under a plain `go test`; the whole web
// suite runs on PostgreSQL with DCRCONSOLE_TEST_DATABASE=postgres.

// TestKeyFlowsOnEveryBackend: register, read, token, duplicates refused,
// delete, token refused, console sign-in and search, audit chain intact.
func TestKeyFlowsOnEveryBackend(t *testing.T) {
	for _, backend := range pgtest.Backends() {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, withBackend(t, backend))
			id := h.registered(t)
			at := h.accessToken(t, id)
			bearer := map[string]string{"Authorization": "Bearer " + at}
			if r := h.do(http.MethodGet, "/register/"+id, "", "", bearer); r.status != http.StatusOK {
				t.Fatalf("GET: %d %s", r.status, r.body)
			}
			if r := h.register(h.validRequest(t)); r.status != http.StatusBadRequest {
				t.Fatalf("duplicate: %d %s", r.status, r.body)
			}
			cookie := h.operator(t, "operator")
			if r := h.console(http.MethodGet, "/console/clients?q="+id[:8], cookie, ""); r.status != http.StatusOK {
				t.Fatalf("console search: %d", r.status)
			}
			if r := h.do(http.MethodDelete, "/register/"+id, "", "", bearer); r.status != http.StatusNoContent {
				t.Fatalf("delete: %d %s", r.status, r.body)
			}
			if r := h.token(tokenForm(assertionFor(t, h.eco.ADRs[0], id, jwa.ES256, nil), nil)); r.status != http.StatusBadRequest {
				t.Fatalf("token after delete: %d %s", r.status, r.body)
			}
			res, err := h.app.Audit.Verify(context.Background())
			if err != nil || !res.OK || res.Events < 4 {
				t.Fatalf("audit verify: %+v %v", res, err)
			}
		})
	}
}

// replica is a second dcrconsole on the harness's PostgreSQL database: same
// configuration, same simulated Register and ADRs, its own connections.
func (h *harness) replica(t *testing.T) *harness {
	t.Helper()
	db, err := store.Open(context.Background(), h.cfg.Database.DSN(), store.Options{MaxOpenConns: h.cfg.Database.MaxOpenConns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := Build(context.Background(), h.cfg, db, log, BuildOptions{RootCAs: h.ca.Pool(), ForcedRefreshMinInterval: -1, PasswordHash: auth.CheapHashParams})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.RegisterData.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, ca: h.ca, eco: h.eco, cfg: h.cfg, db: db, app: app}
}

// TestTwoReplicasOnePostgres: what one replica does, the other sees on its
// next request: a registration, a token, a revocation by an operator.
func TestTwoReplicasOnePostgres(t *testing.T) {
	a := newHarness(t, onPostgres(t))
	b := a.replica(t)
	id := a.registered(t)
	at := b.accessToken(t, id) // the client registered on a, its token from b
	bearer := map[string]string{"Authorization": "Bearer " + at}
	if r := a.do(http.MethodGet, "/register/"+id, "", "", bearer); r.status != http.StatusOK {
		t.Fatalf("a reads with b's token: %d %s", r.status, r.body)
	}
	if r := b.register(b.validRequest(t)); r.status != http.StatusBadRequest {
		t.Fatalf("duplicate on b: %d %s", r.status, r.body)
	}
	cookie := a.operator(t, "operator")
	if r := a.console(http.MethodPost, "/console/clients/"+id+"/revoke", cookie, "reason=compromised&confirm="+id); r.status >= 400 {
		t.Fatalf("revoke on a: %d %s", r.status, r.body)
	}
	if r := b.do(http.MethodGet, "/register/"+id, "", "", bearer); r.status != http.StatusUnauthorized {
		t.Fatalf("b after revocation on a: %d %s", r.status, r.body)
	}
	if r := b.token(tokenForm(assertionFor(t, b.eco.ADRs[0], id, jwa.ES256, nil), nil)); r.status != http.StatusBadRequest {
		t.Fatalf("token on b after revocation: %d %s", r.status, r.body)
	}
	res, err := audit.New(b.db).Verify(context.Background())
	if err != nil || !res.OK {
		t.Fatalf("audit verify: %+v %v", res, err)
	}
}

// TestConcurrentDuplicatesAcrossReplicas: one software product registered at
// once on two replicas: exactly one 201, and the chain stays intact.
func TestConcurrentDuplicatesAcrossReplicas(t *testing.T) {
	a := newHarness(t, onPostgres(t))
	b := a.replica(t)
	const n = 16
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = a.validRequest(t)
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := []*harness{a, b}[i%2]
			statuses[i] = h.register(bodies[i]).status
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusBadRequest:
		default:
			t.Errorf("status %d", s)
		}
	}
	if created != 1 {
		t.Fatalf("%d created, want 1 (%v)", created, statuses)
	}
	res, err := a.app.Audit.Verify(context.Background())
	if err != nil || !res.OK || res.Events < n {
		t.Fatalf("audit verify: %+v %v", res, err)
	}
}

// TestLostDatabaseIs503AndRecovers: PostgreSQL stops: /readyz and requests
// answer 503, not 500; it starts again: the same process serves again.
func TestLostDatabaseIs503AndRecovers(t *testing.T) {
	c, err := pgtest.Start(pgtest.Options{}) // a cluster of its own: it is stopped mid-test
	if err != nil {
		pgtest.Unavailable(t, err)
	}
	t.Cleanup(c.Close)
	url, err := c.CreateDatabase(context.Background(), "lost")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, onPostgresURL(url))
	id := h.registered(t)
	c.Stop()
	if r := h.do(http.MethodGet, "/readyz", "", "", nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz while down: %d %s", r.status, r.body)
	}
	for _, r := range []response{
		h.register(h.validRequest(t)),
		h.token(tokenForm(assertionFor(t, h.eco.ADRs[0], id, jwa.ES256, nil), nil)),
		h.do(http.MethodGet, "/console/login", "", "", nil),
	} {
		if r.status != http.StatusServiceUnavailable {
			t.Fatalf("while down: %d %s", r.status, r.body)
		}
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if r := h.do(http.MethodGet, "/readyz", "", "", nil); r.status != http.StatusOK {
		t.Fatalf("readyz after restart: %d %s", r.status, r.body)
	}
	if r := h.token(tokenForm(assertionFor(t, h.eco.ADRs[0], id, jwa.ES256, nil), nil)); r.status != http.StatusOK {
		t.Fatalf("token after restart: %d %s", r.status, r.body)
	}
}
