package fetch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"golang.org/x/sync/singleflight"

	"github.com/dcrconsole/dcrconsole/jose"
)

// ErrKeyNotFound means the JWKS has no usable signing key with the requested kid.
var ErrKeyNotFound = errors.New("signing key not found in JWKS")

// errNoUsableKeys means a JWKS was fetched and parsed but holds no key dcrconsole can verify with.
var errNoUsableKeys = errors.New("no keys: the JWKS has no usable signing key (RSA of 2048 bits up to outbound.max_rsa_key_bits, or EC P-256; use sig)")

// JWKSLoadError means the JWKS at URI could not be loaded (and no cached copy
// exists) or has no usable keys. It maps to ERR-GEN-021 / ERR-GEN-022.
type JWKSLoadError struct {
	URI string
	Err error
}

func (e *JWKSLoadError) Error() string { return fmt.Sprintf("jwks %s: %v", e.URI, e.Err) }

// Unwrap returns the cause.
func (e *JWKSLoadError) Unwrap() error { return e.Err }

// Limits of the cache.
const (
	defaultMaxJWKSEntries   = 10_000 // cached uris; the least recently used is evicted
	defaultUnknownKidPeriod = 30 * time.Second
)

// JWKSCache caches public signing keys by JWKS uri. Key is safe for heavy
// concurrent use: a cached lookup is two map reads and a few atomic loads, and
// takes a lock only for the first use of a uri in a given second (to mark it
// recently used); inserting and evicting a uri is O(1), whatever the number
// of uris cached (jwks_lru.go).
type JWKSCache struct {
	// UnknownKidRefreshInterval is the least time between two fetches of a uri
	// triggered by an unknown kid (default 30 s). Set it before first use.
	UnknownKidRefreshInterval time.Duration
	// MaxRSABits is the largest RSA modulus kept from a JWKS and verified with
	// (DefaultMaxRSAKeyBits when 0, never more than HardMaxRSAKeyBits). Set it
	// before first use.
	MaxRSABits int

	fetcher      *Fetcher
	fetchers     map[string]*Fetcher // per-uri fetchers set by UseFetcher; read-only after first use
	ttl          time.Duration
	log          *slog.Logger
	now          func() time.Time
	failureRetry time.Duration // after a failed refetch, serve the stale copy this long before trying again
	maxEntries   int

	// entries maps uri → *jwksEntry. A lookup takes no lock; an insert is
	// O(1) amortised and copies nothing (a sync.Map, not a copied map).
	entries sync.Map
	lru     jwksLRU // recency order for eviction, under its own mutex
	group   singleflight.Group
}

type jwksEntry struct {
	uri      string
	state    atomic.Pointer[jwksState]
	lastUsed atomic.Int64 // unix seconds of the last move to the front of lru

	prev, next *jwksEntry // links in lru, guarded by lru.mu; nil once evicted
}

// jwksState is immutable once stored.
type jwksState struct {
	set       jwk.Set            // usable public keys; nil until a fetch succeeded
	byKID     map[string]jwk.Key // kid → key, built once per fetch; nil for a set of one key (only)
	only      jwk.Key            // the single usable key, when there is exactly one
	count     int                // usable keys
	dropped   []jose.DroppedKey  // keys of the last fetched set that are not usable
	fetchedAt time.Time          // last successful fetch
	attemptAt time.Time          // last fetch attempt
	lastErr   error              // error of the last attempt, nil when it succeeded
}

func (s *jwksState) hasCopy() bool { return s != nil && s.set != nil }

// NewJWKSCache builds a cache that refetches a JWKS once it is older than ttl.
func NewJWKSCache(f *Fetcher, ttl time.Duration, log *slog.Logger) *JWKSCache {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	c := &JWKSCache{
		UnknownKidRefreshInterval: defaultUnknownKidPeriod,
		fetcher:                   f,
		ttl:                       ttl,
		log:                       log,
		now:                       time.Now,
		failureRetry:              defaultUnknownKidPeriod,
		maxEntries:                defaultMaxJWKSEntries,
	}
	c.lru.init()
	return c
}

