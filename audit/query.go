package audit

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dcrconsole/dcrconsole/store"
)

// Filter selects audit events. Empty fields match everything. Type ending in
// "." or "*" matches a prefix ("operator." is every console action).
type Filter struct {
	Type       string
	Outcome    string
	Actor      string
	ClientID   string
	SoftwareID string
	ErrorCode  string
	Step       string
	From, To   time.Time // inclusive lower, exclusive upper bound on Time
	// BeforeID pages backwards (newest first): only events with id < BeforeID.
	BeforeID int64
	Limit    int
}

// ErrBadFilter is returned for a filter value that cannot be applied.
var ErrBadFilter = errors.New("audit: invalid filter")

func (f Filter) apply(q *gorm.DB) *gorm.DB {
	if f.Type != "" {
		if strings.HasSuffix(f.Type, "*") || strings.HasSuffix(f.Type, ".") {
			prefix := strings.TrimSuffix(f.Type, "*")
			q = q.Where("type >= ? AND type < ?", prefix, prefix+"\U0010FFFF")
		} else {
			q = q.Where("type = ?", f.Type)
		}
	}
	if f.Outcome != "" {
		q = q.Where("outcome = ?", f.Outcome)
	}
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	if f.ClientID != "" {
		q = q.Where("client_id = ?", f.ClientID)
	}
	if f.SoftwareID != "" {
		q = q.Where("software_id = ?", f.SoftwareID)
	}
	if f.ErrorCode != "" {
		q = q.Where("error_code = ?", f.ErrorCode)
	}
	if f.Step != "" {
		q = q.Where("step = ?", f.Step)
	}
	if !f.From.IsZero() {
		q = q.Where("time >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("time < ?", f.To.UTC())
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	return q
}

// List returns one page of events, newest first, and the BeforeID of the next
// page (0 at the end). Keyset pagination on the primary key keeps every page
// equally fast however deep it is.
func (l *Log) List(ctx context.Context, f Filter) ([]store.AuditEvent, int64, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 50
	}
	var rows []store.AuditEvent
	err := f.apply(l.db.R.WithContext(ctx).Model(&store.AuditEvent{})).Order("id DESC").Limit(f.Limit + 1).Find(&rows).Error
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
	var e store.AuditEvent
	err := l.db.R.WithContext(ctx).Where("id = ?", id).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, store.ErrNotFound
	}
	return &e, err
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
