package dcr

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestPublicAddress(t *testing.T) {
	tests := map[string]bool{
		"8.8.8.8":            true,
		"203.0.114.1":        true,
		"2606:4700::1111":    true,
		"127.0.0.1":          false,
		"127.1.2.3":          false,
		"::1":                false,
		"10.0.0.1":           false,
		"172.16.5.4":         false,
		"192.168.1.1":        false,
		"169.254.169.254":    false, // cloud metadata
		"fd00:ec2::254":      false, // AWS IPv6 metadata (ULA)
		"fe80::1":            false,
		"100.64.0.1":         false,
		"0.0.0.0":            false,
		"::":                 false,
		"::ffff:127.0.0.1":   false, // IPv4-mapped loopback
		"::ffff:169.254.1.1": false,
		"64:ff9b::a9fe:a9fe": false, // NAT64 of 169.254.169.254
		"2002:a9fe:a9fe::1":  false, // 6to4 of 169.254.169.254
		"224.0.0.1":          false,
		"255.255.255.255":    false,
		"198.18.0.1":         false,
	}
	for addr, want := range tests {
		if got := PublicAddress(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PublicAddress(%s) = %v, want %v", addr, got, want)
		}
	}
}

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
	guarded, err := NewFetcher(FetchOptions{RootCAs: pool, Timeout: 200 * time.Millisecond, MaxBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	open, err := NewFetcher(FetchOptions{RootCAs: pool, Timeout: 200 * time.Millisecond, MaxBytes: 4096, AllowPrivateNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name    string
		f       *Fetcher
		url     string
		wantErr string
	}{
		{"loopback refused by the SSRF guard", guarded, srv.URL + "/", "not a public address"},
		{"metadata address refused", guarded, "https://169.254.169.254/latest", "not a public address"},
		{"allowed when private networks are allowed", open, srv.URL + "/", ""},
		{"http refused", open, "http://127.0.0.1/", "https only"},
		{"file refused", open, "file:///etc/passwd", "https only"},
		{"user info refused", open, "https://user:pw@127.0.0.1/", "no user info"},
		{"body too large", open, srv.URL + "/big", "too large"},
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
	f, err := NewFetcher(FetchOptions{AllowPrivateNetworks: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(context.Background(), srv.URL, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("want a certificate error, got %v", err)
	}
}
