package auth

import (
	"strings"
	"sync"
	"time"
)

// Login throttling: after accountLimit failures for one username, or
// addressLimit failures from one address, within window, further attempts are
// refused until the window has passed since the last failure. Counters live in
// memory: a restart forgives, which is acceptable for an on-prem console whose
// passwords are long; bcrypt bounds the guessing rate anyway.
const (
	accountLimit = 5
	addressLimit = 20
	window       = 15 * time.Minute
	maxTracked   = 100_000
)

type failures struct {
	n    int
	last time.Time
}

type throttle struct {
	mu        sync.Mutex
	byAccount map[string]*failures
	byAddress map[string]*failures
}

func newThrottle() *throttle {
	return &throttle{byAccount: map[string]*failures{}, byAddress: map[string]*failures{}}
}

func (t *throttle) blocked(username, addr string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	wait := time.Duration(0)
	check := func(m map[string]*failures, key string, limit int) {
		f := m[key]
		if f == nil {
			return
		}
		if now.Sub(f.last) > window {
			delete(m, key)
			return
		}
		if f.n >= limit {
			if w := window - now.Sub(f.last); w > wait {
				wait = w
			}
		}
	}
	check(t.byAccount, strings.ToLower(username), accountLimit)
	check(t.byAddress, addr, addressLimit)
	return wait
}

func (t *throttle) fail(username, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range []struct {
		m   map[string]*failures
		key string
	}{{t.byAccount, strings.ToLower(username)}, {t.byAddress, addr}} {
		if len(e.m) >= maxTracked {
			for k, f := range e.m { // drop stale entries; the map cannot grow without bound
				if now.Sub(f.last) > window {
					delete(e.m, k)
				}
			}
		}
		f := e.m[e.key]
		if f == nil {
			if len(e.m) >= maxTracked {
				continue
			}
			f = &failures{}
			e.m[e.key] = f
		}
		f.n++
		f.last = now
	}
}

func (t *throttle) succeed(username, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.byAccount, strings.ToLower(username))
	_ = addr // a success does not forgive other accounts' failures from the same address
}
