package fetch

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dcrconsole/dcrconsole/jose"
	"github.com/dcrconsole/dcrconsole/jose/josetest"
)

func jwksTestPublicJWK(t testing.TB, i int, kid string) json.RawMessage {
	return josetest.JWK(t, &josetest.RSAKeys()[i].PublicKey, kid, "sig")
}

// jwksServer serves a settable body and status and counts requests.
type jwksServer struct {
	*httptest.Server
	mu       sync.Mutex
	body     string
	status   int
	requests atomic.Int32
	delay    time.Duration
}

func newJWKSServer(t testing.TB, body string) *jwksServer {
	s := &jwksServer{body: body, status: http.StatusOK}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		time.Sleep(s.delay)
		s.mu.Lock()
		body, status := s.body, s.status
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(status int, body string) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

func fetcherForTestServer(t testing.TB, srv *httptest.Server) *Fetcher {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	f, err := NewFetcher(Options{RootCAs: pool, AllowPrivateNetworks: true, Timeout: 2 * time.Second, MaxBytes: 1 << 20})
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

func newTestJWKSCache(t testing.TB, srv *jwksServer) (*JWKSCache, *manualClock) {
	c := NewJWKSCache(fetcherForTestServer(t, srv.Server), time.Minute, nil)
	clock := newManualClock()
	c.now = clock.Now
	return c, clock
}

func TestJWKSFetchAndCacheHit(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srv := newJWKSServer(t, josetest.JWKS(jwksTestPublicJWK(t, 0, "r1"), josetest.JWK(t, &ec.PublicKey, "e1", "")))
	c, _ := newTestJWKSCache(t, srv)
	ctx := context.Background()
	for _, kid := range []string{"r1", "e1", "r1", "e1"} {
		k, err := c.Key(ctx, srv.URL, kid)
		if err != nil {
			t.Fatalf("Key(%s): %v", kid, err)
		}
		if k.KeyID() != kid {
			t.Fatalf("Key(%s) returned kid %s", kid, k.KeyID())
		}
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("requests = %d, want 1", n)
	}
	if _, err := c.Key(ctx, srv.URL, ""); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("empty kid with two keys: %v, want ErrKeyNotFound", err)
	}
	set, fetchedAt, lastErr, ok := c.Snapshot(srv.URL)
	if !ok || set.Len() != 2 || fetchedAt.IsZero() || lastErr != nil {
		t.Fatalf("Snapshot = %v keys, %v, %v, %v", set, fetchedAt, lastErr, ok)
	}
	if _, _, _, ok := c.Snapshot(srv.URL + "/other"); ok {
		t.Fatal("Snapshot of an unknown uri is ok")
	}
}

func TestJWKSTTLExpiry(t *testing.T) {
	srv := newJWKSServer(t, josetest.JWKS(jwksTestPublicJWK(t, 0, "r1")))
	c, clock := newTestJWKSCache(t, srv)
	ctx := context.Background()
	mustJWKSKey(t, c, srv.URL, "r1")
	clock.Advance(59 * time.Second)
	mustJWKSKey(t, c, srv.URL, "r1")
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("requests before expiry = %d, want 1", n)
	}
	srv.set(http.StatusOK, josetest.JWKS(jwksTestPublicJWK(t, 1, "r2")))
	clock.Advance(2 * time.Second)
	mustJWKSKey(t, c, srv.URL, "r2")
	if _, err := c.Key(ctx, srv.URL, "r1"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("rotated-out key: %v, want ErrKeyNotFound", err)
	}
	if n := srv.requests.Load(); n != 2 {
		t.Fatalf("requests after expiry = %d, want 2", n)
	}
	// Refresh fetches regardless of age.
	if err := c.Refresh(ctx, srv.URL); err != nil {
		t.Fatal(err)
	}
	if n := srv.requests.Load(); n != 3 {
		t.Fatalf("requests after Refresh = %d, want 3", n)
	}
}

func mustJWKSKey(t testing.TB, c *JWKSCache, uri, kid string) jwk.Key {
	t.Helper()
	k, err := c.Key(context.Background(), uri, kid)
	if err != nil {
		t.Fatalf("Key(%q): %v", kid, err)
	}
	return k
}

