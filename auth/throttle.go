package auth

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// Login throttling: after accountLimit failures for one username, or
// addressLimit failures from one address, within window, further attempts are
// refused until the window has passed since the last failure. The failures
// are counted in the database (login_failures), so a restart does not forgive
// them; the attempts in flight are reserved in memory, where a crash cannot
// leave a reservation behind. Wrong second factors count like wrong passwords.
const (
	accountLimit = 5
	addressLimit = 20
	window       = 15 * time.Minute
)

type throttleKey struct{ kind, subject string }

type throttle struct {
	db *store.DB
	// mu orders begin's read-check-reserve, so a burst of concurrent guesses
	// counts against the limit as it arrives.
	mu       sync.Mutex
	inflight map[throttleKey]int // attempts reserved and not yet finished
}

func newThrottle(db *store.DB) *throttle {
	return &throttle{db: db, inflight: map[throttleKey]int{}}
}

func throttleKeys(username, addr string) [2]throttleKey {
	return [2]throttleKey{{store.FailureAccount, strings.ToLower(username)}, {store.FailureAddress, addr}}
}

// begin reserves an attempt for username from addr: it returns how long to wait
// when the account or the address is over its limit (counting attempts still in
// flight), and 0 when the attempt may go ahead; every 0 must be followed by end.
func (t *throttle) begin(ctx context.Context, username, addr string, now time.Time) (time.Duration, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := throttleKeys(username, addr)
	limits := [2]int{accountLimit, addressLimit}
	wait := time.Duration(0)
	for i, k := range keys {
		f, err := t.db.LoginFailures(ctx, k.kind, k.subject)
		if err != nil {
			return 0, err
		}
		n, last := 0, now
		if f != nil && now.Sub(f.LastAt) <= window {
			n, last = f.Failures, f.LastAt
		}
		if n+t.inflight[k] >= limits[i] {
			w := window - now.Sub(last)
			if n < limits[i] || w <= 0 { // the limit is reached by attempts in flight
				w = time.Second
			}
			wait = max(wait, w)
		}
	}
	if wait > 0 {
		return wait, nil
	}
	for _, k := range keys {
		t.inflight[k]++
	}
	return 0, nil
}

// end finishes an attempt begun with begin; ok forgives the account's failures
// (not other accounts' failures from the address). The outcome is written
// before the reservation is released, so the attempt is counted throughout.
func (t *throttle) end(ctx context.Context, username, addr string, now time.Time, ok bool) error {
	keys := throttleKeys(username, addr)
	err := t.db.Tx(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		if ok {
			_, err := store.ClearLoginFailures(tx, keys[0].kind, keys[0].subject)
			return err
		}
		for _, k := range keys {
			if err := store.AddLoginFailure(tx, k.kind, k.subject, now.UTC(), now.Add(-window).UTC()); err != nil {
				return err
			}
		}
		return nil
	})
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if t.inflight[k]--; t.inflight[k] <= 0 {
			delete(t.inflight, k)
		}
	}
	return err
}

// Lockout is a throttled account or address, for the administrator's unlock.
type Lockout struct {
	Kind     string // store.FailureAccount or store.FailureAddress
	Subject  string // the lower-cased username or the address
	Failures int
	LastAt   time.Time
	Until    time.Time // when the throttle lifts by itself
}

// Lockouts lists the accounts and addresses refused sign-in now, newest first.
func (s *Service) Lockouts(ctx context.Context) ([]Lockout, error) {
	now := s.Now()
	rows, err := s.db.RecentLoginFailures(ctx, now.Add(-window).UTC(), accountLimit, 500)
	if err != nil {
		return nil, err
	}
	var out []Lockout
	for _, f := range rows {
		if f.Kind == store.FailureAddress && f.Failures < addressLimit {
			continue
		}
		out = append(out, Lockout{Kind: f.Kind, Subject: f.Subject, Failures: f.Failures, LastAt: f.LastAt, Until: f.LastAt.Add(window)})
	}
	return out, nil
}

// Unlock forgives the failures of an account (kind store.FailureAccount, the
// username) or an address, on an administrator's behalf; audited.
func (s *Service) Unlock(ctx context.Context, actor, kind, subject, remote string) error {
	if kind != store.FailureAccount && kind != store.FailureAddress {
		return ErrNotLocked
	}
	if kind == store.FailureAccount {
		subject = strings.ToLower(strings.TrimSpace(subject))
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		n, err := store.ClearLoginFailures(tx, kind, subject)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotLocked
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorUnlock, actor, store.OutcomeSuccess, "unlocked sign-in for "+kind+" "+subject, remote))
	})
}

// pruneFailures drops the counters that no longer throttle anyone.
func (s *Service) pruneFailures(tx *store.Tx, now time.Time) error {
	_, err := store.PruneLoginFailures(tx, now.Add(-window).UTC())
	return err
}
