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
// passwords are long; argon2id bounds the guessing rate anyway.
const (
	accountLimit = 5
	addressLimit = 20
	window       = 15 * time.Minute
	maxTracked   = 100_000
)

type failures struct {
	n        int // failures within the window
	inflight int // attempts reserved and not yet finished
	last     time.Time
}

type throttle struct {
	mu        sync.Mutex
	byAccount map[string]*failures
	byAddress map[string]*failures
}

func newThrottle() *throttle {
	return &throttle{byAccount: map[string]*failures{}, byAddress: map[string]*failures{}}
}

// begin reserves an attempt for username from addr: it returns how long to wait
// when the account or the address is over its limit (counting attempts still in
// flight), and 0 when the attempt may go ahead; every 0 must be followed by end.
func (t *throttle) begin(username, addr string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := [2]string{strings.ToLower(username), addr}
	maps := [2]map[string]*failures{t.byAccount, t.byAddress}
	limits := [2]int{accountLimit, addressLimit}
	wait := time.Duration(0)
	for i, m := range maps {
		f := m[keys[i]]
		if f == nil {
			continue
		}
		if f.inflight == 0 && now.Sub(f.last) > window {
			delete(m, keys[i])
			continue
		}
		if f.n+f.inflight >= limits[i] {
			w := window - now.Sub(f.last)
			if f.n < limits[i] || w <= 0 { // the limit is reached by attempts in flight
				w = time.Second
			}
			wait = max(wait, w)
		}
	}
	if wait > 0 {
		return wait
	}
	for i, m := range maps {
		f := m[keys[i]]
		if f == nil {
			if len(m) >= maxTracked {
				t.dropStale(m, now)
			}
			if len(m) >= maxTracked {
				continue
			}
			f = &failures{last: now}
			m[keys[i]] = f
		}
		f.inflight++
	}
	return 0
}

// end finishes an attempt begun with begin; ok forgives the account's failures.
func (t *throttle) end(username, addr string, now time.Time, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := [2]string{strings.ToLower(username), addr}
	for i, m := range [2]map[string]*failures{t.byAccount, t.byAddress} {
		f := m[keys[i]]
		if f == nil {
			continue
		}
		if f.inflight > 0 {
			f.inflight--
		}
		switch {
		case !ok:
			f.n++
			f.last = now
		case i == 0: // a success forgives the account, not other accounts' failures from the address
			f.n = 0
		}
		if f.n == 0 && f.inflight == 0 {
			delete(m, keys[i])
		}
	}
}

func (t *throttle) dropStale(m map[string]*failures, now time.Time) {
	for k, f := range m {
		if f.inflight == 0 && now.Sub(f.last) > window {
			delete(m, k)
		}
	}
}
