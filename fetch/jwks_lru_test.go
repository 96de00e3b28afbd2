package fetch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/jose/josetest"
)

func cached(c *JWKSCache, uri string) bool {
	_, _, _, ok := c.Snapshot(uri)
	return ok
}

func TestJWKSEvictionOrderAtBound(t *testing.T) {
	srv, requests := countingPerPathJWKSServer(t)
	c := NewJWKSCache(fetcherForTestServer(t, srv), time.Hour, nil)
	clock := newManualClock()
	c.now = clock.Now
	c.maxEntries = 3
	uris, kids := manyURIs(srv, 6)
	use := func(i int) {
		t.Helper()
		mustJWKSKey(t, c, uris[i], kids[i])
		clock.Advance(time.Second)
	}
	use(0)
	use(1)
	use(2)
	use(0)              // order, most recent first: 0 2 1
	c.Snapshot(uris[1]) // reading for the console does not count as a use
	use(3)              // evicts 1
	if cached(c, uris[1]) {
		t.Fatal("uri 1, the least recently used, was not evicted")
	}
	use(4) // evicts 2
	if cached(c, uris[2]) {
		t.Fatal("uri 2 was not evicted second")
	}
	for _, i := range []int{0, 3, 4} {
		if !cached(c, uris[i]) {
			t.Fatalf("uri %d was evicted", i)
		}
	}
	use(0) // order: 0 4 3
	use(5) // evicts 3
	if cached(c, uris[3]) || !cached(c, uris[0]) || !cached(c, uris[4]) {
		t.Fatal("the uri used again was evicted instead of the least recent one")
	}
	if n := requests.Load(); n != 6 {
		t.Fatalf("requests = %d, want 6 (one per uri, cached uris not fetched again)", n)
	}
	use(1) // evicted earlier: fetched again
	if n := requests.Load(); n != 7 {
		t.Fatalf("requests = %d, want 7 after using an evicted uri", n)
	}
	checkLRUConsistent(t, c)
}

// TestJWKSConcurrentFirstSights looks up many new uris from many goroutines at
// once: each uri is fetched once when the bound holds them all, the bound is
// never exceeded when it does not, and every lookup succeeds in both cases.
func TestJWKSConcurrentFirstSights(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bound int
	}{{"within bound", 1000}, {"evicting", 37}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, requests := countingPerPathJWKSServer(t)
			c := NewJWKSCache(fetcherForTestServer(t, srv), time.Hour, nil)
			c.maxEntries = tc.bound
			uris, kids := manyURIs(srv, 300)
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for j := range uris {
						i := (j*7 + g*31) % len(uris) // each goroutine in its own order
						if _, err := c.Key(context.Background(), uris[i], kids[i]); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			if n := requests.Load(); tc.bound >= len(uris) && n != int64(len(uris)) {
				t.Fatalf("requests = %d, want %d (one per uri)", n, len(uris))
			}
			if n := checkLRUConsistent(t, c); n > tc.bound {
				t.Fatalf("%d entries cached, bound %d", n, tc.bound)
			}
		})
	}
}

// checkLRUConsistent checks that the map and the list hold the same entries,
// correctly linked, and returns how many.
func checkLRUConsistent(t *testing.T, c *JWKSCache) int {
	t.Helper()
	c.lru.mu.Lock()
	defer c.lru.mu.Unlock()
	listed := 0
	for e := c.lru.root.next; e != &c.lru.root; e = e.next {
		if e.next.prev != e {
			t.Fatalf("broken link after %s", e.uri)
		}
		if c.lookup(e.uri) != e {
			t.Fatalf("listed entry %s is not the one in the map", e.uri)
		}
		listed++
	}
	mapped := 0
	c.entries.Range(func(_, _ any) bool { mapped++; return true })
	if listed != mapped || listed != c.lru.len {
		t.Fatalf("list %d entries, map %d, len %d", listed, mapped, c.lru.len)
	}
	return listed
}

// TestJWKSEntryEvictedDuringFetch: a uri evicted while its fetch runs and
// looked up again joins that fetch, and its new entry takes the outcome.
func TestJWKSEntryEvictedDuringFetch(t *testing.T) {
	gate := make(chan struct{})
	arrived := make(chan struct{}, 1)
	body := josetest.JWKS(jwksTestPublicJWK(t, 0, "r1"))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-gate
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c := NewJWKSCache(fetcherForTestServer(t, srv), time.Hour, nil)
	c.maxEntries = 1
	a, b := srv.URL+"/a", srv.URL+"/b"
	first := make(chan error, 1)
	go func() {
		_, err := c.Key(context.Background(), a, "r1")
		first <- err
	}()
	<-arrived // a's fetch is running and waits on gate
	now := c.now()
	evicted := c.lookup(a)
	c.entry(b, now) // evicts a
	again := c.entry(a, now)
	if again == evicted {
		t.Fatal("a was not evicted")
	}
	ch := c.startFetch(context.Background(), again, nil, true) // joins the running fetch
	close(gate)
	if err := again.adopt(<-ch); err != nil {
		t.Fatal(err)
	}
	if !again.state.Load().hasCopy() {
		t.Fatal("the new entry did not take the outcome of the fetch it joined")
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	mustJWKSKey(t, c, a, "r1") // served from the adopted copy, no new request
	if len(arrived) != 0 {
		t.Fatal("a was fetched again")
	}
}
