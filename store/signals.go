package store

import (
	"context"
	"time"
)

// The read functions here give the alert evaluator its signals; each is one
// small query or a counter the writer keeps.

// RegistrationOutcomes counts the registration attempts since since and how many
// of them failed (rejected, or failed on our side).
func (db *DB) RegistrationOutcomes(ctx context.Context, since time.Time) (total, failed int64, err error) {
	fromID, ok, err := db.FirstAuditIDSince(ctx, since)
	if err != nil || !ok {
		return 0, 0, err
	}
	var row struct{ Total, Failed int64 }
	err = db.r.WithContext(ctx).Raw(`SELECT COUNT(*) AS total,
			COALESCE(SUM(CASE WHEN outcome <> 'success' THEN 1 ELSE 0 END), 0) AS failed
		FROM audit_events WHERE type = ? AND id >= ?`, EventRegistrationCreate, fromID).Scan(&row).Error
	return row.Total, row.Failed, err
}

// ActiveClientsByJWKSURI counts the active clients of each of uris (those that
// have none are left out).
func (db *DB) ActiveClientsByJWKSURI(ctx context.Context, uris []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(uris) == 0 {
		return out, nil
	}
	var rows []struct {
		JWKSURI string `gorm:"column:jwks_uri"`
		N       int64
	}
	err := db.r.WithContext(ctx).Raw(`SELECT jwks_uri, COUNT(*) AS n FROM clients
		WHERE status = ? AND jwks_uri IN ? GROUP BY jwks_uri`, StatusActive, uris).Scan(&rows).Error
	for _, r := range rows {
		out[r.JWKSURI] = r.N
	}
	return out, err
}

// WriteFailure is the last write the database itself failed (not a rule of the
// caller's: I/O, disk full, a busy or read-only file, a failed commit).
type WriteFailure struct {
	Count uint64 // since the process started (each process's, for ClusterWriteFailures)
	Last  time.Time
	Err   string
	// Replicas is how many replicas had failures and Replica the one of the
	// last failure (ClusterWriteFailures only).
	Replicas int
	Replica  string
}

// WriteFailures reports how many transactions the database failed since the
// process started, and the last failure.
func (db *DB) WriteFailures() WriteFailure {
	st := db.WriteStats()
	return WriteFailure{Count: st.Failures, Last: st.LastFailure, Err: st.LastFailureError}
}
