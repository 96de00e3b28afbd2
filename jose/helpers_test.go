package jose

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// The JWK helpers below are copies of package fetch's test helpers (jwks_test.go):
// test files cannot be shared across packages, and these are too small to earn a
// package of their own.

// jwksTestRSAKeys are generated once: 2048-bit generation is slow.
var jwksTestRSAKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 3)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// jwksTestJWK returns the JWK JSON of raw (a private or public key) with kid and use set.
func jwksTestJWK(t testing.TB, raw any, kid, use string) json.RawMessage {
	t.Helper()
	k, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	if kid != "" {
		_ = k.Set(jwk.KeyIDKey, kid)
	}
	if use != "" {
		_ = k.Set(jwk.KeyUsageKey, use)
	}
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jwksBody(keys ...json.RawMessage) string {
	if keys == nil {
		keys = []json.RawMessage{}
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return string(b)
}
