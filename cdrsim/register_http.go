package cdrsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// industries are the accepted values of the {industry} path segment.
var industries = []string{"all", "banking", "energy", "telco"}

// Versions (x-v) served by each data endpoint.
var (
	dataRecipientsVersions = []int{3, 4}
	statusVersions         = []int{3}
)

// handler returns the Register's HTTP handler: request counting, the
// configured delay and outage, then routing.
func (r *Register) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cdr-register/v1/jwks", r.serveJWKS)
	mux.HandleFunc("GET /cdr-register/v1/{industry}/data-recipients", r.serveDataRecipients)
	mux.HandleFunc("GET /cdr-register/v1/{industry}/data-recipients/status", r.serveLegalEntityStatuses)
	mux.HandleFunc("GET /cdr-register/v1/{industry}/data-recipients/brands/software-products/status", r.serveProductStatuses)
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		writeCDSError(w, http.StatusNotFound, errCodeNotFound, "Resource Not Found",
			fmt.Sprintf("No resource at %s", req.URL.Path))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.add(req.URL.Path)
		r.mu.RLock()
		delay, down := r.delay, r.down
		r.mu.RUnlock()
		if !r.srv.sleep(req, delay) {
			return
		}
		if down {
			writeCDSError(w, http.StatusServiceUnavailable, errCodeUnavailable, "Service Unavailable",
				"The simulated CDR Register is down")
			return
		}
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeCDSError(w, http.StatusMethodNotAllowed, errCodeExpected, "Method Not Allowed",
				fmt.Sprintf("Method %s is not allowed", req.Method))
			return
		}
		mux.ServeHTTP(w, req)
	})
}

// serveJWKS answers the SSA signing keys.
func (r *Register) serveJWKS(w http.ResponseWriter, req *http.Request) {
	r.mu.RLock()
	body := withExtraKeys(r.jwks, r.extraJWKs)
	r.mu.RUnlock()
	writeCacheableJSON(w, req, json.RawMessage(body))
}

// serveDataRecipients answers every legal entity with its brands and products.
func (r *Register) serveDataRecipients(w http.ResponseWriter, req *http.Request) {
	if !checkIndustry(w, req) {
		return
	}
	if _, ok := negotiateVersion(w, req, dataRecipientsVersions); !ok {
		return
	}
	r.mu.RLock()
	data := make([]legalEntityJSON, 0, len(r.entities))
	for _, le := range r.entities {
		lj := legalEntityJSON{
			LegalEntityID:       le.ID,
			LegalEntityName:     le.Name,
			AccreditationNumber: le.AccreditationNumber,
			AccreditationLevel:  le.AccreditationLevel,
			LogoURI:             le.LogoURI,
			DataRecipientBrands: make([]brandJSON, 0, len(le.Brands)),
			Status:              le.Status,
			LastUpdated:         r.updated[le.ID].UTC().Format(time.RFC3339),
		}
		for _, b := range le.Brands {
			bj := brandJSON{
				DataRecipientBrandID: b.ID,
				BrandName:            b.Name,
				LogoURI:              b.LogoURI,
				SoftwareProducts:     make([]softwareProductJSON, 0, len(b.Products)),
				Status:               b.Status,
			}
			for _, p := range b.Products {
				bj.SoftwareProducts = append(bj.SoftwareProducts, softwareProductJSON{
					SoftwareProductID:          p.ID,
					SoftwareProductName:        p.Name,
					SoftwareProductDescription: p.Description,
					LogoURI:                    p.LogoURI,
					Status:                     p.Status,
				})
			}
			lj.DataRecipientBrands = append(lj.DataRecipientBrands, bj)
		}
		data = append(data, lj)
	}
	r.mu.RUnlock()
	writeCacheableJSON(w, req, r.envelope(req, data))
}

