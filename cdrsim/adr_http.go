package cdrsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// logoSVG is served for every logo URI.
const logoSVG = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" rx="12" fill="#2b6cb0"/></svg>`

// handler returns the ADR's HTTP handler.
func (a *ADR) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", a.serveJWKS)
	mux.HandleFunc("GET /adr/{product}/jwks", a.serveJWKS)
	mux.HandleFunc("GET /sector-identifier", a.serveSectorIdentifier)
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, ".svg") {
			w.Header().Set("Content-Type", "image/svg+xml")
			_, _ = w.Write([]byte(logoSVG))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprintf(w, "cdrsim ADR %s: %s %s\n", a.name, req.Method, req.URL.Path)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		a.requests.add(req.URL.Path)
		a.mu.RLock()
		delay := a.delay
		a.mu.RUnlock()
		if !a.srv.sleep(req, delay) {
			return
		}
		mux.ServeHTTP(w, req)
	})
}

// serveJWKS answers the ADR's public keys, an empty set, or 503.
func (a *ADR) serveJWKS(w http.ResponseWriter, req *http.Request) {
	a.mu.RLock()
	body, down, empty := withExtraKeys(a.jwks, a.extraJWKs), a.jwksDown, a.jwksEmpty
	a.mu.RUnlock()
	switch {
	case down:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "jwks unavailable"})
	case empty:
		writeCacheableJSON(w, req, json.RawMessage(`{"keys":[]}`))
	default:
		writeCacheableJSON(w, req, json.RawMessage(body))
	}
}

// serveSectorIdentifier answers the redirect URI list with the configured
// status (a JSON error body for non-2xx statuses).
func (a *ADR) serveSectorIdentifier(w http.ResponseWriter, req *http.Request) {
	a.mu.RLock()
	status, uris := a.sectorStatus, slices.Clone(a.sectorURIs)
	a.mu.RUnlock()
	if uris == nil {
		uris = []string{}
	}
	switch {
	case status >= 200 && status < 300:
		writeJSON(w, status, uris)
	default:
		writeJSON(w, status, map[string]string{"error": http.StatusText(status)})
	}
}
