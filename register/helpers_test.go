package register

import (
	"crypto/x509"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/fetch"
)

// fetcherForTestServer and manualClock are copies of package fetch's test
// helpers (jwks_test.go): test files cannot be shared across packages.

func fetcherForTestServer(t testing.TB, srv *httptest.Server) *fetch.Fetcher {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	f, err := fetch.NewFetcher(fetch.Options{RootCAs: pool, AllowPrivateNetworks: true, Timeout: 2 * time.Second, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// manualClock is a settable clock.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newManualClock() *manualClock {
	return &manualClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