// serveLegalEntityStatuses answers {legalEntityId, status} for every legal
// entity.
func (r *Register) serveLegalEntityStatuses(w http.ResponseWriter, req *http.Request) {
	if !checkIndustry(w, req) {
		return
	}
	if _, ok := negotiateVersion(w, req, statusVersions); !ok {
		return
	}
	r.mu.RLock()
	data := make([]legalEntityStatusJSON, 0, len(r.entities))
	for _, le := range r.entities {
		data = append(data, legalEntityStatusJSON{LegalEntityID: le.ID, Status: le.Status})
	}
	r.mu.RUnlock()
	writeCacheableJSON(w, req, r.envelope(req, data))
}

// serveProductStatuses answers {softwareProductId, status} for every
// software product.
func (r *Register) serveProductStatuses(w http.ResponseWriter, req *http.Request) {
	if !checkIndustry(w, req) {
		return
	}
	if _, ok := negotiateVersion(w, req, statusVersions); !ok {
		return
	}
	r.mu.RLock()
	data := make([]productStatusJSON, 0)
	for _, le := range r.entities {
		for _, b := range le.Brands {
			for _, p := range b.Products {
				data = append(data, productStatusJSON{SoftwareProductID: p.ID, Status: p.Status})
			}
		}
	}
	r.mu.RUnlock()
	writeCacheableJSON(w, req, r.envelope(req, data))
}

// envelope wraps data with links.self and an empty meta.
func (r *Register) envelope(req *http.Request, data any) envelope {
	return envelope{Data: data, Links: linksJSON{Self: r.srv.url + req.URL.RequestURI()}, Meta: map[string]any{}}
}

// checkIndustry answers 404 unless the {industry} segment is known.
func checkIndustry(w http.ResponseWriter, req *http.Request) bool {
	if slices.Contains(industries, req.PathValue("industry")) {
		return true
	}
	writeCDSError(w, http.StatusNotFound, errCodeNotFound, "Resource Not Found",
		fmt.Sprintf("Unknown industry %q; use one of %s", req.PathValue("industry"), strings.Join(industries, ", ")))
	return false
}

// negotiateVersion picks the endpoint version to serve following the CDS
// rules: no x-v means the newest supported; otherwise the highest supported
// version between x-min-v (when present and not above x-v) and x-v. It sets
// the x-v response header, or answers 400 for a malformed header and 406 when
// no supported version fits.
func negotiateVersion(w http.ResponseWriter, req *http.Request, supported []int) (int, bool) {
	newest := slices.Max(supported)
	raw := strings.TrimSpace(req.Header.Get("x-v"))
	if raw == "" {
		w.Header().Set("x-v", strconv.Itoa(newest))
		return newest, true
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < 1 {
		writeCDSError(w, http.StatusBadRequest, errCodeInvalidVersion, "Invalid Version",
			fmt.Sprintf("x-v %q is not a positive integer", raw))
		return 0, false
	}
	lowest := v
	if rawMin := strings.TrimSpace(req.Header.Get("x-min-v")); rawMin != "" {
		m, err := strconv.Atoi(rawMin)
		if err != nil || m < 1 {
			writeCDSError(w, http.StatusBadRequest, errCodeInvalidVersion, "Invalid Version",
				fmt.Sprintf("x-min-v %q is not a positive integer", rawMin))
			return 0, false
		}
		if m < v {
			lowest = m
		}
	}
	best := 0
	for _, s := range supported {
		if s >= lowest && s <= v && s > best {
			best = s
		}
	}
	if best == 0 {
		versions := make([]string, len(supported))
		for i, s := range supported {
			versions[i] = strconv.Itoa(s)
		}
		writeCDSError(w, http.StatusNotAcceptable, errCodeUnsupportedVersion, "Unsupported Version",
			fmt.Sprintf("x-v %s is not supported; supported versions: %s", raw, strings.Join(versions, ", ")))
		return 0, false
	}
	w.Header().Set("x-v", strconv.Itoa(best))
	return best, true
}
