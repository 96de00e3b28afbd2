package audit

import (
	"cmp"
	"context"
	"slices"

	"github.com/dcrconsole/dcrconsole/store"
)

// A registration attempt is a POST or PUT /register (or its processing-API
// twin) that was refused or failed: the events the console's attempts pages list.
var (
	attemptTypes    = []store.EventType{store.EventRegistrationCreate, store.EventRegistrationUpdate}
	attemptOutcomes = []store.Outcome{store.OutcomeRejected, store.OutcomeError}
)

// IsAttempt says whether e is a refused or failed registration attempt.
func IsAttempt(e *store.AuditEvent) bool {
	return slices.Contains(attemptTypes, e.Type) && slices.Contains(attemptOutcomes, e.Outcome)
}

// Attempts pages refused and failed registration attempts newest first, with
// base's other fields as the filter (its Type, Outcome and Limit are ignored),
// and returns the BeforeID of the next page (0 at the end). A filter takes one
// type and one outcome, so it merges the four indexed keyset queries: each
// returns its newest `limit` below the cursor, so the merged newest `limit` are exact.
func (l *Log) Attempts(ctx context.Context, base Filter, limit int) ([]store.AuditEvent, int64, error) {
	var all []store.AuditEvent
	more := false
	for _, t := range attemptTypes {
		for _, o := range attemptOutcomes {
			f := base
			f.Type, f.Outcome, f.Limit = string(t), string(o), limit
			rows, next, err := l.List(ctx, f)
			if err != nil {
				return nil, 0, err
			}
			all, more = append(all, rows...), more || next != 0
		}
	}
	slices.SortFunc(all, func(a, b store.AuditEvent) int { return cmp.Compare(b.ID, a.ID) })
	if len(all) > limit {
		all, more = all[:limit], true
	}
	var next int64
	if more && len(all) > 0 {
		next = all[len(all)-1].ID
	}
	return all, next, nil
}

// attemptsCountCap is as far as the attempts are counted: their filters (code,
// step, time) are not in the (type, outcome, id) index, so each counted row is
// a table read; past 2,000 the page says "more than".
const attemptsCountCap = 2_000

// CountAttempts counts the attempts base selects, up to 2,000; atLeast is
// true beyond.
func (l *Log) CountAttempts(ctx context.Context, base Filter) (total int64, atLeast bool, err error) {
	for _, t := range attemptTypes {
		for _, o := range attemptOutcomes {
			f := base
			f.Type, f.Outcome = string(t), string(o)
			n, more, err := l.db.CountAuditEventsUpTo(ctx, f, attemptsCountCap-int(total))
			if err != nil {
				return 0, false, err
			}
			total += n
			if more {
				return attemptsCountCap, true, nil
			}
		}
	}
	return total, false, nil
}
