package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/dcr"
)

// testRSAKeys caches generated RSA keys by size: a 4096-bit key takes a while.
var testRSAKeys sync.Map // int → *rsa.PrivateKey

func testRSAKey(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	if k, ok := testRSAKeys.Load(bits); ok {
		return k.(*rsa.PrivateKey)
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	testRSAKeys.Store(bits, k)
	return k
}

// publicJWK is pub as raw JWK JSON with kid (and alg and use sig when alg is not empty).
func publicJWK(t testing.TB, pub any, kid, alg string) json.RawMessage {
	t.Helper()
	k, err := jwk.FromRaw(pub)
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, kid)
	_ = k.Set(jwk.KeyUsageKey, jwk.ForSignature)
	if alg != "" {
		_ = k.Set(jwk.AlgorithmKey, jwa.SignatureAlgorithm(alg))
	}
	raw, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// keyBoundCase is one key published in a JWKS: wantOK cases sign with it and
// must succeed; the others must be dropped with wantReason in the audit detail.
type keyBoundCase struct {
	name       string
	jwk        func(t testing.TB, kid string) (raw json.RawMessage, signer any)
	wantOK     bool
	wantReason string
}

func realRSA(bits int) func(testing.TB, string) (json.RawMessage, any) {
	return func(t testing.TB, kid string) (json.RawMessage, any) {
		k := testRSAKey(t, bits)
		return publicJWK(t, &k.PublicKey, kid, "PS256"), k
	}
}

func fakeRSA(bits int) func(testing.TB, string) (json.RawMessage, any) {
	return func(t testing.TB, kid string) (json.RawMessage, any) {
		raw, err := cdrsim.FakeRSAJWK(kid, bits)
		if err != nil {
			t.Fatal(err)
		}
		return raw, nil
	}
}

func realEC(curve elliptic.Curve) func(testing.TB, string) (json.RawMessage, any) {
	return func(t testing.TB, kid string) (json.RawMessage, any) {
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return publicJWK(t, &k.PublicKey, kid, ""), nil
	}
}

func literalJWK(format string) func(testing.TB, string) (json.RawMessage, any) {
	return func(_ testing.TB, kid string) (json.RawMessage, any) {
		return json.RawMessage(strings.Replace(format, "KID", kid, 1)), nil
	}
}

// keyBoundCases are the default bounds: RSA 2048..4096 bits, EC P-256 only, no oct.
var keyBoundCases = []keyBoundCase{
	{"rsa-1024", realRSA(1024), false, "RSA modulus 1024 bits is below 2048"},
	{"rsa-2048", realRSA(2048), true, ""},
	{"rsa-4096", realRSA(4096), true, ""},
	{"rsa-4097", fakeRSA(4097), false, "RSA modulus 4097 bits exceeds 4096"},
	{"rsa-8192", fakeRSA(8192), false, "RSA modulus 8192 bits exceeds 4096"},
	{"rsa-1000000", fakeRSA(1_000_000), false, "RSA modulus 1000000 bits exceeds 4096"},
	{"ec-p384", realEC(elliptic.P384()), false, `EC curve "P-384" is not P-256`},
	{"ec-p521", realEC(elliptic.P521()), false, `EC curve "P-521" is not P-256`},
	{"ec-secp256k1", literalJWK(`{"kty":"EC","kid":"KID","use":"sig","crv":"secp256k1",` +
		`"x":"8e6Nls7EGeU2T_8wXFjyW6gW7PvqjUP2_HM3Ii3c0ds","y":"2JVSFCgXR2hLT0k5LGMU7w9RVLFvIuGNvVZ2lfOyUMU"}`),
		false, `EC curve "secp256k1" is not P-256`},
	{"oct", literalJWK(`{"kty":"oct","kid":"KID","use":"sig","alg":"HS256","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}`),
		false, `kty "oct" is not RSA or EC`},
}

// TestADRKeyBounds publishes each key in an ADR's JWKS and uses its kid for a
// client assertion (POST /token) and a registration request (POST /register):
// keys within the bounds verify; the others are dropped when the JWKS is read,
// the JWT is refused with today's bad-signature error, and the audit detail
// says which key was dropped and why.
func TestADRKeyBounds(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Holder.AllowDuplicateRegistrations = true })
	adr, p := h.eco.ADRs[0], h.eco.Products[0]
	clientID := h.registered(t)
	ssa, err := h.eco.Register.SignSSA(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range keyBoundCases {
		t.Run(tc.name, func(t *testing.T) {
			raw, signer := tc.jwk(t, tc.name)
			adr.SetExtraJWKs(raw)
			if err := h.app.JWKS.Refresh(t.Context(), adr.JWKSURI()); err != nil {
				t.Fatal(err)
			}
			alg := jwa.PS256
			if strings.HasPrefix(tc.name, "ec-") {
				alg = jwa.ES256
			}
			var key any // nil: the ADR's own key, for a JWT whose kid names the dropped key
			if tc.wantOK {
				key = signer
			}
			assertion, err := adr.SignWith(alg, key, tc.name, adr.AssertionClaims(clientID, testIssuer))
			if err != nil {
				t.Fatal(err)
			}
			request, err := adr.SignWith(alg, key, tc.name, adr.RequestClaims(ssa, testIssuer, p.ID))
			if err != nil {
				t.Fatal(err)
			}
			r := h.token(tokenForm(assertion, nil))
			wantKeyOutcome(t, h, "token", r, tc, http.StatusOK, "invalid_client", "The client assertion could not be verified")
			r = h.register(request)
			wantKeyOutcome(t, h, "register", r, tc, http.StatusCreated, "invalid_client_metadata", dcr.DescRequestInvalid)
		})
	}
}

