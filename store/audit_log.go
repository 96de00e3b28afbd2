package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// The statements on audit_events. The audit package owns the chain (what goes in
// PrevHash and Hash, and what makes a chain intact); these only move rows.

// auditHeadSQL reads the head of the chain. Inside a write transaction it is
// race-free: all writes share the single writer connection and transactions begin
// IMMEDIATE, so no other append can slip between this read and the insert.
const auditHeadSQL = `SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1`

// insertAuditEventSQL is hand-written rather than tx.Create: it runs once per
// registration and token, on the single writer, where GORM's reflection shows.
const insertAuditEventSQL = `INSERT INTO audit_events (id, time, type, actor, outcome, error_code, step,
	reason, software_id, org_id, client_id, jti, remote_addr, cert_thumbprint, request_id,
	duration_us, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// auditEventsAfterSQL reads events in id order for verification.
const auditEventsAfterSQL = `SELECT id, time, type, actor, outcome, error_code, step, reason,
	software_id, org_id, client_id, jti, remote_addr, cert_thumbprint, request_id,
	duration_us, data, prev_hash, hash
	FROM audit_events WHERE id > ? ORDER BY id LIMIT ?`

// AuditHead returns the id and hash of the last event inside tx; ok is false for
// an empty log.
//
// On PostgreSQL the chain's transaction-scoped advisory lock, held until tx
// ends, serialises appends from every replica in the database. A group-commit
// batch takes it when it begins (pgwriter.go says why), so here it is held
// already; a transaction outside a batch takes it here.
func AuditHead(tx *Tx) (id int64, hash string, ok bool, err error) {
	if err := lockAuditChain(tx); err != nil {
		return 0, "", false, err
	}
	return scanAuditHead(tx.g.Raw(auditHeadSQL).Row())
}

// AuditHead returns the id and hash of the last committed event; ok is false for
// an empty log.
func (db *DB) AuditHead(ctx context.Context) (id int64, hash string, ok bool, err error) {
	return scanAuditHead(db.r.WithContext(ctx).Raw(auditHeadSQL).Row())
}

func scanAuditHead(row *sql.Row) (id int64, hash string, ok bool, err error) {
	err = row.Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", false, nil
	}
	return id, hash, err == nil, err
}

// AppendAuditEvent inserts e, whose ID, PrevHash and Hash the caller has set, inside tx.
func AppendAuditEvent(tx *Tx, e *AuditEvent) error {
	return tx.g.Exec(insertAuditEventSQL, e.ID, e.Time, e.Type, e.Actor, e.Outcome, e.ErrorCode, e.Step,
		e.Reason, e.SoftwareID, e.OrgID, e.ClientID, e.JTI, e.RemoteAddr, e.CertThumbprint, e.RequestID,
		e.DurationUS, e.Data, e.PrevHash, e.Hash).Error
}

// AuditFilter selects audit events. Empty fields match everything. Type ending in
// "." or "*" matches a prefix ("operator." is every console action).
type AuditFilter struct {
	Type       string
	Outcome    string
	Actor      string
	ClientID   string
	SoftwareID string
	ErrorCode  string
	Step       string
	// Types, when not empty, restricts to these types (Type applies as well).
	Types []EventType
	// SoftwareIDs, when not empty, restricts to these software products, as
	// stored (a brand's or legal entity's products on the attempts page).
	SoftwareIDs []string
	From, To    time.Time // inclusive lower, exclusive upper bound on Time
	// BeforeID pages backwards (newest first): only events with id < BeforeID.
	BeforeID int64
	Limit    int
}

func (f AuditFilter) apply(q *gorm.DB, pg bool) *gorm.DB {
	// Refused or failed events of given software products: the partial index
	// idx_audit_refused_software (migration 48) holds only those, so a
	// product's attempts are found without walking all refusals (the (type,
	// outcome) index) or all its tokens (the software_id index). The implied
	// "outcome <> 'success'" term lets the planner use it.
	// sqlite-only: the unary + keeps SQLite's planner off the type and outcome indexes; PostgreSQL plans this itself.
	plus := ""
	if (f.SoftwareID != "" || len(f.SoftwareIDs) > 0) && f.Outcome != "" && f.Outcome != string(OutcomeSuccess) {
		if !pg {
			plus = "+"
		}
		q = q.Where("outcome <> ?", OutcomeSuccess)
	}
	if f.Type != "" {
		if strings.HasSuffix(f.Type, "*") || strings.HasSuffix(f.Type, ".") {
			prefix := strings.TrimSuffix(f.Type, "*")
			// A range rather than LIKE, so the type index serves it in any collation.
			q = q.Where(plus+"type >= ? AND "+plus+"type < ?", prefix, prefix+"\U0010FFFF")
		} else {
			q = q.Where(plus+"type = ?", f.Type)
		}
	}
	if f.Outcome != "" {
		q = q.Where(plus+"outcome = ?", f.Outcome)
	}
	for _, c := range []struct{ col, v string }{{"actor", f.Actor}, {"client_id", f.ClientID},
		{"software_id", f.SoftwareID}, {"error_code", f.ErrorCode}, {"step", f.Step}} {
		if c.v != "" {
			q = q.Where(c.col+" = ?", c.v)
		}
	}
	if len(f.Types) > 0 {
		q = q.Where("type IN ?", f.Types)
	}
	if len(f.SoftwareIDs) > 0 {
		q = q.Where("software_id IN ?", f.SoftwareIDs)
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

// ListAuditEvents returns up to f.Limit events that f selects, newest first.
func (db *DB) ListAuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	var rows []AuditEvent
	err := f.apply(db.r.WithContext(ctx).Model(&AuditEvent{}), db.pg).Order("id DESC").Limit(f.Limit).Find(&rows).Error
	return rows, err
}

// GetAuditEvent returns one event, or ErrNotFound.
func (db *DB) GetAuditEvent(ctx context.Context, id int64) (*AuditEvent, error) {
	var e AuditEvent
	err := db.r.WithContext(ctx).Where("id = ?", id).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &e, err
}

// UnreadableAuditEventError is a row that exists but whose columns do not scan
// into an event (edited outside dcrconsole: a NULL, a number in the time column).
type UnreadableAuditEventError struct {
	ID  int64
	Err error
}

func (e *UnreadableAuditEventError) Error() string {
	return fmt.Sprintf("audit: event %d cannot be read: %v", e.ID, e.Err)
}

// AuditEventsAfter appends to dst up to limit events with ids above after, in id
// order. It scans rows by hand rather than through GORM's reflection, which would
// dominate the cost of verifying millions of events. A row that does not scan ends
// the batch with an *UnreadableAuditEventError; dst then holds the events before it.
func (db *DB) AuditEventsAfter(ctx context.Context, after int64, limit int, dst []AuditEvent) ([]AuditEvent, error) {
	rows, err := db.r.WithContext(ctx).Raw(auditEventsAfterSQL, after, limit).Rows()
	if err != nil {
		return dst, fmt.Errorf("audit: read events after %d: %w", after, err)
	}
	defer rows.Close()
	for rows.Next() {
		dst = append(dst, AuditEvent{})
		e := &dst[len(dst)-1]
		if err := rows.Scan(&e.ID, &e.Time, &e.Type, &e.Actor, &e.Outcome, &e.ErrorCode, &e.Step,
			&e.Reason, &e.SoftwareID, &e.OrgID, &e.ClientID, &e.JTI, &e.RemoteAddr, &e.CertThumbprint,
			&e.RequestID, &e.DurationUS, &e.Data, &e.PrevHash, &e.Hash); err != nil {
			dst = dst[:len(dst)-1]
			// id is the rowid, always an integer, so it scans even when the rest does not.
			var id int64
			sink := make([]any, 19)
			sink[0] = &id
			for i := 1; i < len(sink); i++ {
				sink[i] = new(any)
			}
			if rerr := rows.Scan(sink...); rerr != nil {
				return dst, fmt.Errorf("audit: read event after %d: %w", after, err)
			}
			return dst, &UnreadableAuditEventError{ID: id, Err: err}
		}
	}
	if err := rows.Err(); err != nil {
		return dst, fmt.Errorf("audit: read events after %d: %w", after, err)
	}
	return dst, nil
}
