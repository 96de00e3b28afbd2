package audit

import (
	"context"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// ByJTIPrefix returns up to limit events whose jti starts with prefix
// (idx_audit_jti).
func (l *Log) ByJTIPrefix(ctx context.Context, prefix string, limit int) ([]store.AuditEvent, error) {
	return l.db.AuditEventsByPrefix(ctx, "jti", prefix, limit)
}

// ByRequestIDPrefix returns up to limit events whose request id starts with
// prefix (idx_audit_request_id).
func (l *Log) ByRequestIDPrefix(ctx context.Context, prefix string, limit int) ([]store.AuditEvent, error) {
	return l.db.AuditEventsByPrefix(ctx, "request_id", prefix, limit)
}

// AttemptGroups counts the refused and failed registration attempts since
// since by software product, error code and step, most frequent first.
func (l *Log) AttemptGroups(ctx context.Context, since time.Time, limit int) ([]store.AttemptGroup, error) {
	return l.db.AttemptGroups(ctx, attemptTypes, attemptOutcomes, since, limit)
}
