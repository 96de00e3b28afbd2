package store

import (
	"context"
	"time"
)

// AuditSearchColumns are the audit columns the console's global search looks
// up by prefix, each through its partial index (migration 45).
var auditSearchColumns = map[string]bool{"jti": true, "request_id": true}

// AuditEventsByPrefix returns up to limit events whose column (jti or
// request_id) starts with prefix, in the order of that column's index. The
// "<> ”" term matches the partial index's WHERE, so the planner may use it.
func (db *DB) AuditEventsByPrefix(ctx context.Context, column, prefix string, limit int) ([]AuditEvent, error) {
	if !auditSearchColumns[column] || prefix == "" {
		return nil, nil
	}
	var rows []AuditEvent
	err := db.r.WithContext(ctx).Model(&AuditEvent{}).
		Where(column+" <> '' AND "+column+" >= ? AND "+column+" < ?", prefix, prefix+"\U0010FFFF").
		Order(column + ", id").Limit(limit).Find(&rows).Error
	return rows, err
}

// AttemptGroup is the failed attempts of one software product that share an
// error code and step within a window.
type AttemptGroup struct {
	SoftwareID string
	ErrorCode  string
	Step       string
	N          int64
	LastID     int64 // the newest of them
}

// AttemptGroups counts the events of types and outcomes since since, grouped
// by software product, error code and step, most frequent first, at most
// limit groups. Bounded below by FirstAuditIDSince, it reads only the window,
// through idx_audit_type_outcome.
func (db *DB) AttemptGroups(ctx context.Context, types []EventType, outcomes []Outcome, since time.Time, limit int) ([]AttemptGroup, error) {
	fromID, ok, err := db.FirstAuditIDSince(ctx, since)
	if err != nil || !ok {
		return nil, err
	}
	var out []AttemptGroup
	err = db.r.WithContext(ctx).Raw(`SELECT software_id, error_code, step, COUNT(*) AS n, MAX(id) AS last_id
		FROM audit_events WHERE type IN ? AND outcome IN ? AND id >= ?
		GROUP BY software_id, error_code, step ORDER BY n DESC, last_id DESC LIMIT ?`,
		types, outcomes, fromID, limit).Scan(&out).Error
	return out, err
}
