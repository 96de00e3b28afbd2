package web

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/store/pgtest"
)

// outageLoad is token requests (each a write: its jti and its audit event)
// sent from several goroutines, counted by status.
type outageLoad struct {
	ok, unavailable atomic.Int64
	mu              sync.Mutex
	unexpected      []string
}

func (l *outageLoad) run(h *harness, clientID string, stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	adr := h.eco.ADRs[0]
	for {
		select {
		case <-stop:
			return
		default:
		}
		a, err := adr.SignRequest(adr.AssertionClaims(clientID, testIssuer), jwa.ES256)
		if err != nil {
			l.record(err.Error())
			return
		}
		switch r := h.token(tokenForm(a, nil)); r.status {
		case http.StatusOK:
			l.ok.Add(1)
		case http.StatusServiceUnavailable:
			l.unavailable.Add(1)
		default:
			l.record(fmt.Sprintf("%d %s", r.status, r.body))
		}
	}
}

func (l *outageLoad) record(what string) {
	l.mu.Lock()
	l.unexpected = append(l.unexpected, what)
	l.mu.Unlock()
}

// TestPostgresRestartUnderLoadIs503AndRecovers: PostgreSQL stops while
// group-committed writes are in flight: every request is answered 200 or 503,
// never 500; it starts again: the same process commits again and the audit
// chain is intact.
func TestPostgresRestartUnderLoadIs503AndRecovers(t *testing.T) {
	c, err := pgtest.Start(pgtest.Options{}) // a cluster of its own: it is stopped mid-test
	if err != nil {
		pgtest.Unavailable(t, err)
	}
	t.Cleanup(c.Close)
	url, err := c.CreateDatabase(context.Background(), "restart")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, onPostgresURL(url))
	id := h.registered(t)
	var load outageLoad
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go load.run(h, id, stop, &wg)
	}
	stopped := false
	defer func() {
		if !stopped {
			close(stop)
			wg.Wait()
		}
	}()
	waitFor(t, "tokens before the outage", func() bool { return load.ok.Load() >= 20 })
	c.Stop()
	waitFor(t, "503s during the outage", func() bool { return load.unavailable.Load() >= 20 })
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	okBefore := load.ok.Load()
	waitFor(t, "tokens after the restart", func() bool { return load.ok.Load() >= okBefore+20 })
	stopped = true
	close(stop)
	wg.Wait()
	if len(load.unexpected) > 0 {
		t.Fatalf("%d answers neither 200 nor 503, first: %s", len(load.unexpected), load.unexpected[0])
	}
	if r := h.do(http.MethodGet, "/readyz", "", "", nil); r.status != http.StatusOK {
		t.Fatalf("readyz after restart: %d %s", r.status, r.body)
	}
	res, err := h.app.Audit.Verify(context.Background())
	if err != nil || !res.OK {
		t.Fatalf("audit verify: %+v %v", res, err)
	}
}
