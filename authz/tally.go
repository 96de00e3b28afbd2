package authz

import (
	"maps"
	"sync"

	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store"
)

// TokenKey is one kind of POST /token outcome: success (a token issued),
// rejected (refused because of the client) or error (our side failed), with
// the error code ("" on success; a closed set, see dcr.BoundCode).
type TokenKey struct {
	Outcome store.Outcome
	Code    string
}

// tokenTally keeps the token endpoint's totals since start, for monitoring.
type tokenTally struct {
	mu     sync.Mutex
	counts map[TokenKey]uint64
}

// Tally reads the token endpoint's totals since start; the map is the caller's.
func (s *TokenService) Tally() map[TokenKey]uint64 {
	s.tally.mu.Lock()
	defer s.tally.mu.Unlock()
	return maps.Clone(s.tally.counts)
}

// counted counts the attempt ev records.
func (t *tokenTally) counted(ev *store.AuditEvent) {
	t.count(TokenKey{Outcome: ev.Outcome, Code: ev.ErrorCode})
}

// failed counts an attempt that failed on our side without an audit event.
func (t *tokenTally) failed(derr *dcr.Error) {
	t.count(TokenKey{Outcome: store.OutcomeError, Code: derr.Code})
}

func (t *tokenTally) count(k TokenKey) {
	k.Code = dcr.BoundCode(k.Code)
	if k.Outcome == store.OutcomeSuccess {
		k.Code = ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = map[TokenKey]uint64{}
	}
	t.counts[k]++
}
