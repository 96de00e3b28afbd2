package cdrsim

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
)

// SetExtraJWKs makes /jwks publish keys (raw JWK JSON objects, any content,
// also hostile) after the ADR's own keys, until called again; no argument
// removes them. Tests use it to publish oversized, foreign-curve or symmetric
// keys, or a second key of the same type.
func (a *ADR) SetExtraJWKs(keys ...json.RawMessage) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.extraJWKs = slices.Clone(keys)
}

// SetExtraJWKs makes the Register's JWKS publish keys after its signing key,
// like ADR.SetExtraJWKs.
func (r *Register) SetExtraJWKs(keys ...json.RawMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.extraJWKs = slices.Clone(keys)
}

// withExtraKeys returns the JWK Set body with extra appended to its "keys".
func withExtraKeys(body []byte, extra []json.RawMessage) []byte {
	if len(extra) == 0 {
		return body
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return body
	}
	doc.Keys = append(doc.Keys, extra...)
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return out
}

// FakeRSAJWK returns the JSON of an RSA public signing JWK (alg PS256, use
// sig, e 65537) with kid and a random odd modulus of exactly bits bits. Nobody
// holds its private key: it is for tests of keys that must be refused before
// any signature is checked (a million-bit modulus costs seconds to verify with).
func FakeRSAJWK(kid string, bits int) (json.RawMessage, error) {
	if bits < 8 {
		return nil, fmt.Errorf("cdrsim: %d bits is too small", bits)
	}
	n := make([]byte, (bits+7)/8)
	if _, err := rand.Read(n); err != nil {
		return nil, err
	}
	top := uint(bits-1) % 8 // the highest set bit of n[0]
	n[0] &= byte(1<<(top+1) - 1)
	n[0] |= 1 << top
	n[len(n)-1] |= 1
	return json.Marshal(map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "PS256", "n": b64.EncodeToString(n), "e": "AQAB"})
}
