package fetch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Observer hears of every request a Fetcher made for a target (see Observed):
// its result, one of the Result constants, and how long it took.
type Observer func(target, result string, took time.Duration)

// The results an Observer hears: a closed set.
const (
	ResultOK        = "ok"         // an answer with status 2xx or 304
	ResultHTTPError = "http_error" // an answer with another status
	ResultTimeout   = "timeout"    // outbound.timeout or the caller's deadline passed
	ResultRefused   = "refused"    // the SSRF guard refused the address
	ResultTooLarge  = "too_large"  // the answer exceeded the fetcher's limit
	ResultError     = "error"      // anything else: DNS, connection, TLS, reading, the URL
)

// Observed returns a Fetcher that shares f's connections, limits and guard and
// tells observe of each of its requests as target (a closed set chosen by the
// caller: "register", "adr_jwks"...). A nil observe returns f itself.
func (f *Fetcher) Observed(target string, observe Observer) *Fetcher {
	if observe == nil {
		return f
	}
	g := *f
	g.target, g.observe = target, observe
	return &g
}

// observedGet is Get, told to the observer.
func (f *Fetcher) observedGet(ctx context.Context, rawURL string, header http.Header) (*Response, error) {
	start := time.Now()
	resp, err := f.get(ctx, rawURL, header)
	f.observe(f.target, Result(resp, err), time.Since(start))
	return resp, err
}

// Result classifies the outcome of Get.
func Result(resp *Response, err error) string {
	var ne net.Error
	switch {
	case err == nil && (resp.StatusCode/100 == 2 || resp.StatusCode == http.StatusNotModified):
		return ResultOK
	case err == nil:
		return ResultHTTPError
	case errors.Is(err, ErrTooLarge):
		return ResultTooLarge
	case errors.Is(err, ErrForbiddenAddress):
		return ResultRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ResultTimeout
	}
	return ResultError
}
