package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// benchClientFixture is one registered client (the first ADR's product) served
// over loopback HTTP, with a client that keeps enough connections for 16×GOMAXPROCS
// parallel callers.
func benchClientFixture(b *testing.B) (*harness, *httptest.Server, *http.Client, string) {
	b.Helper()
	h := newHarness(b)
	r := h.register(h.validRequest(b))
	if r.status != http.StatusCreated {
		b.Fatalf("registration: %d %s", r.status, r.body)
	}
	clientID, _ := r.json["client_id"].(string)
	srv := httptest.NewServer(h.app.Engine)
	b.Cleanup(srv.Close)
	conns := 16 * runtime.GOMAXPROCS(0)
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	b.Cleanup(client.CloseIdleConnections)
	return h, srv, client, clientID
}

// benchTokenForms signs n client assertions for clientID (ES256, distinct jti)
// and encodes each as a token request, using all cores.
func benchTokenForms(b *testing.B, h *harness, clientID string, n int) []string {
	b.Helper()
	adr := h.eco.ADRs[0]
	forms := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				a, err := adr.ClientAssertion(clientID, testIssuer, jwa.ES256)
				if err != nil {
					failed.Store(err)
					return
				}
				forms[i] = url.Values{
					"grant_type":            {"client_credentials"},
					"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
					"client_assertion":      {a},
				}.Encode()
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	return forms
}

// benchDo sends req and drains the body so the connection is reused.
func benchDo(b *testing.B, c *http.Client, req *http.Request) int {
	resp, err := c.Do(req)
	if err != nil {
		b.Error(err)
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func benchPostToken(b *testing.B, c *http.Client, base, form string) int {
	req, err := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader(form))
	if err != nil {
		b.Error(err) // not Fatal: this runs on RunParallel's goroutines
		return 0
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return benchDo(b, c, req)
}

// BenchmarkToken is POST /token end to end: loopback HTTP, the real Gin engine,
// a real SQLite file with synchronous=FULL (each token consumes its assertion's
// jti, touches the client and appends an audit event in one transaction), a warm
// ADR JWKS cache, 16 callers per core, every assertion distinct and signed
// before the timer.
//
//	go test ./web -run '^$' -bench 'BenchmarkToken|BenchmarkGetRegistration' -benchtime 5000x
func BenchmarkToken(b *testing.B) {
	h, srv, client, clientID := benchClientFixture(b)
	forms := benchTokenForms(b, h, clientID, b.N+1)
	// Warm the JWKS cache and a connection.
	if status := benchPostToken(b, client, srv.URL, forms[b.N]); status != http.StatusOK {
		b.Fatalf("warm-up token: %d", status)
	}
	var next, failures atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if benchPostToken(b, client, srv.URL, forms[next.Add(1)-1]) != http.StatusOK {
				failures.Add(1)
			}
		}
	})
	b.StopTimer()
	if f := failures.Load(); f > 0 {
		b.Fatalf("%d of %d token requests failed", f, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkGetRegistration is GET /register/{id} end to end with one access
// token: loopback HTTP, token verification, the client lookup in SQLite and the
// registration.read audit event (a write per request), 16 callers per core.
//
//	go test ./web -run '^$' -bench 'BenchmarkToken|BenchmarkGetRegistration' -benchtime 5000x
func BenchmarkGetRegistration(b *testing.B) {
	h, srv, client, clientID := benchClientFixture(b)
	forms := benchTokenForms(b, h, clientID, 1)
	r := h.do(http.MethodPost, "/token", "application/x-www-form-urlencoded", forms[0], nil)
	if r.status != http.StatusOK {
		b.Fatalf("token: %d %s", r.status, r.body)
	}
	authorization := "Bearer " + r.json["access_token"].(string)
	get := func() int {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/register/"+clientID, nil)
		if err != nil {
			b.Error(err)
			return 0
		}
		req.Header.Set("Authorization", authorization)
		return benchDo(b, client, req)
	}
	if status := get(); status != http.StatusOK {
		b.Fatalf("warm-up GET: %d", status)
	}
	var failures atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if get() != http.StatusOK {
				failures.Add(1)
			}
		}
	})
	b.StopTimer()
	if f := failures.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