// TestRegisterKeyBounds does the same with the CDR Register's JWKS and the SSA's kid.
func TestRegisterKeyBounds(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Holder.AllowDuplicateRegistrations = true })
	reg, adr, p := h.eco.Register, h.eco.ADRs[0], h.eco.Products[0]
	for _, tc := range keyBoundCases {
		t.Run(tc.name, func(t *testing.T) {
			raw, signer := tc.jwk(t, tc.name)
			reg.SetExtraJWKs(raw)
			if err := h.app.JWKS.Refresh(t.Context(), reg.JWKSURI()); err != nil {
				t.Fatal(err)
			}
			var key any // nil: the Register's own key, for an SSA whose kid names the dropped key
			if tc.wantOK {
				key = signer
			}
			ssa, err := reg.SignSSAWith(jwa.PS256, key, reg.SSAClaims(p), map[string]any{"kid": tc.name, "typ": "JWT"})
			if err != nil {
				t.Fatal(err)
			}
			request, err := adr.SignRequest(adr.RequestClaims(ssa, testIssuer, p.ID), jwa.PS256)
			if err != nil {
				t.Fatal(err)
			}
			r := h.register(request)
			wantKeyOutcome(t, h, "register", r, tc, http.StatusCreated, "invalid_software_statement", dcr.DescSSAInvalid)
		})
	}
}

// TestConfiguredRSAKeyBits: with outbound.max_rsa_key_bits = 8192 an 8192-bit
// key is kept and verified with (the fake key's signature simply does not
// verify), and 8193 bits are still dropped.
func TestConfiguredRSAKeyBits(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Outbound.MaxRSAKeyBits = 8192 })
	adr := h.eco.ADRs[0]
	clientID := h.registered(t)
	for _, tc := range []struct {
		bits       int
		wantReason string
	}{
		{8192, `signature does not verify with key "k"`},
		{8193, "key kid=k dropped: RSA modulus 8193 bits exceeds 8192"},
	} {
		raw, err := cdrsim.FakeRSAJWK("k", tc.bits)
		if err != nil {
			t.Fatal(err)
		}
		adr.SetExtraJWKs(raw)
		if err := h.app.JWKS.Refresh(t.Context(), adr.JWKSURI()); err != nil {
			t.Fatal(err)
		}
		assertion, err := adr.SignWith(jwa.PS256, nil, "k", adr.AssertionClaims(clientID, testIssuer))
		if err != nil {
			t.Fatal(err)
		}
		r := h.token(tokenForm(assertion, nil))
		if ev := h.lastAudit(t); r.status != http.StatusBadRequest || !strings.Contains(ev.Reason, tc.wantReason) {
			t.Errorf("%d bits: %d %s; audit reason %q, want %q", tc.bits, r.status, r.body, ev.Reason, tc.wantReason)
		}
	}
	if got := h.app.JWKS.DroppedKeys(adr.JWKSURI()); len(got) != 1 || !strings.Contains(got[0], "8193 bits") {
		t.Errorf("DroppedKeys = %q", got)
	}
}

func wantKeyOutcome(t *testing.T, h *harness, what string, r response, tc keyBoundCase, okStatus int, code, desc string) {
	t.Helper()
	if tc.wantOK {
		if r.status != okStatus {
			t.Errorf("%s: %d %s, want %d", what, r.status, r.body, okStatus)
		}
		return
	}
	if r.status != http.StatusBadRequest || r.json["error"] != code || r.json["error_description"] != desc {
		t.Errorf("%s: %d %s, want 400 %s %q", what, r.status, r.body, code, desc)
	}
	want := "key kid=" + tc.name + " dropped: " + tc.wantReason
	if ev := h.lastAudit(t); !strings.Contains(ev.Reason, want) {
		t.Errorf("%s: audit reason %q does not say %q", what, ev.Reason, want)
	}
}
