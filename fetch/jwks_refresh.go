package fetch

// The refresh machinery of the JWKS cache: when a copy is current enough, the
// single flight that fetches a uri once for every waiting caller, the
// rate-limited refetch on an unknown kid, and storing a fetch's outcome.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"golang.org/x/sync/singleflight"

	"github.com/dcrconsole/dcrconsole/jose"
)

// current returns a usable state of e, fetching when there is no copy or the copy expired.
func (c *JWKSCache) current(ctx context.Context, e *jwksEntry, now time.Time) (*jwksState, error) {
	seen := e.state.Load()
	if seen.hasCopy() {
		if now.Sub(seen.fetchedAt) < c.ttl {
			return seen, nil
		}
		// The source is failing: serve the stale copy instead of making every
		// caller wait for another timeout.
		if seen.lastErr != nil && now.Sub(seen.attemptAt) < c.failureRetry {
			return seen, nil
		}
	}
	err := c.await(ctx, e, seen, false)
	st := e.state.Load()
	if st.hasCopy() {
		return st, nil
	}
	if err == nil {
		err = errors.New("fetch did not complete")
	}
	return nil, &JWKSLoadError{URI: e.uri, Err: err}
}

// await runs (or joins) the fetch of e.uri and waits for it or for ctx. The
// fetch itself is not tied to ctx: other callers may be waiting for it, and
// the Fetcher's timeout bounds it. seen is the state the caller found wanting
// (see startFetch); nil with force fetches in any case.
func (c *JWKSCache) await(ctx context.Context, e *jwksEntry, seen *jwksState, force bool) error {
	ch := c.startFetch(ctx, e, seen, force)
	select {
	case r := <-ch:
		return e.adopt(r)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// adopt returns the outcome of a finished flight. The flight may belong to an
// entry of the same uri that was evicted while it ran: an entry with no copy
// yet takes its outcome, instead of reporting a fetch that did not complete.
func (e *jwksEntry) adopt(r singleflight.Result) error {
	if st, _ := r.Val.(*jwksState); st != nil {
		e.state.CompareAndSwap(nil, st)
	}
	return r.Err
}

// startFetch starts (or joins) the one flight of e.uri. Unless force, a flight
// that finds e's state no longer the seen one does not fetch: another flight
// finished between the caller's look and this one, and its outcome is as
// fresh as a new fetch would be.
func (c *JWKSCache) startFetch(ctx context.Context, e *jwksEntry, seen *jwksState, force bool) <-chan singleflight.Result {
	fctx := context.WithoutCancel(ctx)
	return c.group.DoChan(e.uri, func() (any, error) {
		if st := e.state.Load(); !force && st != seen {
			return st, st.lastErr
		}
		err := c.fetch(fctx, e)
		return e.state.Load(), err
	})
}

// refreshForUnknownKid refetches e at most once per UnknownKidRefreshInterval
// (any fetch counts); callers arriving while such a refetch runs join its
// single flight and wait for it.
func (c *JWKSCache) refreshForUnknownKid(ctx context.Context, e *jwksEntry) {
	if st := e.state.Load(); st != nil && c.now().Sub(st.attemptAt) < c.UnknownKidRefreshInterval {
		return
	}
	_ = c.await(ctx, e, nil, true)
}

// fetch downloads and parses e.uri and stores the outcome. A failed fetch
// keeps the previous copy; a valid set without usable keys replaces it (the
// ADR withdrew its keys, and old ones must stop working).
func (c *JWKSCache) fetch(ctx context.Context, e *jwksEntry) error {
	set, dropped, err := c.download(ctx, e.uri)
	now := c.now()
	old := e.state.Load()
	if err != nil {
		next := &jwksState{attemptAt: now, lastErr: err}
		if old != nil {
			next.set, next.byKID, next.only, next.count, next.fetchedAt, next.dropped = old.set, old.byKID, old.only, old.count, old.fetchedAt, old.dropped
		}
		e.state.Store(next)
		if next.hasCopy() {
			c.log.Warn("jwks fetch failed; serving the last good copy", "uri", e.uri, "fetched_at", next.fetchedAt, "err", err)
		} else {
			c.log.Warn("jwks fetch failed", "uri", e.uri, "err", err)
		}
		return err
	}
	next := indexJWKS(set)
	next.fetchedAt, next.attemptAt, next.dropped = now, now, dropped
	for _, d := range dropped {
		c.log.Warn("jwks key dropped", "uri", e.uri, "kid", d.KID, "reason", d.Reason)
	}
	if next.count == 0 {
		next.lastErr = next.noUsableKeys()
	}
	e.state.Store(next)
	c.log.Debug("jwks fetched", "uri", e.uri, "keys", next.count)
	return next.lastErr
}

// download fetches and parses uri; the fetcher bounds the document's size.
func (c *JWKSCache) download(ctx context.Context, uri string) (jwk.Set, []jose.DroppedKey, error) {
	f := c.fetcher
	if own, ok := c.fetchers[uri]; ok {
		f = own
	}
	resp, err := f.Get(ctx, uri, http.Header{"Accept": {"application/json, application/jwk-set+json"}})
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	return jose.ParseUsableJWKS(resp.Body, c.MaxRSABits)
}

func indexJWKS(set jwk.Set) *jwksState {
	st := &jwksState{set: set, count: set.Len()}
	if st.count == 1 {
		st.only, _ = set.Key(0)
		return st
	}
	st.byKID = make(map[string]jwk.Key, set.Len())
	for i := range set.Len() {
		k, _ := set.Key(i)
		if kid := k.KeyID(); kid != "" {
			if _, dup := st.byKID[kid]; !dup { // the first key with a kid wins
				st.byKID[kid] = k
			}
		}
	}
	return st
}
