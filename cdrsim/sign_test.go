package cdrsim

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

func TestSignSSA(t *testing.T) {
	e := newTestEcosystem(t, 1)
	c := e.CA.Client()
	reg, adr, p := e.Register, e.ADRs[0], e.Products[0]
	p.SectorIdentifierURI = adr.SectorIdentifierURI()

	set := fetchJWKS(t, c, reg.JWKSURI())
	if set.Len() != 1 {
		t.Fatalf("JWKS has %d keys", set.Len())
	}
	key, _ := set.Key(0)
	if key.KeyID() != reg.KeyID() || key.Algorithm() != jwa.PS256 || key.KeyUsage() != "sig" {
		t.Fatalf("JWKS key: kid %q alg %q use %q", key.KeyID(), key.Algorithm(), key.KeyUsage())
	}
	ssa, err := reg.SignSSA(p)
	if err != nil {
		t.Fatal(err)
	}
	claims := verify(t, set, ssa)
	want := map[string]any{
		"iss": "cdr-register", "org_id": adr.BrandID(), "org_name": adr.Name(), "client_name": p.Name,
		"client_description": p.Description, "client_uri": p.ClientURI, "legal_entity_id": adr.LegalEntityID(),
		"legal_entity_name": adr.LegalEntityName(), "logo_uri": p.LogoURI, "tos_uri": p.TOSURI,
		"policy_uri": p.PolicyURI, "jwks_uri": adr.JWKSURI(), "revocation_uri": p.RevocationURI,
		"recipient_base_uri": p.RecipientBaseURI, "software_id": p.ID, "software_roles": SoftwareRole,
		"scope": DefaultScope, "sector_identifier_uri": adr.SectorIdentifierURI(),
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if ru, _ := claims["redirect_uris"].([]any); len(ru) != 2 || ru[0] != adr.RedirectURI(1) {
		t.Errorf("redirect_uris = %v", claims["redirect_uris"])
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	if exp-iat != 600 || claims["jti"] == "" {
		t.Errorf("iat %v exp %v jti %v", iat, exp, claims["jti"])
	}
	p.SectorIdentifierURI, p.TOSURI = "", ""
	if c := reg.SSAClaims(p); c["sector_identifier_uri"] != nil || c["tos_uri"] != nil {
		t.Errorf("empty optional claims present: %v", c)
	}

	// Edits reach both maps; an RSA alg in the header is honoured.
	ssa, err = reg.SignSSA(p, func(c, h map[string]any) { c["iss"] = "someone"; h["alg"] = "RS256" })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify([]byte(ssa), jws.WithKey(jwa.RS256, &reg.SigningKey().PublicKey)); err != nil {
		t.Errorf("RS256 edit: %v", err)
	}
	// alg none gives an unsigned token that no key set verifies.
	ssa, err = reg.SignSSA(p, func(_, h map[string]any) { h["alg"] = "none" })
	if err != nil || !strings.HasSuffix(ssa, ".") || strings.Count(ssa, ".") != 2 {
		t.Fatalf("none: %q %v", ssa, err)
	}
	if _, err := jws.Verify([]byte(ssa), jws.WithKeySet(set)); err == nil {
		t.Error("alg none verified")
	}
	// HS256 keyed with the public key: the header says HS256, the key set refuses it.
	pubDER, err := x509.MarshalPKIXPublicKey(&reg.SigningKey().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := reg.SignSSAWith(jwa.HS256, pubDER, reg.SSAClaims(p), map[string]any{"kid": reg.KeyID()})
	if err != nil {
		t.Fatal(err)
	}
	if msg, err := jws.Parse([]byte(hs)); err != nil || msg.Signatures()[0].ProtectedHeaders().Algorithm() != jwa.HS256 {
		t.Fatalf("HS256 token: %v", err)
	}
	if _, err := jws.Verify([]byte(hs), jws.WithKeySet(set)); err == nil {
		t.Error("HS256 token verified")
	}

	// After a rotation only the new key is published.
	old := reg.KeyID()
	oldSSA, _ := reg.SignSSA(p)
	if err := reg.RotateKey(); err != nil {
		t.Fatal(err)
	}
	set = fetchJWKS(t, c, reg.JWKSURI())
	if key, _ := set.Key(0); set.Len() != 1 || key.KeyID() == old || key.KeyID() != reg.KeyID() {
		t.Fatalf("rotation: %d keys", set.Len())
	}
	if _, err := jws.Verify([]byte(oldSSA), jws.WithKeySet(set)); err == nil {
		t.Error("SSA signed with the old key verified")
	}
	newSSA, _ := reg.SignSSA(p)
	verify(t, set, newSSA)
}

func TestUnregisteredProductSSA(t *testing.T) {
	e := newTestEcosystem(t, 1)
	adr := e.ADRs[0]
	p := adr.NewProduct("", "")
	claims := e.Register.SSAClaims(p)
	if claims["org_id"] != adr.BrandID() || claims["org_name"] != adr.Name() || claims["software_id"] != p.ID {
		t.Fatalf("claims: %v", claims)
	}
	if _, ok := e.Register.ProductStatus(p.ID); ok {
		t.Fatal("unregistered product known")
	}
}
