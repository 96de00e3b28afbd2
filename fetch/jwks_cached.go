package fetch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dcrconsole/dcrconsole/jose"
)

// CachedKeys verifies JWTs with the copies the cache holds, never fetching:
// the console's replay of a stored attempt judges it with the keys as cached,
// not as they are now at the ADR. It remembers when each copy it used was
// fetched, so the replay can say how its keys stand to the attempt's time.
type CachedKeys struct {
	c    *JWKSCache
	mu   sync.Mutex
	used map[string]time.Time // uri → fetchedAt of the copy used
}

// CachedOnly returns a verifier over the cache's current copies.
func (c *JWKSCache) CachedOnly() *CachedKeys {
	return &CachedKeys{c: c, used: map[string]time.Time{}}
}

// VerifyJWT is JWKSCache.VerifyJWT on the cached copy of uri only. A uri
// never fetched, or without a good copy, is a *JWKSLoadError saying so.
func (k *CachedKeys) VerifyJWT(_ context.Context, uri string, t *jose.JWT, anyFitting bool) (jwk.Key, error) {
	e := k.c.lookup(uri)
	var st *jwksState
	if e != nil {
		st = e.state.Load()
	}
	if !st.hasCopy() {
		return nil, &JWKSLoadError{URI: uri, Err: fmt.Errorf("no cached copy of this JWKS (replays never fetch)")}
	}
	k.mu.Lock()
	k.used[uri] = st.fetchedAt
	k.mu.Unlock()
	kid := t.KeyID()
	if kid == "" && anyFitting {
		return k.c.verifyKidless(uri, st, t)
	}
	key := st.lookup(kid)
	if key == nil {
		if st.count == 0 {
			return nil, &JWKSLoadError{URI: uri, Err: st.noUsableKeys()}
		}
		return nil, fmt.Errorf("%w: kid %q is not in the copy of %s cached at %s", ErrKeyNotFound, kid, uri, st.fetchedAt.UTC().Format(time.RFC3339))
	}
	if err := t.VerifyBounded(key, k.c.MaxRSABits); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return key, nil
}

// Used lists the copies verified with: uri → when that copy was fetched.
func (k *CachedKeys) Used() map[string]time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]time.Time, len(k.used))
	for u, t := range k.used {
		out[u] = t
	}
	return out
}
