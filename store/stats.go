package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// The dashboard's aggregates read the audit log, which grows to millions of
// events. Each query is bounded below by an event id found through the time
// index (FirstAuditIDSince), so it walks only the window it reports on, through
// the (type, id) index, however long the log is.

// FirstAuditIDSince returns the id of the first audit event at or after since,
// and false when there is none.
//
// Events are appended by one writer that stamps them as it goes, so ids and times
// rise together and the first event in time order is the first in id order. The
// query says so, rather than MIN(id): SQLite answers MIN(id) by walking the rowids
// from the oldest event until one is recent enough (38 ms at 1,000,000 events,
// growing with the log), while this is one seek in the time index (0.1 ms).
func (db *DB) FirstAuditIDSince(ctx context.Context, since time.Time) (int64, bool, error) {
	var id int64
	err := db.r.WithContext(ctx).Raw(`SELECT id FROM audit_events WHERE time >= ? ORDER BY time, id LIMIT 1`, since.UTC()).Row().Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// DayCount is the number of registration attempts on one UTC day.
type DayCount struct {
	Day       string // YYYY-MM-DD, UTC
	Succeeded int64
	Failed    int64 // rejected, or failed on our side
}

// RegistrationsPerDay counts registration attempts (POST /register and the
// processing API) per UTC day from the start of since's day to now, one entry per
// day, oldest first, days without attempts included as zeros.
func (db *DB) RegistrationsPerDay(ctx context.Context, since, now time.Time) ([]DayCount, error) {
	start := startOfDay(since)
	days := dayRange(start, now)
	fromID, ok, err := db.FirstAuditIDSince(ctx, start)
	if err != nil || !ok {
		return days, err
	}
	var rows []DayCount
	// sqlite-only: date(time) on a TEXT timestamp; PostgreSQL: to_char(time, 'YYYY-MM-DD').
	day := "date(time)"
	if db.pg {
		day = "to_char(time, 'YYYY-MM-DD')"
	}
	err = db.r.WithContext(ctx).Raw(`SELECT `+day+` AS day,
			SUM(CASE WHEN outcome = 'success' THEN 1 ELSE 0 END) AS succeeded,
			SUM(CASE WHEN outcome <> 'success' THEN 1 ELSE 0 END) AS failed
		FROM audit_events WHERE type = ? AND id >= ?
		GROUP BY 1`, EventRegistrationCreate, fromID).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	byDay := make(map[string]DayCount, len(rows))
	for _, r := range rows {
		byDay[r.Day] = r
	}
	for i := range days {
		if r, ok := byDay[days[i].Day]; ok {
			days[i] = r
		}
	}
	return days, nil
}

// RejectionReason is one kind of failed registration attempt: an error code at a
// pipeline step, how often it happened, and its latest occurrence.
type RejectionReason struct {
	ErrorCode   string
	Step        string
	Description string // the reason's public part (before " | "), of the latest occurrence
	N           int64
	LastID      int64
}

// TopRejectionReasons groups the failed registration attempts since since by
// error code and step, most frequent first.
func (db *DB) TopRejectionReasons(ctx context.Context, since time.Time, limit int) ([]RejectionReason, error) {
	fromID, ok, err := db.FirstAuditIDSince(ctx, since)
	if err != nil || !ok {
		return nil, err
	}
	var rows []struct {
		ErrorCode, Step, Reason string
		N, LastID               int64
	}
	// sqlite-only: SQLite fills a bare column (reason) from the row that holds
	// MAX(id), the latest; PostgreSQL takes the first of the reasons in id order, newest first.
	reason := "reason"
	if db.pg {
		reason = "(array_agg(reason ORDER BY id DESC))[1] AS reason"
	}
	err = db.r.WithContext(ctx).Raw(`SELECT error_code, step, COUNT(*) AS n, MAX(id) AS last_id, `+reason+`
		FROM audit_events WHERE type = ? AND id >= ? AND outcome <> 'success'
		GROUP BY error_code, step ORDER BY n DESC, last_id DESC LIMIT ?`,
		EventRegistrationCreate, fromID, limit).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]RejectionReason, len(rows))
	for i, r := range rows {
		desc := AuditEvent{Reason: r.Reason}.PublicReason()
		out[i] = RejectionReason{ErrorCode: r.ErrorCode, Step: r.Step, Description: desc, N: r.N, LastID: r.LastID}
	}
	return out, nil
}

// RecentFailedRegistrations returns the latest failed registration attempts
// since since, newest first.
func (db *DB) RecentFailedRegistrations(ctx context.Context, since time.Time, limit int) ([]AuditEvent, error) {
	fromID, ok, err := db.FirstAuditIDSince(ctx, since)
	if err != nil || !ok {
		return nil, err
	}
	var rows []AuditEvent
	err = db.r.WithContext(ctx).
		Where("type = ? AND id >= ? AND outcome <> 'success'", EventRegistrationCreate, fromID).
		Order("id DESC").Limit(limit).Find(&rows).Error
	return rows, err
}

// ActiveClientsBySoftware counts the active clients of each software product,
// keyed by the lower-cased software_id.
func (db *DB) ActiveClientsBySoftware(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		SoftwareID string
		N          int64
	}
	err := db.r.WithContext(ctx).Raw(`SELECT lower(software_id) AS software_id, COUNT(*) AS n
		FROM clients WHERE status = ? GROUP BY lower(software_id)`, StatusActive).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.SoftwareID] = r.N
	}
	return out, nil
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// dayRange lists the UTC days from start to now's day, inclusive.
func dayRange(start, now time.Time) []DayCount {
	var out []DayCount
	for d := start; !d.After(now.UTC()); d = d.AddDate(0, 0, 1) {
		out = append(out, DayCount{Day: d.Format(time.DateOnly)})
	}
	return out
}
