// Package josetest holds the JWK helpers that the tests of jose and fetch share:
// RSA keys generated once, a key as JWK JSON, and a JWKS document.
package josetest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// RSAKeys are three 2048-bit keys, generated once per test binary: generation is slow.
var RSAKeys = sync.OnceValue(func() []*rsa.PrivateKey {
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

// JWK returns the JWK JSON of raw (a private or public key) with kid and use set
// when they are not empty.
func JWK(t testing.TB, raw any, kid, use string) json.RawMessage {
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

// JWKS returns the JWKS document {"keys": [...]} holding keys.
func JWKS(keys ...json.RawMessage) string {
	if keys == nil {
		keys = []json.RawMessage{}
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return string(b)
}