func TestJWKSUnknownKidRefreshRateLimited(t *testing.T) {
	srv := newJWKSServer(t, josetest.JWKS(jwksTestPublicJWK(t, 0, "r1")))
	c, clock := newTestJWKSCache(t, srv)
	ctx := context.Background()
	mustJWKSKey(t, c, srv.URL, "r1")
	srv.set(http.StatusOK, josetest.JWKS(jwksTestPublicJWK(t, 0, "r1"), jwksTestPublicJWK(t, 1, "r2")))

	clock.Advance(10 * time.Second) // the fetch 10 s ago counts: no refetch yet
	_, err := c.Key(ctx, srv.URL, "r2")
	if !errors.Is(err, ErrKeyNotFound) || !strings.Contains(err.Error(), `"r2"`) || !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("Key(r2) = %v, want ErrKeyNotFound naming the kid and uri", err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("requests = %d, want 1", n)
	}
	clock.Advance(21 * time.Second)
	mustJWKSKey(t, c, srv.URL, "r2")
	for range 5 {
		if _, err := c.Key(ctx, srv.URL, "nope"); !errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("Key(nope) = %v", err)
		}
	}
	if n := srv.requests.Load(); n != 2 {
		t.Fatalf("requests = %d, want 2 (one unknown-kid refresh)", n)
	}

	c.UnknownKidRefreshInterval = 0
	_, _ = c.Key(ctx, srv.URL, "nope")
	if n := srv.requests.Load(); n != 3 {
		t.Fatalf("requests with no refresh interval = %d, want 3", n)
	}
}

func TestJWKSStaleCopyWhenSourceDown(t *testing.T) {
	srv := newJWKSServer(t, josetest.JWKS(jwksTestPublicJWK(t, 0, "r1")))
	c, clock := newTestJWKSCache(t, srv)
	mustJWKSKey(t, c, srv.URL, "r1")
	srv.Close()
	clock.Advance(2 * time.Minute)
	mustJWKSKey(t, c, srv.URL, "r1")
	set, fetchedAt, lastErr, ok := c.Snapshot(srv.URL)
	if !ok || set.Len() != 1 || lastErr == nil || clock.Now().Sub(fetchedAt) != 2*time.Minute {
		t.Fatalf("Snapshot = %v, %v, %v, %v; want the old copy and the error", set, fetchedAt, lastErr, ok)
	}
	if err := c.Refresh(context.Background(), srv.URL); err == nil {
		t.Fatal("Refresh of a closed server succeeded")
	}
	mustJWKSKey(t, c, srv.URL, "r1")
}

