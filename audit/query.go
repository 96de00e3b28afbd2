package audit

import (
	"context"

	"github.com/dcrconsole/dcrconsole/store"
)

// Filter selects audit events (store.AuditFilter): empty fields match
// everything, and a Type ending in "." or "*" matches a prefix.
type Filter = store.AuditFilter

// List returns one page of events, newest first, and the BeforeID of the next
// page (0 at the end). Keyset pagination on the primary key keeps every page
// equally fast however deep it is.
func (l *Log) List(ctx context.Context, f Filter) ([]store.AuditEvent, int64, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 50
	}
	page := f
	page.Limit = f.Limit + 1 // one more tells whether a next page exists
	rows, err := l.db.ListAuditEvents(ctx, page)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		next = rows[len(rows)-1].ID
	}
	return rows, next, nil
}

// Get returns one event.
func (l *Log) Get(ctx context.Context, id int64) (*store.AuditEvent, error) {
	return l.db.GetAuditEvent(ctx, id)
}

// Each calls fn for every event the filter selects, newest first, a page at a
// time: constant memory for exports of millions of events.
func (l *Log) Each(ctx context.Context, f Filter, fn func(*store.AuditEvent) error) error {
	f.Limit = 1000
	for {
		rows, next, err := l.List(ctx, f)
		if err != nil {
			return err
		}
		for i := range rows {
			if err := fn(&rows[i]); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		f.BeforeID = next
	}
}

// countCap is as far as a list's total is counted ("of more than 10,000" beyond).
const countCap = 10_000

// Count counts the events f selects, up to 10,000; atLeast is true when
// there are more.
func (l *Log) Count(ctx context.Context, f Filter) (n int64, atLeast bool, err error) {
	return l.db.CountAuditEventsUpTo(ctx, f, countCap)
}
