// Package fetch owns every outbound request the holder makes: the guarded
// Fetcher (https only, public addresses only unless allowed, bounded size and
// time, the operator's CA bundle) and the JWKS cache built on it, which fetches,
// filters (by jose's key policy), caches and refreshes the public keys of the
// Register and of data recipients, and verifies JWTs with them. It knows
// nothing of DCR: what a failed fetch means for a registration is package dcr's call.
package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"syscall"
	"time"
)

// Options bound every outbound request.
type Options struct {
	Timeout  time.Duration // whole request, redirects included
	MaxBytes int64         // largest body read; a larger one is an error
	// LimitName is the configuration key of MaxBytes, named in the error of an
	// answer that exceeds it so an operator knows which setting to change.
	LimitName string
	// RootCAs are the trusted roots; nil means the system roots (plus ExtraCAPEM).
	RootCAs *x509.CertPool
	// ExtraCAPEM are PEM roots added to the system roots (outbound.ca_file).
	ExtraCAPEM []byte
	// AllowPrivateNetworks lets fetches reach any address, not only the globally
	// routable unicast ones PublicAddress accepts (tests, demo, and on-prem
	// Register mirrors). Off in production.
	AllowPrivateNetworks bool
	// AllowHTTP permits plain http URLs; only the demo and tests set it.
	AllowHTTP bool
}

// Fetcher makes bounded, SSRF-guarded GET requests to URLs that come from
// configuration or, more dangerously, from SSAs (jwks_uri, sector_identifier_uri).
type Fetcher struct {
	client *http.Client
	opts   Options
	// target and observe report each request (observe.go); nil observe: none.
	target  string
	observe Observer
}

// Response is a fetched document.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// ErrForbiddenAddress is returned when a URL resolves to an address the SSRF guard refuses.
var ErrForbiddenAddress = errors.New("address not allowed")

// ErrTooLarge is returned when a response body exceeds Options.MaxBytes.
// The error returned is a *TooLargeError; errors.Is(err, ErrTooLarge) holds.
var ErrTooLarge = errors.New("response too large")

// TooLargeError is an answer bigger than the fetcher's limit.
type TooLargeError struct {
	Limit     int64  // Options.MaxBytes
	LimitName string // Options.LimitName
}

func (e *TooLargeError) Error() string {
	if e.LimitName == "" {
		return fmt.Sprintf("the answer exceeded the limit of %d bytes", e.Limit)
	}
	return fmt.Sprintf("the answer exceeded %s (%d bytes)", e.LimitName, e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// NewFetcher builds a Fetcher.
func NewFetcher(opts Options) (*Fetcher, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 1 << 20
	}
	roots := opts.RootCAs
	if roots == nil {
		sys, err := x509.SystemCertPool()
		if err != nil || sys == nil {
			sys = x509.NewCertPool()
		}
		roots = sys
	}
	if len(opts.ExtraCAPEM) > 0 {
		roots = roots.Clone()
		if !roots.AppendCertsFromPEM(opts.ExtraCAPEM) {
			return nil, errors.New("outbound.ca_file: no PEM certificate found")
		}
	}
	f := &Fetcher{opts: opts}
	dialer := &net.Dialer{
		Timeout:   opts.Timeout,
		KeepAlive: 30 * time.Second,
		// Control runs on the resolved address of every connection, redirects
		// included, so DNS rebinding and redirect tricks cannot slip past it.
		Control: func(network, address string, _ syscall.RawConn) error {
			return f.checkAddress(address)
		},
	}
	transport := &http.Transport{
		Proxy:                  nil, // never send SSA-chosen URLs through an ambient proxy
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    opts.Timeout,
		ResponseHeaderTimeout:  opts.Timeout,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    8,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
	}
	f.client = &http.Client{
		Transport: transport,
		Timeout:   opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			return f.checkScheme(req.URL)
		},
	}
	return f, nil
}

// WithLimit returns a Fetcher that shares f's connections, timeouts and SSRF
// guard but accepts answers up to maxBytes, named limitName in errors: the
// CDR Register's answers grow with the ecosystem and are bounded separately
// from documents at URLs an ADR controls.
func (f *Fetcher) WithLimit(maxBytes int64, limitName string) *Fetcher {
	g := *f
	g.opts.MaxBytes, g.opts.LimitName = maxBytes, limitName
	if g.opts.MaxBytes <= 0 {
		g.opts.MaxBytes = f.opts.MaxBytes
	}
	return &g
}

func (f *Fetcher) checkScheme(u *url.URL) error {
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && f.opts.AllowHTTP:
	default:
		return fmt.Errorf("scheme %q not allowed (https only)", u.Scheme)
	}
	if u.Host == "" || u.User != nil {
		return errors.New("URL must have a host and no user info")
	}
	return nil
}

func (f *Fetcher) checkAddress(hostport string) error {
	if f.opts.AllowPrivateNetworks {
		return nil
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return err
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, host)
	}
	if !PublicAddress(addr) {
		return fmt.Errorf("%w: %s is not a public address", ErrForbiddenAddress, addr)
	}
	return nil
}

// Get fetches rawURL with extra headers. Any status is returned as a Response;
// errors are transport, policy or size failures.
func (f *Fetcher) Get(ctx context.Context, rawURL string, header http.Header) (*Response, error) {
	if f.observe != nil {
		return f.observedGet(ctx, rawURL, header)
	}
	return f.get(ctx, rawURL, header)
}

func (f *Fetcher) get(ctx context.Context, rawURL string, header http.Header) (*Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("invalid URL: %w", err)
	}
	if err := f.checkScheme(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", "dcrconsole")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	tooLarge := &TooLargeError{Limit: f.opts.MaxBytes, LimitName: f.opts.LimitName}
	if resp.ContentLength > f.opts.MaxBytes { // refused before reading any of it
		return nil, tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > f.opts.MaxBytes {
		return nil, tooLarge
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// LoadCAFile reads outbound.ca_file ("" gives nil).
func LoadCAFile(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("outbound.ca_file: %w", err)
	}
	return b, nil
}
