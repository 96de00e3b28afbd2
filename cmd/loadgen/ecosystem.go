package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/cdrsim"
)

// productsPerEntity is how many software products each simulated legal entity
// (with one brand) holds in the Register's data.
const productsPerEntity = 100

// ecosystem is the simulated Register and the one ADR listener that serves
// every product's own JWKS URI.
type ecosystem struct {
	ca       *cdrsim.CA
	caFile   string
	register *cdrsim.Register
	adr      *cdrsim.ADR
	products []*cdrsim.Product
}

// newEcosystem starts the Register and ADR on 127.0.0.1 and publishes n
// products, each with its own JWKS URI, in legal entities of
// productsPerEntity products. The CA is written to dir for the server's
// outbound.ca_file.
func newEcosystem(n int, dir string) (*ecosystem, error) {
	ca, err := cdrsim.NewCA()
	if err != nil {
		return nil, err
	}
	e := &ecosystem{ca: ca, caFile: filepath.Join(dir, "ca.pem")}
	if err := os.WriteFile(e.caFile, ca.PEM(), 0o600); err != nil {
		return nil, err
	}
	if e.register, err = cdrsim.NewRegister(ca); err != nil {
		return nil, err
	}
	if e.adr, err = cdrsim.NewADR(ca, "Load ADR"); err != nil {
		e.register.Close()
		return nil, err
	}
	for start := 0; start < n; start += productsPerEntity {
		var batch []*cdrsim.Product
		for i := start; i < min(start+productsPerEntity, n); i++ {
			p := e.adr.NewProduct("", fmt.Sprintf("Load product %d", i+1))
			p.JWKSURI = e.adr.ProductJWKSURI(p.ID)
			batch = append(batch, p)
		}
		le := e.adr.NewLegalEntity(batch...)
		le.ID, le.Name = uuid.NewString(), fmt.Sprintf("Load entity %d Pty Ltd", start/productsPerEntity+1)
		le.Brands[0].ID, le.Brands[0].Name = uuid.NewString(), fmt.Sprintf("Load brand %d", start/productsPerEntity+1)
		e.register.AddLegalEntity(le)
		e.products = append(e.products, batch...)
	}
	return e, nil
}

// endpoints is what the server's config must point at.
func (e *ecosystem) endpoints() serverEndpoints {
	return serverEndpoints{registerJWKSURI: e.register.JWKSURI(), registerBaseURI: e.register.BaseURI(), caFile: e.caFile}
}

// Close stops the simulated servers.
func (e *ecosystem) Close() {
	e.adr.Close()
	e.register.Close()
}

// registrationRequest signs a registration request (ES256, ADR key) around a
// freshly signed SSA (PS256, Register key) for product p.
func (e *ecosystem) registrationRequest(p *cdrsim.Product, issuer string) (string, error) {
	ssa, err := e.register.SignSSA(p)
	if err != nil {
		return "", err
	}
	return e.requestWithSSA(ssa, p, issuer)
}

// requestWithSSA signs a registration request for p carrying ssa.
func (e *ecosystem) requestWithSSA(ssa string, p *cdrsim.Product, issuer string) (string, error) {
	claims := e.adr.RequestClaims(ssa, issuer, p.ID)
	claims["token_endpoint_auth_signing_alg"] = string(jwa.ES256)
	return e.adr.SignRequest(claims, jwa.ES256)
}

// tokenForm signs a client assertion for clientID and encodes the
// client_credentials token request.
func (e *ecosystem) tokenForm(clientID, issuer string) (string, error) {
	a, err := e.adr.ClientAssertion(clientID, issuer, jwa.ES256)
	if err != nil {
		return "", err
	}
	return url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {"cdr:registration"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {a},
	}.Encode(), nil
}

// signAll fills out[i] = sign(i) for every i, on all cores.
func signAll(out []string, sign func(i int) (string, error)) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(out) {
					return
				}
				s, err := sign(i)
				if err != nil {
					once.Do(func() { firstErr = err })
					next.Store(int64(len(out)))
					return
				}
				out[i] = s
			}
		})
	}
	wg.Wait()
	return firstErr
}
