// Package audit is dcrconsole's tamper-evident audit log: the event vocabulary,
// the hash chain that links every event to the one before it, and the
// verification that walks that chain.
//
// Each event's Hash covers its content and the previous event's hash, so editing,
// deleting or reordering an event breaks the chain at that point. What the chain
// alone cannot show is a truncated tail or a tail rewritten wholesale: an attacker
// who can write the database can recompute every hash after the point they change.
// Head and Result.HeadID/HeadHash exist so that the head can be anchored elsewhere
// (a log line, a backup, a printed report) and compared later.
package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/dcrconsole/dcrconsole/store"
)

// Event types. The strings are stored and hashed, so they never change once released.
const (
	// TypeRegistrationCreate is POST /register and its processing-API equivalent.
	TypeRegistrationCreate = "registration.create"
	// TypeRegistrationRead is GET /register/{id}.
	TypeRegistrationRead = "registration.read"
	// TypeRegistrationUpdate is PUT /register/{id}.
	TypeRegistrationUpdate = "registration.update"
	// TypeRegistrationDelete is DELETE /register/{id}.
	TypeRegistrationDelete = "registration.delete"
	// TypeTokenIssue is a token issued (or refused) at the token endpoint.
	TypeTokenIssue = "token.issue"
	// TypeClientStatus is a client's status changing: revoked or restored by an
	// operator, or removed because the CDR Register removed its software product.
	TypeClientStatus = "client.status"
	// TypeRegisterSync is one synchronisation with the CDR Register.
	TypeRegisterSync = "register.sync"
	// TypeHolderKeyRotate is a new signing key made for the Data Holder
	// (`dcrconsole keys rotate`, actor "cli").
	TypeHolderKeyRotate = "holder_key.rotate"
	// TypeHolderKeyActivate is the running server starting to sign with a new key,
	// at the key reload after a rotation (actor "server").
	TypeHolderKeyActivate = "holder_key.activate"
	// TypeOperator is the prefix of console actions: they are recorded as
	// TypeOperator + "." + action (for example "operator.login"), so the console can
	// list every operator action with one prefix match.
	TypeOperator = "operator"
)

// Outcomes: what became of the action an event records.
const (
	// OutcomeSuccess is an action that did what was asked.
	OutcomeSuccess = "success"
	// OutcomeRejected is an action refused because of the caller (a bad request, a
	// failed check); ErrorCode says why.
	OutcomeRejected = "rejected"
	// OutcomeError is an action that failed on our side (database, Register unreachable).
	OutcomeError = "error"
)

// Genesis is the PrevHash of the first event: there is no previous event, and a
// fixed value (rather than "") keeps every PrevHash the same shape.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// ErrInvalidEvent is returned by Append for an event that lacks what every audit
// record needs (a Type and a known Outcome). It fails the caller's transaction on
// purpose: a state change must not commit with a useless audit record.
var ErrInvalidEvent = errors.New("audit: invalid event")

// Log is the audit log kept in the store's audit_events table.
type Log struct {
	db *store.DB
}

// New returns the audit log of db.
func New(db *store.DB) *Log { return &Log{db: db} }

// lastEventSQL reads the head of the chain. Inside a write transaction it is
// race-free: all writes share the single writer connection and transactions begin
// IMMEDIATE, so no other append can slip between this read and the insert.
const lastEventSQL = `SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1`

const insertEventSQL = `INSERT INTO audit_events (id, time, type, actor, outcome, error_code, step,
	reason, software_id, org_id, client_id, jti, remote_addr, cert_thumbprint, request_id,
	duration_us, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Append writes e inside the caller's transaction tx, so a state change and its
// audit record commit together or not at all. It sets e.ID (the previous id + 1),
// e.Time (now when zero; always UTC, truncated to microseconds so that it survives
// the round trip through SQLite unchanged and the hash still matches when read back),
// e.PrevHash and e.Hash, then inserts the row.
//
// If tx later rolls back, the fields Append set on e describe an event that does not exist.
func (l *Log) Append(tx *gorm.DB, e *store.AuditEvent) error {
	if e.Type == "" {
		return fmt.Errorf("%w: no type", ErrInvalidEvent)
	}
	switch e.Outcome {
	case OutcomeSuccess, OutcomeRejected, OutcomeError:
	default:
		return fmt.Errorf("%w: outcome %q is not one of success, rejected, error", ErrInvalidEvent, e.Outcome)
	}
	var lastID int64
	lastHash := Genesis
	if err := tx.Raw(lastEventSQL).Row().Scan(&lastID, &lastHash); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	boundFields(e)
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	e.ID = lastID + 1
	e.PrevHash = lastHash
	e.Hash = Hash(e)
	err := tx.Exec(insertEventSQL, e.ID, e.Time, e.Type, e.Actor, e.Outcome, e.ErrorCode, e.Step,
		e.Reason, e.SoftwareID, e.OrgID, e.ClientID, e.JTI, e.RemoteAddr, e.CertThumbprint, e.RequestID,
		e.DurationUS, e.Data, e.PrevHash, e.Hash).Error
	if err != nil {
		return fmt.Errorf("audit: insert event %d: %w", e.ID, err)
	}
	return nil
}

// maxRefusedData bounds the Data of a rejected or failed event. Callers keep
// untrusted input to store.MaxPayloadPrefix (a prefix and a digest), which
// encodes to far less; this is the backstop that keeps a caller that forgot from
// letting anonymous refusals grow the database by the request size limit each.
const maxRefusedData = 64 << 10

// boundFields clips every free-text field to store.MaxPayloadPrefix, and the Data
// of a refusal to maxRefusedData, before the event is hashed: fields such as
// Reason quote what a client sent. Accepted events keep their Data whole (an
// accepted registration's change summary is bounded by the body limit already).
func boundFields(e *store.AuditEvent) {
	for _, f := range []*string{&e.Actor, &e.ErrorCode, &e.Step, &e.Reason, &e.SoftwareID, &e.OrgID,
		&e.ClientID, &e.JTI, &e.RemoteAddr, &e.CertThumbprint, &e.RequestID} {
		*f = store.ClipText(*f, store.MaxPayloadPrefix)
	}
	if e.Outcome != OutcomeSuccess && len(e.Data) > maxRefusedData {
		b, _ := json.Marshal(map[string]store.Payload{"data": store.NewPayload([]byte(e.Data))})
		e.Data = string(b)
	}
}

// Record appends e in a transaction of its own, for events that accompany no state
// change (a read, a rejected request, a failed sync).
func (l *Log) Record(ctx context.Context, e *store.AuditEvent) error {
	return l.db.Tx(ctx, func(tx *gorm.DB) error { return l.Append(tx, e) })
}

// Head returns the id and hash of the last event: the value to anchor outside the
// database. An empty log has head (0, Genesis), the value the first event links to.
func (l *Log) Head(ctx context.Context) (id int64, hash string, err error) {
	hash = Genesis
	err = l.db.R.WithContext(ctx).Raw(lastEventSQL).Row().Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, Genesis, nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("audit: read chain head: %w", err)
	}
	return id, hash, nil
}
