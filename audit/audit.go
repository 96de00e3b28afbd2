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
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// The event vocabulary (store.EventType, store.Outcome) lives in store, beside
// the row it types, so every package can name it without importing audit.

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

// Append writes e inside the caller's transaction tx, so a state change and its
// audit record commit together or not at all. It sets e.ID (the previous id + 1),
// e.Time (now when zero; always UTC, truncated to microseconds so that it survives
// the round trip through SQLite unchanged and the hash still matches when read back),
// e.PrevHash and e.Hash, then inserts the row.
//
// If tx later rolls back, the fields Append set on e describe an event that does not exist.
//
// Its race-freedom rests on the store's single writer: every write transaction
// runs on one connection and begins IMMEDIATE, so no other append can slip
// between reading the head and inserting after it.
func (l *Log) Append(tx *store.Tx, e *store.AuditEvent) error {
	if e.Type == "" {
		return fmt.Errorf("%w: no type", ErrInvalidEvent)
	}
	if !e.Outcome.Valid() {
		return fmt.Errorf("%w: outcome %q is not one of success, rejected, error", ErrInvalidEvent, e.Outcome)
	}
	lastID, lastHash, ok, err := store.AuditHead(tx)
	if err != nil {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	if !ok {
		lastHash = Genesis
	}
	boundFields(e)
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	e.ID = lastID + 1
	e.PrevHash = lastHash
	e.Hash = Hash(e)
	if err := store.AppendAuditEvent(tx, e); err != nil {
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
		*f = store.StorableText(store.ClipText(*f, store.MaxPayloadPrefix))
	}
	e.Data = store.StorableText(e.Data)
	if e.Outcome != store.OutcomeSuccess && len(e.Data) > maxRefusedData {
		b, _ := json.Marshal(map[string]store.Payload{"data": store.NewPayload([]byte(e.Data))})
		e.Data = string(b)
	}
}

// Record appends e in a transaction of its own, for events that accompany no state
// change (a read, a rejected request, a failed sync). It is the one writer of
// stand-alone audit rows; with before, it first runs before in that transaction
// (a refused registration consumes its request's jti with its audit row).
func (l *Log) Record(ctx context.Context, e *store.AuditEvent, before ...func(tx *store.Tx) error) error {
	return l.db.Tx(ctx, func(tx *store.Tx) error {
		for _, fn := range before {
			if err := fn(tx); err != nil {
				return err
			}
		}
		return l.Append(tx, e)
	})
}

// Head returns the id and hash of the last event: the value to anchor outside the
// database. An empty log has head (0, Genesis), the value the first event links to.
func (l *Log) Head(ctx context.Context) (id int64, hash string, err error) {
	id, hash, ok, err := l.db.AuditHead(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("audit: read chain head: %w", err)
	}
	if !ok {
		return 0, Genesis, nil
	}
	return id, hash, nil
}
