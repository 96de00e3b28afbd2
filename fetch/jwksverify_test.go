package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/jose"
	"github.com/dcrconsole/dcrconsole/jose/josetest"
)

// BenchmarkVerifyJWTHugeKey is the CPU cost of refusing one bogus JWT at the
// key lookup and signature check alone (no HTTP, no audit write), when the
// JWKS also holds a million-bit RSA key: its kid names that key, or it has no
// kid and the 8 candidate RSA keys (up to 4096 bits) are each tried.
//
//	go test ./dcr -run '^$' -bench BenchmarkVerifyJWTHugeKey
func BenchmarkVerifyJWTHugeKey(b *testing.B) {
	keys := []json.RawMessage{jwksTestPublicJWK(b, 0, "r1"), fakeRSAJWK(b, "huge", 1_000_000)}
	for range 7 {
		keys = append(keys, fakeRSAJWK(b, "", 4096))
	}
	srv := newJWKSServer(b, josetest.JWKS(keys...))
	c := NewJWKSCache(fetcherForTestServer(b, srv.Server), time.Hour, nil)
	ctx := context.Background()
	for _, kid := range []string{"huge", ""} {
		hdr := jws.NewHeaders()
		if kid != "" {
			_ = hdr.Set(jws.KeyIDKey, kid)
		}
		signed, err := jws.Sign([]byte(`{"iss":"x"}`), jws.WithKey(jwa.PS256, josetest.RSAKeys()[2], jws.WithProtectedHeaders(hdr)))
		if err != nil {
			b.Fatal(err)
		}
		tok, err := jose.ParseJWT(string(signed))
		if err != nil {
			b.Fatal(err)
		}
		name := "kid=huge"
		if kid == "" {
			name = "no-kid-8-candidates"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.VerifyJWT(ctx, srv.URL, tok, true); !errors.Is(err, ErrKeyNotFound) && !errors.Is(err, ErrSignature) {
					b.Fatalf("error %v", err)
				}
			}
		})
	}
}

// fakeRSAJWK is an RSA JWK of any modulus size, cheap to make (see cdrsim.FakeRSAJWK).
func fakeRSAJWK(t testing.TB, kid string, bits int) json.RawMessage {
	t.Helper()
	raw, err := cdrsim.FakeRSAJWK(kid, bits)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
