package fetch

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestObservedFetcherReportsEachResult: an observed fetcher tells its target and
// the class of every result; WithLimit keeps the observer; an unobserved one is
// the same fetcher.
func TestObservedFetcherReportsEachResult(t *testing.T) {
	srv, pool := tlsServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
		case "/slow":
			time.Sleep(500 * time.Millisecond)
		case "/missing":
			http.NotFound(w, r)
		default:
			_, _ = w.Write([]byte(`{"ok":true}`))
		}
	})
	opts := Options{RootCAs: pool, Timeout: 200 * time.Millisecond, MaxBytes: 4096}
	guarded, err := NewFetcher(opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.AllowPrivateNetworks = true
	open, err := NewFetcher(opts)
	if err != nil {
		t.Fatal(err)
	}
	if open.Observed("x", nil) != open {
		t.Error("Observed without an observer made a new fetcher")
	}
	var mu sync.Mutex
	var heard []string
	observe := func(target, result string, took time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		heard = append(heard, target+" "+result)
	}
	tests := []struct {
		name, path, want string
		f                *Fetcher
	}{
		{"ok", "/", "ok", open.Observed("t", observe)},
		{"another status", "/missing", "http_error", open.Observed("t", observe)},
		{"too large", "/big", "too_large", open.Observed("t", observe)},
		{"timeout", "/slow", "timeout", open.Observed("t", observe)},
		{"refused by the guard", "/", "refused", guarded.Observed("t", observe)},
		{"a larger limit keeps the observer", "/big", "ok", open.Observed("t", observe).WithLimit(1<<20, "x")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			heard = nil
			mu.Unlock()
			_, _ = tc.f.Get(context.Background(), srv.URL+tc.path, nil)
			mu.Lock()
			defer mu.Unlock()
			if len(heard) != 1 || heard[0] != "t "+tc.want {
				t.Fatalf("heard %q, want [t %s]", heard, tc.want)
			}
		})
	}
}
