package cdrsim

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// newTestEcosystem starts an ecosystem with n ADRs, closed at test end.
func newTestEcosystem(t *testing.T, n int) *Ecosystem {
	t.Helper()
	e, err := NewEcosystem(nil, n)
	if err != nil {
		t.Fatalf("NewEcosystem: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}

// get performs a GET with headers (name, value pairs) and returns the response
// and its body.
func get(t *testing.T, c *http.Client, url string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp, body
}

// fetchJWKS loads and parses a JWKS over the network.
func fetchJWKS(t *testing.T, c *http.Client, url string) jwk.Set {
	t.Helper()
	set, err := jwk.Fetch(context.Background(), url, jwk.WithHTTPClient(c))
	if err != nil {
		t.Fatalf("fetch %s: %v", url, err)
	}
	return set
}

// verify checks token against set and returns its claims.
func verify(t *testing.T, set jwk.Set, token string) map[string]any {
	t.Helper()
	payload, err := jws.Verify([]byte(token), jws.WithKeySet(set))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestCA(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(ca.PEM())
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("PEM() is not a certificate: %q", ca.PEM())
	}
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !root.IsCA {
		t.Fatalf("root: %v, IsCA %v", err, root != nil && root.IsCA)
	}
	cert, err := ca.ClientCertificate("adr-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = cert.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil || cert.Leaf.Subject.CommonName != "adr-1" {
		t.Fatalf("client certificate: %v, CN %q", err, cert.Leaf.Subject.CommonName)
	}
	cfg, err := ca.ServerTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	leaf := cfg.Certificates[0].Leaf
	for _, host := range []string{"127.0.0.1", "localhost", "::1"} {
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
}

func TestRegisterEndpointShapes(t *testing.T) {
	e := newTestEcosystem(t, 2)
	c := e.CA.Client()
	reg := e.Register

	resp, body := get(t, c, reg.DataRecipientsURI("banking"), "x-v", "3")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("x-v") != "3" {
		t.Fatalf("data-recipients: %d x-v %q %s", resp.StatusCode, resp.Header.Get("x-v"), body)
	}
	var dr struct {
		Data []struct {
			LegalEntityID, LegalEntityName, AccreditationNumber, AccreditationLevel, LogoURI, Status, LastUpdated string
			DataRecipientBrands                                                                                   []struct {
				DataRecipientBrandID, BrandName, LogoURI, Status string
				SoftwareProducts                                 []struct {
					SoftwareProductID, SoftwareProductName, SoftwareProductDescription, LogoURI, Status string
				}
			}
		}
		Links struct{ Self string }
		Meta  map[string]any
	}
	if err := json.Unmarshal(body, &dr); err != nil {
		t.Fatal(err)
	}
	if len(dr.Data) != 2 || dr.Meta == nil || dr.Links.Self != reg.DataRecipientsURI("banking") {
		t.Fatalf("unexpected body %s", body)
	}
	for i, le := range dr.Data {
		adr, p := e.ADRs[i], e.Products[i]
		if le.LegalEntityID != adr.LegalEntityID() || le.Status != StatusActive || le.LastUpdated == "" ||
			le.AccreditationNumber == "" || len(le.DataRecipientBrands) != 1 {
			t.Fatalf("legal entity %d: %+v", i, le)
		}
		b := le.DataRecipientBrands[0]
		if b.DataRecipientBrandID != adr.BrandID() || b.BrandName != adr.Name() || len(b.SoftwareProducts) != 1 {
			t.Fatalf("brand %d: %+v", i, b)
		}
		sp := b.SoftwareProducts[0]
		if sp.SoftwareProductID != p.ID || sp.SoftwareProductName != p.Name || sp.Status != StatusActive ||
			sp.SoftwareProductDescription == "" || sp.LogoURI == "" {
			t.Fatalf("product %d: %+v", i, sp)
		}
	}
	for _, name := range []string{"legalEntityId", "dataRecipientBrands", "dataRecipientBrandId", "softwareProducts",
		"softwareProductId", "softwareProductName", "softwareProductDescription", "logoUri", "lastUpdated"} {
		if !strings.Contains(string(body), `"`+name+`"`) {
			t.Errorf("field %s missing", name)
		}
	}

	resp, body = get(t, c, reg.BaseURI()+"/all/data-recipients/status", "x-v", "3")
	var les struct{ Data []map[string]string }
	if err := json.Unmarshal(body, &les); err != nil || resp.StatusCode != http.StatusOK || len(les.Data) != 2 ||
		les.Data[0]["legalEntityId"] != e.ADRs[0].LegalEntityID() || les.Data[0]["status"] != StatusActive {
		t.Fatalf("legal entity statuses: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, c, reg.BaseURI()+"/energy/data-recipients/brands/software-products/status")
	var ps struct{ Data []map[string]string }
	if err := json.Unmarshal(body, &ps); err != nil || resp.StatusCode != http.StatusOK || len(ps.Data) != 2 ||
		ps.Data[1]["softwareProductId"] != e.Products[1].ID || ps.Data[1]["status"] != StatusActive {
		t.Fatalf("product statuses: %d %s", resp.StatusCode, body)
	}
}

func TestRegisterVersionsAndErrors(t *testing.T) {
	e := newTestEcosystem(t, 1)
	c := e.CA.Client()
	reg := e.Register
	statusURL := reg.BaseURI() + "/all/data-recipients/status"
	cases := []struct {
		url     string
		headers []string
		status  int
		xv      string
	}{
		{reg.DataRecipientsURI(""), nil, 200, "4"},
		{reg.DataRecipientsURI(""), []string{"x-v", "4"}, 200, "4"},
		{reg.DataRecipientsURI(""), []string{"x-v", "5"}, 406, ""},
		{reg.DataRecipientsURI(""), []string{"x-v", "6", "x-min-v", "3"}, 200, "4"},
		{reg.DataRecipientsURI(""), []string{"x-v", "two"}, 400, ""},
		{statusURL, []string{"x-v", "4"}, 406, ""},
		{statusURL, nil, 200, "3"},
		{reg.DataRecipientsURI("insurance"), nil, 404, ""},
		{reg.URL() + "/nowhere", nil, 404, ""},
	}
	for _, tc := range cases {
		resp, body := get(t, c, tc.url, tc.headers...)
		if resp.StatusCode != tc.status || resp.Header.Get("x-v") != tc.xv {
			t.Errorf("%s %v: %d x-v %q, want %d %q: %s", tc.url, tc.headers, resp.StatusCode, resp.Header.Get("x-v"), tc.status, tc.xv, body)
		}
		if tc.status >= 400 && !strings.Contains(string(body), `"errors"`) {
			t.Errorf("%s %v: error body %s", tc.url, tc.headers, body)
		}
	}
	resp, err := c.Post(reg.JWKSURI(), "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST jwks: %d", resp.StatusCode)
	}
}

func TestRegisterETag(t *testing.T) {
	e := newTestEcosystem(t, 1)
	c := e.CA.Client()
	reg := e.Register
	for _, url := range []string{reg.DataRecipientsURI(""), reg.BaseURI() + "/all/data-recipients/status",
		reg.BaseURI() + "/all/data-recipients/brands/software-products/status", reg.JWKSURI()} {
		resp, _ := get(t, c, url)
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || !strings.HasPrefix(etag, `"`) {
			t.Fatalf("%s: %d ETag %q", url, resp.StatusCode, etag)
		}
		resp, body := get(t, c, url, "If-None-Match", etag)
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Fatalf("%s with If-None-Match: %d %s", url, resp.StatusCode, body)
		}
		resp, _ = get(t, c, url, "If-None-Match", `"other", W/`+etag)
		if resp.StatusCode != http.StatusNotModified {
			t.Fatalf("%s with a list: %d", url, resp.StatusCode)
		}
		resp, _ = get(t, c, url, "If-None-Match", `"stale"`)
		if resp.StatusCode != 200 {
			t.Fatalf("%s with a stale ETag: %d", url, resp.StatusCode)
		}
		if n := reg.Requests(strings.TrimPrefix(url, reg.URL())); n != 4 {
			t.Fatalf("Requests(%s) = %d, want 4", url, n)
		}
	}
	url := reg.BaseURI() + "/all/data-recipients/brands/software-products/status"
	resp, _ := get(t, c, url)
	etag := resp.Header.Get("ETag")
	if err := reg.SetProductStatus(e.Products[0].ID, StatusInactive); err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, c, url, "If-None-Match", etag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == etag || !strings.Contains(string(body), StatusInactive) {
		t.Fatalf("after a change: %d ETag %q %s", resp.StatusCode, resp.Header.Get("ETag"), body)
	}
}

func TestRegisterStatusChanges(t *testing.T) {
	e := newTestEcosystem(t, 2)
	c := e.CA.Client()
	reg := e.Register
	if err := reg.SetProductStatus(e.Products[0].ID, StatusRemoved); err != nil {
		t.Fatal(err)
	}
	if err := reg.SetBrandStatus(e.ADRs[1].BrandID(), StatusInactive); err != nil {
		t.Fatal(err)
	}
	if err := reg.SetLegalEntityStatus(e.ADRs[1].LegalEntityID(), StatusSuspended); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		reg.SetProductStatus("nope", StatusActive), reg.SetBrandStatus("nope", StatusActive),
		reg.SetLegalEntityStatus("nope", StatusActive), reg.SetProductStatus(e.Products[0].ID, ""),
	} {
		if err == nil {
			t.Error("expected an error")
		}
	}
	_, body := get(t, c, reg.DataRecipientsURI(""))
	for _, want := range []string{`"status":"REMOVED"`, `"status":"INACTIVE"`, `"status":"SUSPENDED"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("%s missing from %s", want, body)
		}
	}
	if st, ok := reg.ProductStatus(e.Products[0].ID); !ok || st != StatusRemoved {
		t.Errorf("ProductStatus = %q %v", st, ok)
	}

	reg.RemoveProduct(e.Products[1].ID)
	for _, url := range []string{reg.DataRecipientsURI(""), reg.BaseURI() + "/all/data-recipients/brands/software-products/status"} {
		if _, body := get(t, c, url); strings.Contains(string(body), e.Products[1].ID) {
			t.Errorf("removed product still in %s", url)
		}
	}
	// An SSA can still be signed for the removed product, with its old owner.
	claims := reg.SSAClaims(e.Products[1])
	if claims["org_id"] != e.ADRs[1].BrandID() || claims["legal_entity_id"] != e.ADRs[1].LegalEntityID() {
		t.Errorf("claims for a removed product: %v", claims)
	}

	reg.SetDown(true)
	for _, url := range []string{reg.JWKSURI(), reg.DataRecipientsURI(""), reg.URL() + "/anything"} {
		if resp, _ := get(t, c, url); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s while down: %d", url, resp.StatusCode)
		}
	}
	reg.SetDown(false)
	if resp, _ := get(t, c, reg.JWKSURI()); resp.StatusCode != 200 {
		t.Errorf("jwks after recovery: %d", resp.StatusCode)
	}
}

// TestConcurrentUse mutates the Register while clients read it; run with -race.
func TestConcurrentUse(t *testing.T) {
	e := newTestEcosystem(t, 2)
	c := e.CA.Client()
	reg := e.Register
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				for _, url := range []string{reg.DataRecipientsURI(""), reg.JWKSURI(), e.ADRs[i%2].JWKSURI()} {
					resp, err := c.Get(url)
					if err != nil {
						t.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if _, err := reg.SignSSA(e.Products[i%2]); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	statuses := []string{StatusActive, StatusInactive, StatusRemoved}
	for i := range 30 {
		_ = reg.SetProductStatus(e.Products[i%2].ID, statuses[i%3])
		_ = reg.SetBrandStatus(e.ADRs[i%2].BrandID(), statuses[i%3])
		reg.SetDown(i%5 == 0)
		reg.AddLegalEntity(e.ADRs[i%2].NewLegalEntity(e.Products[i%2]))
	}
	if err := reg.RotateKey(); err != nil {
		t.Error(err)
	}
	wg.Wait()
}