// Key returns the public signing key for kid at uri. An empty kid selects the
// set's only usable key. Errors are *JWKSLoadError or wrap ErrKeyNotFound.
// The returned key is shared: callers must not modify it.
func (c *JWKSCache) Key(ctx context.Context, uri, kid string) (jwk.Key, error) {
	now := c.now()
	e := c.entry(uri, now)
	st, err := c.current(ctx, e, now)
	if err != nil {
		return nil, err
	}
	if k := st.lookup(kid); k != nil {
		return k, nil
	}
	if kid == "" {
		if st.count == 0 {
			return nil, &JWKSLoadError{URI: uri, Err: st.noUsableKeys()}
		}
		return nil, fmt.Errorf("%w: no kid given and %d usable keys at %s", ErrKeyNotFound, st.count, uri)
	}
	// The ADR may have rotated its keys since the last fetch: look once more.
	c.refreshForUnknownKid(ctx, e)
	st = e.state.Load()
	if k := st.lookup(kid); k != nil {
		return k, nil
	}
	if st.count == 0 {
		return nil, &JWKSLoadError{URI: uri, Err: st.noUsableKeys()}
	}
	if d, ok := st.droppedKID(kid); ok {
		return nil, fmt.Errorf("%w: kid %q at %s: %s", ErrKeyNotFound, kid, uri, d)
	}
	return nil, fmt.Errorf("%w: kid %q at %s", ErrKeyNotFound, kid, uri)
}

// noUsableKeys is errNoUsableKeys with the reasons the keys were dropped, so
// that an operator can tell the ADR what to fix.
func (s *jwksState) noUsableKeys() error {
	if len(s.dropped) == 0 {
		return errNoUsableKeys
	}
	reasons := make([]string, len(s.dropped))
	for i, d := range s.dropped {
		reasons[i] = d.String()
	}
	return fmt.Errorf("%w; %s", errNoUsableKeys, strings.Join(reasons, "; "))
}

// droppedKID returns the dropped key named kid, if any.
func (s *jwksState) droppedKID(kid string) (jose.DroppedKey, bool) {
	for _, d := range s.dropped {
		if d.KID == kid {
			return d, true
		}
	}
	return jose.DroppedKey{}, false
}

func (s *jwksState) lookup(kid string) jwk.Key {
	if s == nil {
		return nil
	}
	if kid == "" {
		return s.only
	}
	if s.byKID == nil {
		// Most ADRs publish one key: a map per cached set would be most of
		// the cache's memory (2 MB of 5 at 10,000 sets).
		if s.only != nil && s.only.KeyID() == kid {
			return s.only
		}
		return nil
	}
	return s.byKID[kid]
}

// Snapshot returns the cached set for uri (usable public keys only), the time
// of the last successful fetch and the error of the last attempt, without
// fetching. ok reports whether uri was ever fetched; set is nil while no fetch
// has succeeded.
func (c *JWKSCache) Snapshot(uri string) (set jwk.Set, fetchedAt time.Time, lastErr error, ok bool) {
	e := c.lookup(uri)
	if e == nil {
		return nil, time.Time{}, nil, false
	}
	st := e.state.Load()
	if st == nil {
		return nil, time.Time{}, nil, false
	}
	if st.set != nil {
		if clone, err := st.set.Clone(); err == nil {
			set = clone
		}
	}
	return set, st.fetchedAt, st.lastErr, true
}

// DroppedKeys returns why keys of the last fetched set at uri were left out
// ("key kid=X dropped: RSA modulus 1000000 bits exceeds 4096"), without fetching.
func (c *JWKSCache) DroppedKeys(uri string) []string {
	e := c.lookup(uri)
	if e == nil {
		return nil
	}
	st := e.state.Load()
	if st == nil {
		return nil
	}
	out := make([]string, len(st.dropped))
	for i, d := range st.dropped {
		out[i] = d.String()
	}
	return out
}

// Refresh fetches uri now (the console's "refresh now"). On failure the
// previous copy, if any, stays in use and the error is returned as *JWKSLoadError.
func (c *JWKSCache) Refresh(ctx context.Context, uri string) error {
	e := c.entry(uri, c.now())
	if err := c.await(ctx, e, nil, true); err != nil {
		return &JWKSLoadError{URI: uri, Err: err}
	}
	return nil
}

// UseFetcher fetches uri with f instead of the cache's own fetcher: the CDR
// Register's JWKS is bounded by register.max_response_bytes, not by the ADR
// limit. Call it before first use.
func (c *JWKSCache) UseFetcher(uri string, f *Fetcher) {
	if c.fetchers == nil {
		c.fetchers = map[string]*Fetcher{}
	}
	c.fetchers[uri] = f
}
