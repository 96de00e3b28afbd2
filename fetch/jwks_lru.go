package fetch

// The JWKS cache's index and eviction: a lock-free map from uri to entry, and
// an intrusive least-recently-used list under one mutex. Every operation is
// O(1) whatever the number of uris: a lookup is a map read and an atomic
// load; the list is touched at most once per second per entry, on an insert,
// and on an eviction, each a few pointer moves; nothing is copied.

import (
	"sync"
	"time"
)

// jwksLRU orders the cached entries from most to least recently used, at the
// resolution of a second (as the eviction has always been). root is a
// sentinel: root.next is the most recent entry, root.prev the least.
type jwksLRU struct {
	mu   sync.Mutex
	root jwksEntry
	len  int
}

func (l *jwksLRU) init() { l.root.next, l.root.prev = &l.root, &l.root }

// pushFront links e as the most recent entry. l.mu must be held.
func (l *jwksLRU) pushFront(e *jwksEntry) {
	e.prev, e.next = &l.root, l.root.next
	l.root.next.prev = e
	l.root.next = e
	l.len++
}

// unlink removes e from the list. l.mu must be held and e must be linked.
func (l *jwksLRU) unlink(e *jwksEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	l.len--
}

// moveToFront makes a linked e the most recent entry. l.mu must be held.
func (l *jwksLRU) moveToFront(e *jwksEntry) {
	if e.next == nil || l.root.next == e { // evicted meanwhile, or already first
		return
	}
	l.unlink(e)
	l.pushFront(e)
}

// lookup returns the entry of uri without creating it or marking it used.
func (c *JWKSCache) lookup(uri string) *jwksEntry {
	if v, ok := c.entries.Load(uri); ok {
		return v.(*jwksEntry)
	}
	return nil
}

// entry returns the cache entry of uri, creating it (and evicting the least
// recently used entry when full) if needed, and marks it used at now.
func (c *JWKSCache) entry(uri string, now time.Time) *jwksEntry {
	sec := now.Unix()
	e := c.lookup(uri)
	if e == nil {
		return c.insert(uri, sec)
	}
	// Only take the lock when the second changed: a hot uri is moved to the
	// front once a second, not on every call from every core.
	if e.lastUsed.Load() != sec {
		c.lru.mu.Lock()
		e.lastUsed.Store(sec)
		c.lru.moveToFront(e)
		c.lru.mu.Unlock()
	}
	return e
}

// insert adds an entry for uri unless another caller did first, evicting
// least recently used entries down to the bound. Inserts and evictions
// happen only under lru.mu, so the map and the list hold the same entries.
func (c *JWKSCache) insert(uri string, sec int64) *jwksEntry {
	c.lru.mu.Lock()
	defer c.lru.mu.Unlock()
	if e := c.lookup(uri); e != nil {
		e.lastUsed.Store(sec)
		c.lru.moveToFront(e)
		return e
	}
	for c.lru.len > 0 && c.lru.len >= c.maxEntries {
		victim := c.lru.root.prev
		c.lru.unlink(victim)
		c.entries.Delete(victim.uri)
	}
	e := &jwksEntry{uri: uri}
	e.lastUsed.Store(sec)
	c.lru.pushFront(e)
	c.entries.Store(uri, e)
	return e
}
