package web

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/cdrsim"
)

// BenchmarkRefuseBogusAssertionHugeKey is the cost of refusing one bogus
// client assertion (POST /token) and one bogus registration request (POST
// /register) whose kid names a key with a huge RSA modulus in the ADR's JWKS:
// the real Gin engine and SQLite file, the JWKS cached by an earlier
// registration. Verifying with such a key once cost seconds of CPU; a key
// over the configured size must be refused before any arithmetic on it.
//
//	go test ./web -run '^$' -bench BenchmarkRefuseBogusAssertionHugeKey -benchtime 200x
func BenchmarkRefuseBogusAssertionHugeKey(b *testing.B) {
	for _, bits := range []int{65536, 1_000_000} {
		b.Run(fmt.Sprintf("bits=%d", bits), func(b *testing.B) { benchRefuseHugeKey(b, bits) })
	}
}

func benchRefuseHugeKey(b *testing.B, bits int) {
	h := newHarness(b)
	adr := h.eco.ADRs[0]
	huge, err := cdrsim.FakeRSAJWK("huge", bits)
	if err != nil {
		b.Fatal(err)
	}
	adr.SetExtraJWKs(huge)
	clientID := h.registered(b) // caches the JWKS, huge key and all
	assertion, err := adr.SignWith(jwa.PS256, nil, "huge", adr.AssertionClaims(clientID, testIssuer))
	if err != nil {
		b.Fatal(err)
	}
	other, p := h.eco.ADRs[1], h.eco.Products[1]
	ssa, err := h.eco.Register.SignSSA(p)
	if err != nil {
		b.Fatal(err)
	}
	request, err := other.SignWith(jwa.PS256, nil, "huge", other.RequestClaims(ssa, testIssuer, p.ID))
	if err != nil {
		b.Fatal(err)
	}
	other.SetExtraJWKs(huge)
	if r := h.register(request); r.status != http.StatusBadRequest { // caches the second ADR's JWKS
		b.Fatalf("register: %d %s", r.status, r.body)
	}
	b.Run("token", func(b *testing.B) {
		form := tokenForm(assertion, nil)
		for b.Loop() {
			if r := h.token(form); r.status != http.StatusBadRequest {
				b.Fatalf("token: %d %s", r.status, r.body)
			}
		}
	})
	b.Run("register", func(b *testing.B) {
		for b.Loop() {
			if r := h.register(request); r.status != http.StatusBadRequest {
				b.Fatalf("register: %d %s", r.status, r.body)
			}
		}
	})
}
