package cdrsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

func TestADR(t *testing.T) {
	e := newTestEcosystem(t, 1)
	c := e.CA.Client()
	reg, adr, p := e.Register, e.ADRs[0], e.Products[0]

	set := fetchJWKS(t, c, adr.JWKSURI())
	if set.Len() != 2 {
		t.Fatalf("ADR JWKS has %d keys", set.Len())
	}
	ssa, err := reg.SignSSA(p)
	if err != nil {
		t.Fatal(err)
	}
	aud := "https://holder.example"
	for _, alg := range []jwa.SignatureAlgorithm{jwa.PS256, jwa.ES256} {
		req, err := adr.SignRequest(adr.RequestClaims(ssa, aud, ""), alg)
		if err != nil {
			t.Fatal(err)
		}
		claims := verify(t, set, req)
		if claims["iss"] != p.ID || claims["aud"] != aud || claims["software_statement"] != ssa ||
			claims["token_endpoint_auth_method"] != "private_key_jwt" || claims["application_type"] != "web" {
			t.Errorf("%s request claims: %v", alg, claims)
		}
		if ru, _ := claims["redirect_uris"].([]any); len(ru) != 2 {
			t.Errorf("redirect_uris = %v", claims["redirect_uris"])
		}
		ca, err := adr.ClientAssertion("client-1", aud+"/token", alg)
		if err != nil {
			t.Fatal(err)
		}
		if claims := verify(t, set, ca); claims["iss"] != "client-1" || claims["sub"] != "client-1" {
			t.Errorf("assertion claims: %v", claims)
		}
	}
	if _, err := adr.SignRequest(map[string]any{}, jwa.HS256); err == nil {
		t.Error("SignRequest with HS256 succeeded")
	}
	none, err := adr.SignWith(jwa.NoSignature, nil, adr.RSAKeyID(), adr.AssertionClaims("c", aud))
	if err != nil || !strings.HasSuffix(none, ".") {
		t.Fatalf("none: %q %v", none, err)
	}

	resp, body := get(t, c, adr.SectorIdentifierURI())
	var uris []string
	if err := json.Unmarshal(body, &uris); err != nil || resp.StatusCode != 200 || len(uris) != 2 || uris[1] != adr.RedirectURI(2) {
		t.Fatalf("sector identifier: %d %s", resp.StatusCode, body)
	}
	adr.SetSectorStatus(http.StatusNotFound)
	if resp, _ := get(t, c, adr.SectorIdentifierURI()); resp.StatusCode != http.StatusNotFound {
		t.Errorf("sector status: %d", resp.StatusCode)
	}
	adr.SetJWKSEmpty(true)
	if _, body := get(t, c, adr.JWKSURI()); string(body) != `{"keys":[]}` {
		t.Errorf("empty JWKS: %s", body)
	}
	adr.SetJWKSDown(true)
	if resp, _ := get(t, c, adr.JWKSURI()); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("JWKS down: %d", resp.StatusCode)
	}
	adr.SetJWKSDown(false)
	adr.SetJWKSEmpty(false)
	for _, url := range []string{adr.RedirectURI(1), p.LogoURI, p.ClientURI} {
		if resp, _ := get(t, c, url); resp.StatusCode != 200 {
			t.Errorf("%s: %d", url, resp.StatusCode)
		}
	}
	if n := adr.Requests("/jwks"); n != 3 {
		t.Errorf("Requests(/jwks) = %d, want 3", n)
	}

	oldRSA, oldEC := adr.RSAKeyID(), adr.ECKeyID()
	if err := adr.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	set = fetchJWKS(t, c, adr.JWKSURI())
	if _, ok := set.LookupKeyID(oldRSA); ok {
		t.Error("old RSA key still published")
	}
	if _, ok := set.LookupKeyID(oldEC); ok {
		t.Error("old EC key still published")
	}
	if _, ok := set.LookupKeyID(adr.ECKeyID()); !ok || set.Len() != 2 {
		t.Error("new keys not published")
	}
}

func TestADRProductJWKSURI(t *testing.T) {
	e := newTestEcosystem(t, 1)
	adr := e.ADRs[0]
	uri := adr.ProductJWKSURI("product-1")
	if uri != adr.URL()+"/adr/product-1/jwks" {
		t.Fatalf("ProductJWKSURI = %q", uri)
	}
	set := fetchJWKS(t, e.CA.Client(), uri)
	if set.Len() != 2 {
		t.Fatalf("product JWKS has %d keys", set.Len())
	}
	if _, ok := set.LookupKeyID(adr.ECKeyID()); !ok {
		t.Error("product JWKS lacks the ADR's EC key")
	}
	if n := adr.Requests("/adr/product-1/jwks"); n != 1 {
		t.Errorf("requests counted: %d", n)
	}
}
