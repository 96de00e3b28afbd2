package fetch

import (
	"sort"
	"time"
)

// JWKSOutage is a cached JWKS uri whose downloads have failed since Since.
type JWKSOutage struct {
	URI     string
	Since   time.Time // the first failed download since the last good one
	LastErr string
}

// TTL is how long a fetched key set is used before it is fetched again.
func (c *JWKSCache) TTL() time.Duration { return c.ttl }

// Outages lists the cached uris that have been unreachable for longer than
// the cache TTL (every download since the first failure failed), oldest
// outage first, without fetching. The cache knows only the uris it was asked
// for: an ADR's JWKS is fetched when one of its clients uses it.
func (c *JWKSCache) Outages() []JWKSOutage {
	now := c.now()
	var out []JWKSOutage
	c.entries.Range(func(_, v any) bool {
		e := v.(*jwksEntry)
		st := e.state.Load()
		if st == nil || st.failingSince.IsZero() || now.Sub(st.failingSince) <= c.ttl {
			return true
		}
		msg := ""
		if st.lastErr != nil {
			msg = st.lastErr.Error()
		}
		out = append(out, JWKSOutage{URI: e.uri, Since: st.failingSince, LastErr: msg})
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out
}
