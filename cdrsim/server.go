package cdrsim

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// tlsServer is an HTTPS server on an ephemeral 127.0.0.1 port.
type tlsServer struct {
	ln   net.Listener
	cfg  *tls.Config
	url  string
	quit chan struct{} // closed by close

	mu     sync.Mutex
	srv    *http.Server
	closed bool
}

// newServer listens on an ephemeral 127.0.0.1 port; serve starts serving.
// The certificate, from ca, is for 127.0.0.1 and localhost.
func newServer(ca *CA) (*tlsServer, error) {
	if ca == nil {
		return nil, errors.New("cdrsim: nil CA")
	}
	cfg, err := ca.ServerTLSConfig("127.0.0.1", "localhost")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("cdrsim: listen: %w", err)
	}
	return &tlsServer{
		ln:   ln,
		cfg:  cfg,
		url:  "https://" + ln.Addr().String(),
		quit: make(chan struct{}),
	}, nil
}

// serve starts serving h in the background. TLS handshake and connection
// errors are discarded: hostile tests provoke them on purpose.
func (s *tlsServer) serve(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.srv = &http.Server{
		Handler:           h,
		TLSConfig:         s.cfg,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	srv := s.srv
	go func() {
		// ServeTLS returns once the server is closed.
		_ = srv.ServeTLS(s.ln, "", "")
	}()
}

// close stops the server and closes every connection. It is idempotent.
func (s *tlsServer) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.quit)
	if s.srv != nil {
		_ = s.srv.Close() // also closes the listener
		return
	}
	_ = s.ln.Close()
}

// sleep waits for d, or less when the request is cancelled or the server
// closes. It reports whether the full delay elapsed.
func (s *tlsServer) sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.quit:
		return false
	}
}

// requestCounter counts requests by URL path.
type requestCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *requestCounter) add(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = make(map[string]int)
	}
	c.counts[path]++
}

func (c *requestCounter) get(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[path]
}

// etagOf returns a strong entity tag for body.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// etagMatches applies the weak comparison If-None-Match requires (RFC 9110
// section 13.1.2) to the header value and etag.
func etagMatches(ifNoneMatch, etag string) bool {
	for _, candidate := range strings.Split(ifNoneMatch, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" || strings.TrimPrefix(candidate, "W/") == etag {
			return true
		}
	}
	return false
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "cdrsim: encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeCacheableJSON writes v as JSON with a strong ETag, answering 304 Not
// Modified when the request's If-None-Match matches it.
func writeCacheableJSON(w http.ResponseWriter, r *http.Request, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "cdrsim: encode response", http.StatusInternalServerError)
		return
	}
	etag := etagOf(body)
	w.Header().Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// cdsError is one entry of a Consumer Data Standards error response.
type cdsError struct {
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// writeCDSError writes {"errors":[{code,title,detail}]} with status.
func writeCDSError(w http.ResponseWriter, status int, code, title, detail string) {
	writeJSON(w, status, map[string][]cdsError{"errors": {{Code: code, Title: title, Detail: detail}}})
}

// CDS error codes used by the simulated Register.
const (
	errCodeUnsupportedVersion = "urn:au-cds:error:cds-all:Header/UnsupportedVersion"
	errCodeInvalidVersion     = "urn:au-cds:error:cds-all:Header/InvalidVersion"
	errCodeNotFound           = "urn:au-cds:error:cds-all:Resource/NotFound"
	errCodeUnavailable        = "urn:au-cds:error:cds-all:Service/Unavailable"
	errCodeExpected           = "urn:au-cds:error:cds-all:GeneralError/Expected"
)
