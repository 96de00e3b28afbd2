package fetch

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func tlsServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *x509.CertPool) {
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv, pool
}

func TestFetcherPolicy(t *testing.T) {
	srv, pool := tlsServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
		case "/slow":
			time.Sleep(500 * time.Millisecond)
		case "/to-http":
			http.Redirect(w, r, "http://127.0.0.1:1/x", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			_, _ = w.Write([]byte(`{"ok":true}`))
		}
	})
	guarded, err := NewFetcher(Options{RootCAs: pool, Timeout: 200 * time.Millisecond, MaxBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	open, err := NewFetcher(Options{RootCAs: pool, Timeout: 200 * time.Millisecond, MaxBytes: 4096, AllowPrivateNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "https://"))
	tests := []struct {
		name    string
		f       *Fetcher
		url     string
		wantErr string
	}{
		{"loopback refused by the SSRF guard", guarded, srv.URL + "/", "not a public address"},
		{"metadata address refused", guarded, "https://169.254.169.254/latest", "not a public address"},
		{"IPv4-compatible loopback refused", guarded, "https://[::7f00:1]:" + port + "/", "not a public address"},
		{"local-use NAT64 refused", guarded, "https://[64:ff9b:1::7f00:1]:" + port + "/", "not a public address"},
		{"site-local refused", guarded, "https://[fec0::1]:" + port + "/", "not a public address"},
		{"a name is checked on the address it resolves to", guarded, "https://localhost:" + port + "/", "not a public address"},
		{"allowed when private networks are allowed", open, srv.URL + "/", ""},
		{"http refused", open, "http://127.0.0.1/", "https only"},
		{"file refused", open, "file:///etc/passwd", "https only"},
		{"user info refused", open, "https://user:pw@127.0.0.1/", "no user info"},
		{"body too large", open, srv.URL + "/big", "the answer exceeded the limit of 4096 bytes"},
		{"timeout", open, srv.URL + "/slow", "Client.Timeout"},
		{"redirect to http refused", open, srv.URL + "/to-http", "https only"},
		{"redirect loop bounded", open, srv.URL + "/loop", "too many redirects"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.f.Get(ctx, tc.url, nil)
			if tc.wantErr == "" {
				if err != nil || resp.StatusCode != 200 || string(resp.Body) != `{"ok":true}` {
					t.Fatalf("got %v %v", resp, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
	if _, err := guarded.Get(ctx, srv.URL, nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("SSRF refusal is not ErrForbiddenAddress: %v", err)
	}
}

func TestFetcherRejectsUnknownCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	f, err := NewFetcher(Options{AllowPrivateNetworks: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(context.Background(), srv.URL, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("want a certificate error, got %v", err)
	}
}

// TestFetcherWithLimit: a Fetcher derived for the Register accepts what the
// ADR limit refuses, and each names its own key when an answer is too big,
// whether the size is announced (Content-Length) or only found by reading.
func TestFetcherWithLimit(t *testing.T) {
	body := strings.Repeat("x", 5000)
	srv, pool := tlsServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length: the size is found by reading
		}
		_, _ = w.Write([]byte(body))
	})
	adr, err := NewFetcher(Options{RootCAs: pool, AllowPrivateNetworks: true, MaxBytes: 4096, LimitName: "outbound.max_response_bytes"})
	if err != nil {
		t.Fatal(err)
	}
	register := adr.WithLimit(8192, "register.max_response_bytes")
	small := adr.WithLimit(1024, "register.max_response_bytes")
	tests := []struct {
		name    string
		f       *Fetcher
		path    string
		wantErr string
	}{
		{"ADR limit, announced size", adr, "/", "the answer exceeded outbound.max_response_bytes (4096 bytes)"},
		{"ADR limit, read size", adr, "/chunked", "the answer exceeded outbound.max_response_bytes (4096 bytes)"},
		{"Register limit accepts it", register, "/", ""},
		{"Register limit accepts it chunked", register, "/chunked", ""},
		{"Register limit, announced size", small, "/", "the answer exceeded register.max_response_bytes (1024 bytes)"},
		{"Register limit, read size", small, "/chunked", "the answer exceeded register.max_response_bytes (1024 bytes)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.f.Get(context.Background(), srv.URL+tc.path, nil)
			if tc.wantErr == "" {
				if err != nil || len(resp.Body) != len(body) {
					t.Fatalf("got %v %v", resp, err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr || !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v, want %q (and ErrTooLarge)", err, tc.wantErr)
			}
		})
	}
}
