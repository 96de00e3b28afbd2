package cdrsim

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// rsaKeyBits is the size of every RSA key the simulators generate.
const rsaKeyBits = 2048

// b64 is the base64url encoding without padding used by JWS.
var b64 = base64.RawURLEncoding

// isRSAAlg reports whether alg is an RSA signature algorithm (RS* or PS*).
func isRSAAlg(alg jwa.SignatureAlgorithm) bool {
	switch alg {
	case jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512:
		return true
	}
	return false
}

// isNone reports whether alg is the unsecured "none" algorithm, in any case.
func isNone(alg jwa.SignatureAlgorithm) bool {
	return strings.EqualFold(string(alg), string(jwa.NoSignature))
}

// newRSAKey generates an RSA-2048 key and its RFC 7638 thumbprint kid.
func newRSAKey() (*rsa.PrivateKey, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return nil, "", fmt.Errorf("cdrsim: generate RSA key: %w", err)
	}
	kid, err := thumbprint(&key.PublicKey)
	if err != nil {
		return nil, "", err
	}
	return key, kid, nil
}

// newECKey generates an ECDSA P-256 key and its RFC 7638 thumbprint kid.
func newECKey() (*ecdsa.PrivateKey, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("cdrsim: generate EC key: %w", err)
	}
	kid, err := thumbprint(&key.PublicKey)
	if err != nil {
		return nil, "", err
	}
	return key, kid, nil
}

// thumbprint returns the base64url SHA-256 JWK thumbprint (RFC 7638) of pub.
func thumbprint(pub any) (string, error) {
	k, err := jwk.FromRaw(pub)
	if err != nil {
		return "", fmt.Errorf("cdrsim: key to JWK: %w", err)
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("cdrsim: JWK thumbprint: %w", err)
	}
	return b64.EncodeToString(tp), nil
}

// publicJWK returns pub as a signing JWK with kid, alg and use "sig".
func publicJWK(pub any, kid string, alg jwa.SignatureAlgorithm) (jwk.Key, error) {
	k, err := jwk.FromRaw(pub)
	if err != nil {
		return nil, fmt.Errorf("cdrsim: key to JWK: %w", err)
	}
	for name, value := range map[string]any{
		jwk.KeyIDKey:     kid,
		jwk.AlgorithmKey: alg,
		jwk.KeyUsageKey:  jwk.ForSignature,
	} {
		if err := k.Set(name, value); err != nil {
			return nil, fmt.Errorf("cdrsim: set JWK %s: %w", name, err)
		}
	}
	return k, nil
}

// marshalJWKS returns the JSON of a JWK set holding keys.
func marshalJWKS(keys ...jwk.Key) ([]byte, error) {
	set := jwk.NewSet()
	for _, k := range keys {
		if err := set.AddKey(k); err != nil {
			return nil, fmt.Errorf("cdrsim: build JWKS: %w", err)
		}
	}
	body, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("cdrsim: encode JWKS: %w", err)
	}
	return body, nil
}

// withAlg returns a copy of header (typ "JWT" when header is nil) whose "alg"
// is alg unless header already names one.
func withAlg(header map[string]any, alg jwa.SignatureAlgorithm) map[string]any {
	h := maps.Clone(header)
	if h == nil {
		h = map[string]any{"typ": "JWT"}
	}
	if _, ok := h["alg"]; !ok {
		h["alg"] = string(alg)
	}
	return h
}

// signCompact builds a compact JWS over claims by hand, so that the header is
// serialised exactly as given, even when it lies about alg or kid or lacks
// them (hostile tests need that). The signature is computed with alg and key
// through jwx's signers; key may be a raw private key, a jwk.Key or []byte for
// HS*. For "none" (any case) the token is unsigned: "header.payload.".
func signCompact(alg jwa.SignatureAlgorithm, key any, header, claims map[string]any) (string, error) {
	if header == nil {
		header = map[string]any{}
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("cdrsim: encode JWS header: %w", err)
	}
	pj, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("cdrsim: encode JWT claims: %w", err)
	}
	input := b64.EncodeToString(hj) + "." + b64.EncodeToString(pj)
	if isNone(alg) {
		return input + ".", nil
	}
	if key == nil || isNilPointer(key) {
		return "", fmt.Errorf("cdrsim: %s needs a key", alg)
	}
	signer, err := jws.NewSigner(alg)
	if err != nil {
		return "", fmt.Errorf("cdrsim: %w", err)
	}
	sig, err := signer.Sign([]byte(input), key)
	if err != nil {
		return "", fmt.Errorf("cdrsim: sign with %s: %w", alg, err)
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// isNilPointer reports whether v is a typed nil pointer, which the signers
// would dereference.
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// UnverifiedClaims decodes the payload of a compact JWS without checking its
// signature. It is meant for tests that inspect what a simulator signed.
func UnverifiedClaims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("cdrsim: not a compact JWS")
	}
	payload, err := b64.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, fmt.Errorf("cdrsim: decode JWS payload: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("cdrsim: JWS payload is not a JSON object: %w", err)
	}
	if claims == nil {
		return nil, errors.New("cdrsim: JWS payload is not a JSON object")
	}
	return claims, nil
}

// stringsToAny converts a string slice to the []any form of decoded JSON.
func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
