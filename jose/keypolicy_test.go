package jose

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/jose/josetest"
)

func fakeRSAJWK(t testing.TB, kid string, bits int) json.RawMessage {
	t.Helper()
	raw, err := cdrsim.FakeRSAJWK(kid, bits)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func ecJWK(t testing.TB, curve elliptic.Curve, kid string) json.RawMessage {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return josetest.JWK(t, &k.PublicKey, kid, "sig")
}

const octJWK = `{"kty":"oct","kid":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}`

// TestParseUsableJWKSBounds: keys outside RSA 2048..max bits and EC P-256 are
// dropped with a reason naming the kid; the maximum is clamped to 8192.
func TestParseUsableJWKSBounds(t *testing.T) {
	tests := []struct {
		name       string
		key        json.RawMessage
		max        int
		wantReason string // "" means kept
	}{
		{"rsa 1024", fakeRSAJWK(t, "k", 1024), 0, "key kid=k dropped: RSA modulus 1024 bits is below 2048"},
		{"rsa 2047", fakeRSAJWK(t, "k", 2047), 0, "RSA modulus 2047 bits is below 2048"},
		{"rsa 2048", fakeRSAJWK(t, "k", 2048), 0, ""},
		{"rsa 4096", fakeRSAJWK(t, "k", 4096), 0, ""},
		{"rsa 4097", fakeRSAJWK(t, "k", 4097), 0, "RSA modulus 4097 bits exceeds 4096"},
		{"rsa 8192 by default", fakeRSAJWK(t, "k", 8192), 0, "RSA modulus 8192 bits exceeds 4096"},
		{"rsa 8192 when configured", fakeRSAJWK(t, "k", 8192), 8192, ""},
		{"rsa 16384 never", fakeRSAJWK(t, "k", 16384), 16384, "RSA modulus 16384 bits exceeds 8192"},
		{"rsa a million bits", fakeRSAJWK(t, "big", 1_000_000), 0, "key kid=big dropped: RSA modulus 1000000 bits exceeds 4096"},
		{"ec P-256", ecJWK(t, elliptic.P256(), "k"), 0, ""},
		{"ec P-384", ecJWK(t, elliptic.P384(), "k"), 0, `EC curve "P-384" is not P-256`},
		{"ec P-521", ecJWK(t, elliptic.P521(), "k"), 0, `EC curve "P-521" is not P-256`},
		{"ec secp256k1", json.RawMessage(`{"kty":"EC","kid":"k","crv":"secp256k1","x":"AA","y":"AA"}`), 0, `EC curve "secp256k1" is not P-256`},
		{"oct", json.RawMessage(octJWK), 0, `key kid=oct dropped: kty "oct" is not RSA or EC`},
		{"OKP", json.RawMessage(`{"kty":"OKP","crv":"Ed25519","x":"AA"}`), 0, `key kid=(none) dropped: kty "OKP"`},
		{"encryption key", josetest.JWK(t, &josetest.RSAKeys()[0].PublicKey, "k", "enc"), 0, `use "enc" is not "sig"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, dropped, err := ParseUsableJWKS([]byte(josetest.JWKS(tc.key)), tc.max)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantReason == "" {
				if set.Len() != 1 || len(dropped) != 0 {
					t.Fatalf("kept %d, dropped %v; want the key kept", set.Len(), dropped)
				}
				return
			}
			if set.Len() != 0 || len(dropped) != 1 || !strings.Contains(dropped[0].String(), tc.wantReason) {
				t.Fatalf("kept %d, dropped %v; want dropped: %s", set.Len(), dropped, tc.wantReason)
			}
		})
	}
}

// TestVerifyRefusesOutOfBoundKeys: a key that did not come through the JWKS
// filter is refused again at verify time, by its size and kind alone.
func TestVerifyRefusesOutOfBoundKeys(t *testing.T) {
	signed, err := jws.Sign([]byte(`{"iss":"x"}`), jws.WithKey(jwa.PS256, josetest.RSAKeys()[0]))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ParseJWT(string(signed))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  json.RawMessage
		max  int
		want string
	}{
		{"a million bits", fakeRSAJWK(t, "k", 1_000_000), HardMaxRSAKeyBits, "RSA modulus 1000000 bits exceeds 8192"},
		{"over the configured bound", fakeRSAJWK(t, "k", 8192), DefaultMaxRSAKeyBits, "RSA modulus 8192 bits exceeds 4096"},
		{"short", fakeRSAJWK(t, "k", 1024), DefaultMaxRSAKeyBits, "RSA modulus 1024 bits is below 2048"},
		{"P-384", ecJWK(t, elliptic.P384(), "k"), DefaultMaxRSAKeyBits, `EC curve "P-384" is not P-256`},
		{"oct", json.RawMessage(octJWK), DefaultMaxRSAKeyBits, `kty "oct" is not an RSA or EC public key`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, err := jwk.ParseKey(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			err = tok.VerifyBounded(key, tc.max)
			if err == nil || !strings.Contains(err.Error(), "refused: "+tc.want) {
				t.Fatalf("error %v, want refused: %s", err, tc.want)
			}
		})
	}
	good, _ := jwk.FromRaw(&josetest.RSAKeys()[0].PublicKey)
	if err := tok.VerifyBounded(good, DefaultMaxRSAKeyBits); err != nil {
		t.Fatalf("2048-bit key: %v", err)
	}
}
