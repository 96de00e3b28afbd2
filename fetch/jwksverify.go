package fetch

import (
	"context"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dcrconsole/dcrconsole/jose"
)

// maxKidlessCandidates bounds the keys tried for a JWT without a kid, so that
// refusing a bogus one costs a few bounded verifications at most.
const maxKidlessCandidates = 8

// ErrSignature means a JWT's signature does not verify with the key(s) chosen for it.
var ErrSignature = errors.New("signature not verified")

// VerifyJWT checks t's signature with a key of the JWKS at uri and returns the
// key that verified it. A kid selects its key (an unknown kid refetches the
// set, at most every UnknownKidRefreshInterval). Without a kid, the set's only
// key is used; when anyFitting is true and the set has several keys, each key
// that fits t's alg is tried instead (RSA for PS256, EC P-256 for ES256, and
// the key's own alg, when set, equal to t's), at most maxKidlessCandidates.
// Errors are *JWKSLoadError, or wrap ErrKeyNotFound or ErrSignature.
func (c *JWKSCache) VerifyJWT(ctx context.Context, uri string, t *jose.JWT, anyFitting bool) (jwk.Key, error) {
	if kid := t.KeyID(); kid != "" || !anyFitting {
		key, err := c.Key(ctx, uri, kid)
		if err != nil {
			return nil, err
		}
		if err := t.VerifyBounded(key, c.MaxRSABits); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		return key, nil
	}
	now := c.now()
	e := c.entry(uri, now)
	st, err := c.current(ctx, e, now)
	if err != nil {
		return nil, err
	}
	key, err := c.verifyKidless(uri, st, t)
	if !errors.Is(err, ErrSignature) && !errors.Is(err, ErrKeyNotFound) {
		return key, err
	}
	// The ADR may have rotated to a key this copy does not hold yet: look
	// once more, under the same rate limit as an unknown kid.
	c.refreshForUnknownKid(ctx, e)
	if next := e.state.Load(); next != st && next.hasCopy() {
		return c.verifyKidless(uri, next, t)
	}
	return nil, err
}

// verifyKidless tries the keys of st that fit t's alg.
func (c *JWKSCache) verifyKidless(uri string, st *jwksState, t *jose.JWT) (jwk.Key, error) {
	if st.count == 0 {
		return nil, &JWKSLoadError{URI: uri, Err: st.noUsableKeys()}
	}
	if _, ok := jose.SigningAlg(t.Alg()); !ok {
		return nil, fmt.Errorf("%w: alg %q is not allowed (PS256 or ES256)", ErrSignature, t.Alg())
	}
	candidates := fittingKeys(st.set, t.Alg())
	switch {
	case len(candidates) == 0:
		return nil, fmt.Errorf("%w: no kid given and none of the %d usable keys at %s fits %s", ErrKeyNotFound, st.count, uri, t.Alg())
	case len(candidates) > maxKidlessCandidates:
		return nil, fmt.Errorf("%w: no kid given and %d keys at %s fit %s, more than the %d tried without a kid; the JWT must name its key",
			ErrKeyNotFound, len(candidates), uri, t.Alg(), maxKidlessCandidates)
	}
	for _, k := range candidates {
		if t.VerifyBounded(k, c.MaxRSABits) == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: no kid given and the signature verifies with none of the %d keys at %s that fit %s",
		ErrSignature, len(candidates), uri, t.Alg())
}

// fittingKeys returns the keys of set that can verify alg, in set order.
func fittingKeys(set jwk.Set, alg string) []jwk.Key {
	want := jwa.RSA
	if alg == string(jwa.ES256) {
		want = jwa.EC
	}
	var out []jwk.Key
	for i := range set.Len() {
		k, _ := set.Key(i)
		if k.KeyType() != want {
			continue
		}
		if u := k.KeyUsage(); u != "" && u != string(jwk.ForSignature) {
			continue
		}
		if a := k.Algorithm().String(); a != "" && a != alg {
			continue
		}
		out = append(out, k)
	}
	return out
}
