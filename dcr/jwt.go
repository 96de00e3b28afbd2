package dcr

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/dcrconsole/dcrconsole/jsonlimit"
)

// JWT is a compact JWS split and decoded, before its signature is checked.
// Nothing in it is trusted until Verify succeeds.
type JWT struct {
	Raw    string
	Header map[string]any
	Claims map[string]any
	// HeaderJSON and ClaimsJSON are the decoded segments as received.
	HeaderJSON []byte
	ClaimsJSON []byte
}

// maxJWTSize bounds a token handed to ParseJWT; bodies are bounded before this too.
const maxJWTSize = 64 << 10

// ParseJWT splits and decodes a compact JWS without verifying it: exactly three
// base64url segments, a JSON object header with a string "alg", a JSON object
// payload, neither nesting deeper than jsonlimit.MaxDepth.
func ParseJWT(raw string) (*JWT, error) {
	if raw == "" {
		return nil, errors.New("empty")
	}
	if len(raw) > maxJWTSize {
		return nil, fmt.Errorf("token of %d bytes exceeds %d", len(raw), maxJWTSize)
	}
	hj, pj, err := SplitJWT(raw)
	if err != nil {
		return nil, err
	}
	t := &JWT{Raw: raw, HeaderJSON: hj, ClaimsJSON: pj}
	if err := decodeObject(hj, &t.Header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if _, ok := t.Header["alg"].(string); !ok {
		return nil, errors.New("header has no string 'alg'")
	}
	if err := decodeObject(pj, &t.Claims); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return t, nil
}

// SplitJWT splits a compact JWS into its decoded header and payload, without
// decoding their JSON: exactly three base64url segments, header and payload not
// empty. The console uses it to show what a client sent even when ParseJWT
// refuses it.
func SplitJWT(raw string) (header, payload []byte, err error) {
	h, rest, ok := strings.Cut(raw, ".")
	if !ok {
		return nil, nil, errors.New("not a compact JWS: no '.'")
	}
	p, s, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(s, ".") {
		return nil, nil, errors.New("not a compact JWS: want exactly three segments")
	}
	if h == "" || p == "" {
		return nil, nil, errors.New("not a compact JWS: empty header or payload")
	}
	if header, err = base64.RawURLEncoding.DecodeString(h); err != nil {
		return nil, nil, fmt.Errorf("header is not base64url: %w", err)
	}
	if payload, err = base64.RawURLEncoding.DecodeString(p); err != nil {
		return nil, nil, fmt.Errorf("payload is not base64url: %w", err)
	}
	if _, err := base64.RawURLEncoding.DecodeString(s); err != nil {
		return nil, nil, fmt.Errorf("signature is not base64url: %w", err)
	}
	return header, payload, nil
}

// decodeObject decodes a JSON object a client sent. Its nesting is measured
// first, in one pass that allocates nothing: no CDR claim nests deeper than
// three levels, and decoding thousands of levels costs memory for nothing.
func decodeObject(b []byte, into *map[string]any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not a JSON object")
	}
	if err := jsonlimit.CheckDepth(b, jsonlimit.MaxDepth); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return errors.New("trailing data after JSON object")
	}
	return nil
}

// Alg is the header's alg.
func (t *JWT) Alg() string { s, _ := t.Header["alg"].(string); return s }

// KeyID is the header's kid ("" when absent or not a string).
func (t *JWT) KeyID() string { s, _ := t.Header["kid"].(string); return s }

// String returns claim name when it is a string ("" otherwise), and whether it was present at all.
func (t *JWT) String(name string) (string, bool) {
	v, present := t.Claims[name]
	s, _ := v.(string)
	return s, present
}

// allowedSigningAlgs are the only algorithms accepted on SSAs and requests
// (stricter than JOSE: never none, never HMAC).
var allowedSigningAlgs = map[string]jwa.SignatureAlgorithm{
	"PS256": jwa.PS256,
	"ES256": jwa.ES256,
}

// Verify checks the token's signature with key. The header alg must be PS256 or
// ES256 and must fit the key type (RSA of MinRSAKeyBits..HardMaxRSAKeyBits for
// PS256, EC P-256 for ES256), and the header may not carry "crit" parameters
// this code does not understand.
func (t *JWT) Verify(key jwk.Key) error { return t.verifyBounded(key, HardMaxRSAKeyBits) }

// verifyBounded is Verify with RSA keys bounded to maxRSABits. The key's size
// and kind are checked before any arithmetic on it, so refusing a bogus token
// costs one bounded verification whatever key it names.
func (t *JWT) verifyBounded(key jwk.Key, maxRSABits int) error {
	alg, ok := allowedSigningAlgs[t.Alg()]
	if !ok {
		return fmt.Errorf("alg %q is not allowed (PS256 or ES256)", t.Alg())
	}
	if _, ok := t.Header["crit"]; ok {
		return errors.New("header carries 'crit', which is not supported")
	}
	if err := checkSigningKey(key, maxRSABits); err != nil {
		return fmt.Errorf("key %q refused: %w", key.KeyID(), err)
	}
	var raw any
	if err := key.Raw(&raw); err != nil {
		return fmt.Errorf("key: %w", err)
	}
	switch k := raw.(type) {
	case *rsa.PublicKey:
		if alg != jwa.PS256 {
			return fmt.Errorf("alg %s does not fit RSA key %q", alg, key.KeyID())
		}
	case *ecdsa.PublicKey:
		if alg != jwa.ES256 || k.Curve != elliptic.P256() {
			return fmt.Errorf("alg %s does not fit EC key %q", alg, key.KeyID())
		}
	default:
		return fmt.Errorf("key %q of type %T cannot verify %s", key.KeyID(), raw, alg)
	}
	if _, err := jws.Verify([]byte(t.Raw), jws.WithKey(alg, raw)); err != nil {
		return fmt.Errorf("signature does not verify with key %q: %w", key.KeyID(), err)
	}
	return nil
}