func TestJWKSLoadErrors(t *testing.T) {
	tooMany := make([]json.RawMessage, jose.MaxJWKSKeys+1)
	for i := range tooMany {
		tooMany[i] = jwksTestPublicJWK(t, 0, "k")
	}
	cases := []struct {
		name, body string
		status     int
		wantErr    error
	}{
		{"not found", josetest.JWKS(jwksTestPublicJWK(t, 0, "r1")), http.StatusNotFound, nil},
		{"server error", "{}", http.StatusInternalServerError, nil},
		{"empty set", josetest.JWKS(), http.StatusOK, errNoUsableKeys},
		{"not json", "<html>", http.StatusOK, nil},
		{"no keys member", `{"kty":"RSA"}`, http.StatusOK, nil},
		{"too many keys", josetest.JWKS(tooMany...), http.StatusOK, nil},
		{"oversized", `{"keys":[],"pad":"` + strings.Repeat("x", 1<<20) + `"}`, http.StatusOK, ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newJWKSServer(t, tc.body)
			srv.set(tc.status, tc.body)
			c, _ := newTestJWKSCache(t, srv)
			for _, kid := range []string{"r1", ""} {
				_, err := c.Key(context.Background(), srv.URL, kid)
				var le *JWKSLoadError
				if !errors.As(err, &le) || le.URI != srv.URL {
					t.Fatalf("Key(%q) = %v, want *JWKSLoadError for %s", kid, err, srv.URL)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Fatalf("Key(%q) = %v, want %v", kid, err, tc.wantErr)
				}
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := newJWKSServer(t, "")
		c, _ := newTestJWKSCache(t, srv)
		srv.Close()
		var le *JWKSLoadError
		if _, err := c.Key(context.Background(), srv.URL, "r1"); !errors.As(err, &le) {
			t.Fatalf("Key = %v, want *JWKSLoadError", err)
		}
	})
}

func TestJWKSUnusableKeysIgnored(t *testing.T) {
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	srv := newJWKSServer(t, josetest.JWKS(
		josetest.JWK(t, &josetest.RSAKeys()[0].PublicKey, "enc", "enc"),
		josetest.JWK(t, &small.PublicKey, "small", "sig"),
		josetest.JWK(t, &p384.PublicKey, "p384", "sig"),
		josetest.JWK(t, []byte("0123456789abcdef0123456789abcdef"), "oct", "sig"),
		json.RawMessage(`{"kty":"RSA","kid":"broken","n":12}`),
		// A P-256 x with a y off the curve: jwx parses it, the ECDH check refuses it.
		json.RawMessage(`{"kty":"EC","kid":"offcurve","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"AAAAJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"}`),
		josetest.JWK(t, &josetest.RSAKeys()[1].PublicKey, "good", ""),
	))
	c, _ := newTestJWKSCache(t, srv)
	for _, kid := range []string{"enc", "small", "p384", "oct", "broken", "offcurve"} {
		if _, err := c.Key(context.Background(), srv.URL, kid); !errors.Is(err, ErrKeyNotFound) {
			t.Errorf("Key(%s) = %v, want ErrKeyNotFound", kid, err)
		}
	}
	if k := mustJWKSKey(t, c, srv.URL, ""); k.KeyID() != "good" {
		t.Fatalf("Key(\"\") = %s, want the only usable key", k.KeyID())
	}
}

func TestJWKSPrivateKeysYieldPublicKeys(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srv := newJWKSServer(t, josetest.JWKS(josetest.JWK(t, josetest.RSAKeys()[2], "rp", "sig"), josetest.JWK(t, ec, "ep", "")))
	c, _ := newTestJWKSCache(t, srv)
	for _, kid := range []string{"rp", "ep"} {
		k := mustJWKSKey(t, c, srv.URL, kid)
		switch k.(type) {
		case jwk.RSAPublicKey, jwk.ECDSAPublicKey:
		default:
			t.Fatalf("Key(%s) is %T, want a public key", kid, k)
		}
		b, _ := json.Marshal(k)
		if strings.Contains(string(b), `"d"`) {
			t.Fatalf("Key(%s) carries private material: %s", kid, b)
		}
	}
	set, _, _, _ := c.Snapshot(srv.URL)
	if b, _ := json.Marshal(set); strings.Contains(string(b), `"d"`) {
		t.Fatalf("Snapshot carries private material: %s", b)
	}
}

func TestJWKSSingleflight(t *testing.T) {
	srv := newJWKSServer(t, josetest.JWKS(jwksTestPublicJWK(t, 0, "r1")))
	srv.delay = 100 * time.Millisecond
	c, _ := newTestJWKSCache(t, srv)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			if _, err := c.Key(context.Background(), srv.URL, "r1"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("requests = %d, want 1", n)
	}
}

func TestJWKSCallerCancelDoesNotBreakSharedFetch(t *testing.T) {
	srv := newJWKSServer(t, josetest.JWKS(jwksTestPublicJWK(t, 0, "r1")))
	srv.delay = 100 * time.Millisecond
	c, _ := newTestJWKSCache(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.Key(ctx, srv.URL, "r1"); err == nil {
		t.Fatal("Key with an expired context succeeded before the fetch finished")
	}
	mustJWKSKey(t, c, srv.URL, "r1") // joins the fetch started above
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("requests = %d, want 1", n)
	}
}

func TestJWKSEvictsLeastRecentlyUsed(t *testing.T) {
	srv := newJWKSServer(t, josetest.JWKS(jwksTestPublicJWK(t, 0, "r1")))
	c, clock := newTestJWKSCache(t, srv)
	c.maxEntries = 2
	a, b, d := srv.URL+"/a", srv.URL+"/b", srv.URL+"/d"
	mustJWKSKey(t, c, a, "r1")
	clock.Advance(time.Second)
	mustJWKSKey(t, c, b, "r1")
	clock.Advance(time.Second)
	mustJWKSKey(t, c, a, "r1") // a is now more recent than b
	clock.Advance(time.Second)
	mustJWKSKey(t, c, d, "r1")
	if _, _, _, ok := c.Snapshot(b); ok {
		t.Fatal("least recently used uri was not evicted")
	}
	for _, u := range []string{a, d} {
		if _, _, _, ok := c.Snapshot(u); !ok {
			t.Fatalf("%s was evicted", u)
		}
	}
}

func BenchmarkJWKSKey(b *testing.B) {
	srv := newJWKSServer(b, josetest.JWKS(jwksTestPublicJWK(b, 0, "r1"), jwksTestPublicJWK(b, 1, "r2")))
	c := NewJWKSCache(fetcherForTestServer(b, srv.Server), time.Hour, nil)
	mustJWKSKey(b, c, srv.URL, "r1")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Key(ctx, srv.URL, "r2"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
