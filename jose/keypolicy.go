package jose

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// MaxJWKSKeys bounds a JWK Set: more keys than this and the set is refused.
const MaxJWKSKeys = 100

// Bounds of the RSA keys accepted for verifying signatures. A verification
// costs time that grows faster than the square of the modulus size, and Go
// does that work (bigmod.NewModulus) before it looks at the signature: one
// JWKS key with a million-bit modulus made one bogus JWT cost seconds of CPU.
const (
	// MinRSAKeyBits is the smallest RSA modulus accepted.
	MinRSAKeyBits = 2048
	// DefaultMaxRSAKeyBits is the largest RSA modulus accepted unless configured otherwise.
	DefaultMaxRSAKeyBits = 4096
	// HardMaxRSAKeyBits is the largest RSA modulus any configuration may accept.
	HardMaxRSAKeyBits = 8192
)

// clampRSABits returns max bounded to MinRSAKeyBits..HardMaxRSAKeyBits; 0 means the default.
func clampRSABits(max int) int {
	switch {
	case max == 0:
		return DefaultMaxRSAKeyBits
	case max < MinRSAKeyBits:
		return MinRSAKeyBits
	case max > HardMaxRSAKeyBits:
		return HardMaxRSAKeyBits
	}
	return max
}

// jwkHead is what is read from a JWK before jwx parses it, so that a key too
// large or of the wrong kind is dropped before any work on its numbers.
type jwkHead struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Crv string `json:"crv"`
	N   string `json:"n"`
}

// DroppedKey is a JWKS key left out of the usable set, and why.
type DroppedKey struct {
	KID    string
	Reason string
}

// String is the reason as logged and shown in the console, naming the key.
func (d DroppedKey) String() string {
	kid := d.KID
	if kid == "" {
		kid = "(none)"
	}
	return fmt.Sprintf("key kid=%s dropped: %s", kid, d.Reason)
}

// ParseUsableJWKS parses a JWK Set and returns its usable signing keys, public
// parts only, and the keys it dropped with the reason. A body that is not a
// JWK Set, or has more than MaxJWKSKeys keys, is an error.
func ParseUsableJWKS(body []byte, maxRSABits int) (jwk.Set, []DroppedKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("not a JWK Set: %w", err)
	}
	if doc.Keys == nil {
		return nil, nil, errors.New(`not a JWK Set: no "keys" array`)
	}
	if len(doc.Keys) > MaxJWKSKeys {
		return nil, nil, fmt.Errorf("JWK Set has %d keys, more than %d", len(doc.Keys), MaxJWKSKeys)
	}
	set := jwk.NewSet()
	var dropped []DroppedKey
	for _, raw := range doc.Keys {
		var head jwkHead
		if err := json.Unmarshal(raw, &head); err != nil {
			dropped = append(dropped, DroppedKey{Reason: "not a JSON object: " + err.Error()})
			continue
		}
		if err := checkKeyHead(head, maxRSABits); err != nil {
			dropped = append(dropped, DroppedKey{KID: head.Kid, Reason: err.Error()})
			continue
		}
		key, err := jwk.ParseKey(raw)
		if err != nil {
			dropped = append(dropped, DroppedKey{KID: head.Kid, Reason: "not a valid JWK: " + err.Error()})
			continue
		}
		pub, err := usableSigningKey(key, maxRSABits)
		if err != nil {
			dropped = append(dropped, DroppedKey{KID: head.Kid, Reason: err.Error()})
			continue
		}
		_ = set.AddKey(pub)
	}
	return set, dropped, nil
}

// checkKeyHead refuses a key by its type, use, curve and modulus size, read
// from the raw JSON: nothing is computed on the modulus but its length.
func checkKeyHead(h jwkHead, maxRSABits int) error {
	if h.Use != "" && h.Use != string(jwk.ForSignature) {
		return fmt.Errorf("use %q is not \"sig\"", h.Use)
	}
	switch h.Kty {
	case string(jwa.RSA):
		n, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(h.N, "="))
		if err != nil {
			return errors.New("RSA modulus is not base64url")
		}
		return checkRSABits(modulusBits(n), maxRSABits)
	case string(jwa.EC):
		if h.Crv != string(jwa.P256) {
			return fmt.Errorf("EC curve %q is not P-256", h.Crv)
		}
		return nil
	default:
		return fmt.Errorf("kty %q is not RSA or EC (only PS256 and ES256 signatures are accepted)", h.Kty)
	}
}

// modulusBits is the bit length of the big-endian unsigned integer n.
func modulusBits(n []byte) int {
	for len(n) > 0 && n[0] == 0 {
		n = n[1:]
	}
	if len(n) == 0 {
		return 0
	}
	return (len(n)-1)*8 + bits.Len8(n[0])
}

func checkRSABits(n, maxRSABits int) error {
	if n < MinRSAKeyBits {
		return fmt.Errorf("RSA modulus %d bits is below %d", n, MinRSAKeyBits)
	}
	if max := clampRSABits(maxRSABits); n > max {
		return fmt.Errorf("RSA modulus %d bits exceeds %d", n, max)
	}
	return nil
}

// checkSigningKey refuses a parsed key that cannot verify PS256 or ES256
// within the size bounds. It reads only lengths and names, never the numbers.
func checkSigningKey(key jwk.Key, maxRSABits int) error {
	switch k := key.(type) {
	case jwk.RSAPublicKey:
		if len(k.E()) == 0 {
			return errors.New("RSA key has no exponent")
		}
		return checkRSABits(modulusBits(k.N()), maxRSABits)
	case jwk.ECDSAPublicKey:
		if k.Crv() != jwa.P256 {
			return fmt.Errorf("EC curve %q is not P-256", k.Crv())
		}
		return nil
	default:
		return fmt.Errorf("kty %q is not an RSA or EC public key", key.KeyType())
	}
}

// usableSigningKey returns the public part of key when it can verify PS256 or
// ES256 signatures within the size bounds, else why not. Private material is
// never returned.
func usableSigningKey(key jwk.Key, maxRSABits int) (jwk.Key, error) {
	if u := key.KeyUsage(); u != "" && u != string(jwk.ForSignature) {
		return nil, fmt.Errorf("use %q is not \"sig\"", u)
	}
	switch key.KeyType() {
	case jwa.RSA, jwa.EC:
	default:
		return nil, fmt.Errorf("kty %q is not RSA or EC", key.KeyType())
	}
	pub, err := key.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("no public key: %w", err)
	}
	if err := checkSigningKey(pub, maxRSABits); err != nil {
		return nil, err
	}
	if k, ok := pub.(jwk.ECDSAPublicKey); ok {
		var raw ecdsa.PublicKey
		if err := k.Raw(&raw); err != nil {
			return nil, fmt.Errorf("EC key: %w", err)
		}
		if _, err := raw.ECDH(); err != nil {
			return nil, errors.New("EC point is not on P-256")
		}
	}
	return pub, nil
}
