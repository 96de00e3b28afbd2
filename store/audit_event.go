package store

import "time"

// AuditEvent is one row of the tamper-evident audit log. The audit package owns
// the hash chain (PrevHash, Hash) and the meaning of the fields; the store only keeps them.
type AuditEvent struct {
	ID             int64 `gorm:"primaryKey"`
	Time           time.Time
	Type           string
	Actor          string
	Outcome        string
	ErrorCode      string
	Step           string
	Reason         string
	SoftwareID     string
	OrgID          string
	ClientID       string
	JTI            string `gorm:"column:jti"`
	RemoteAddr     string
	CertThumbprint string
	RequestID      string
	DurationUS     int64 `gorm:"column:duration_us"`
	// Data is a JSON object with event-specific detail (for a rejected registration:
	// the request as received, so an operator can show the ADR what to fix).
	Data     string
	PrevHash string
	Hash     string
}

// TableName is the audit_events table.
func (AuditEvent) TableName() string { return "audit_events" }
