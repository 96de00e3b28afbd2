package fetch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/jose/josetest"
)

// perPathJWKSServer answers every path with a JWKS of its own: one RSA key
// whose kid is the path, so that each uri is a distinct set in the cache.
func perPathJWKSServer(tb testing.TB) *httptest.Server {
	srv, _ := countingPerPathJWKSServer(tb)
	return srv
}

// countingPerPathJWKSServer is perPathJWKSServer counting the requests it answers.
func countingPerPathJWKSServer(tb testing.TB) (*httptest.Server, *atomic.Int64) {
	template := josetest.JWKS(jwksTestPublicJWK(tb, 0, "KID"))
	var requests atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(strings.Replace(template, `"KID"`, `"`+r.URL.Path+`"`, 1)))
	}))
	tb.Cleanup(srv.Close)
	return srv, &requests
}

// manyURIs returns n distinct JWKS uris on srv with the kid each one serves.
func manyURIs(srv *httptest.Server, n int) (uris, kids []string) {
	uris, kids = make([]string, n), make([]string, n)
	for i := range n {
		kids[i] = fmt.Sprintf("/adr/%d/jwks", i)
		uris[i] = srv.URL + kids[i]
	}
	return uris, kids
}

// BenchmarkJWKSKeyManyURIs looks keys up across 1,000 to 30,000 distinct uris,
// all prefetched and within the cache bound: the cost must not grow with the
// number of uris.
func BenchmarkJWKSKeyManyURIs(b *testing.B) {
	srv := perPathJWKSServer(b)
	for _, n := range []int{1_000, 10_000, 30_000} {
		c, uris, kids := prefetchedCache(b, srv, n, n)
		b.Run(fmt.Sprintf("uris=%d", n), func(b *testing.B) {
			benchmarkKeysAcross(b, c, uris, kids)
		})
	}
}

// BenchmarkJWKSKeyEviction looks keys up across n uris with a cache bound of
// n/2, so about every other lookup fetches its set again and evicts one: the
// cost per lookup must not grow with the bound either.
func BenchmarkJWKSKeyEviction(b *testing.B) {
	srv := perPathJWKSServer(b)
	for _, n := range []int{1_000, 10_000, 30_000} {
		c, uris, kids := prefetchedCache(b, srv, n, n/2)
		b.Run(fmt.Sprintf("uris=%d/bound=%d", n, n/2), func(b *testing.B) {
			benchmarkKeysAcross(b, c, uris, kids)
		})
	}
}

// prefetchedCache returns a cache bounded to bound uris that has fetched
// each of n uris once, set up outside the timed sub-benchmark so that it is
// built once, not once per b.N round.
func prefetchedCache(b *testing.B, srv *httptest.Server, n, bound int) (*JWKSCache, []string, []string) {
	c := NewJWKSCache(fetcherForTestServer(b, srv), time.Hour, nil)
	c.maxEntries = bound
	uris, kids := manyURIs(srv, n)
	for i := range n {
		mustJWKSKey(b, c, uris[i], kids[i])
	}
	return c, uris, kids
}

func benchmarkKeysAcross(b *testing.B, c *JWKSCache, uris, kids []string) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := rand.IntN(len(uris))
			if _, err := c.Key(ctx, uris[i], kids[i]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
