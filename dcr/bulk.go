package dcr

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dcrconsole/dcrconsole/store"
)

// Bulk actions act on every registration of a brand or legal entity with one
// reason: a summary event (operator.bulk) first, then each client's
// revocation, or each software product's block, as its own audit event
// carrying the bulk action's id in its data ("bulk_action_id"), so the audit
// log links them.

// Bulk actions.
const (
	BulkRevoke = "revoke" // revoke every active registration
	BulkBlock  = "block"  // block every software product (new registrations refused)
)

// bulkChunk is how many clients one transaction revokes: the single writer
// is not held for long, and other requests interleave.
const bulkChunk = 100

// ErrBadBulkAction is a bulk action other than BulkRevoke and BulkBlock.
var ErrBadBulkAction = errors.New("the bulk action must be revoke or block")

// BulkTarget is what a bulk action acts on: a party's active registrations or
// its software products.
type BulkTarget struct {
	Kind, ID    string   // store.PartyBrand or store.PartyLegalEntity, and its id
	Name        string   // for the audit log
	ClientIDs   []string // active registrations (BulkRevoke)
	SoftwareIDs []string // software products not yet blocked (BulkBlock)
}

// PartyActiveClients lists the active registrations of a brand or legal entity.
func (r *Registrar) PartyActiveClients(ctx context.Context, kind, id string) ([]string, error) {
	var ids []string
	after := ""
	for {
		rows, err := r.db.ClientsOfParty(ctx, kind, id, store.StatusActive, after, 500)
		if err != nil {
			return nil, err
		}
		for _, c := range rows {
			ids = append(ids, c.ID)
		}
		if len(rows) < 500 {
			return ids, nil
		}
		after = rows[len(rows)-1].ID
	}
}

// Bulk runs action on target with act's reason and returns the bulk action's
// id and how many clients or products it changed. A client no longer active,
// or a product already blocked, is passed over. On an error part-way, the
// changes made so far stay (each with its event) and n says how many.
func (r *Registrar) Bulk(ctx context.Context, action string, t BulkTarget, act OperatorAction) (bulkID string, n int, err error) {
	if action != BulkRevoke && action != BulkBlock {
		return "", 0, ErrBadBulkAction
	}
	if strings.TrimSpace(act.Reason) == "" {
		return "", 0, ErrReasonRequired
	}
	bulkID = uuid.NewString()
	count := len(t.ClientIDs)
	if action == BulkBlock {
		count = len(t.SoftwareIDs)
	}
	summary := &store.AuditEvent{Type: store.EventOperatorBulk, Actor: act.Actor, Outcome: store.OutcomeSuccess,
		RemoteAddr: act.RemoteAddr, RequestID: act.RequestID,
		Reason: "bulk " + action + " of " + strings.ReplaceAll(t.Kind, "_", " ") + " " + t.ID + " (" + t.Name + "): " + act.Reason,
		Data: store.AuditData(map[string]any{"bulk_action_id": bulkID, "action": action, "party_kind": t.Kind,
			"party_id": t.ID, "count": count})}
	if t.Kind == store.PartyBrand {
		summary.OrgID = t.ID
	}
	// Recorded first: a bulk action whose record cannot be written does not happen.
	if err := r.audit.Record(ctx, summary); err != nil {
		return "", 0, err
	}
	if action == BulkBlock {
		n, err = r.bulkBlock(ctx, bulkID, t.SoftwareIDs, act)
	} else {
		n, err = r.bulkRevoke(ctx, bulkID, t.ClientIDs, act)
	}
	return bulkID, n, err
}

func (r *Registrar) bulkRevoke(ctx context.Context, bulkID string, ids []string, act OperatorAction) (int, error) {
	done := 0
	for start := 0; start < len(ids); start += bulkChunk {
		chunk := ids[start:min(start+bulkChunk, len(ids))]
		n := 0
		err := r.db.Tx(ctx, func(tx *store.Tx) error {
			n = 0
			now := time.Now().UTC()
			for _, id := range chunk {
				c, err := store.ClientForUpdate(tx, id)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				err = store.SetClientStatus(tx, id, store.StatusActive, store.StatusRevoked, act.Reason, now, r.allowDuplicate)
				if errors.Is(err, store.ErrNotFound) {
					continue // no longer active: someone else changed it first
				}
				if err != nil {
					return err
				}
				if err := r.audit.Append(tx, &store.AuditEvent{Type: store.EventClientStatus, Actor: act.Actor, Outcome: store.OutcomeSuccess,
					ClientID: c.ID, SoftwareID: c.SoftwareID, OrgID: c.OrgID, RemoteAddr: act.RemoteAddr, RequestID: act.RequestID,
					Reason: "active -> revoked: " + act.Reason,
					Data:   store.AuditData(map[string]string{"from": store.StatusActive, "to": store.StatusRevoked, "bulk_action_id": bulkID})}); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

func (r *Registrar) bulkBlock(ctx context.Context, bulkID string, softwareIDs []string, act OperatorAction) (int, error) {
	done := 0
	for _, sid := range softwareIDs {
		err := r.db.Tx(ctx, func(tx *store.Tx) error {
			if err := store.BlockSoftware(tx, &store.BlockedSoftware{SoftwareID: sid, Reason: act.Reason, BlockedBy: act.Actor, CreatedAt: time.Now().UTC()}); err != nil {
				return err
			}
			return r.audit.Append(tx, &store.AuditEvent{Type: store.EventOperatorBlock, Actor: act.Actor, Outcome: store.OutcomeSuccess, SoftwareID: sid,
				RemoteAddr: act.RemoteAddr, RequestID: act.RequestID, Reason: "blocked: " + act.Reason,
				Data: store.AuditData(map[string]string{"bulk_action_id": bulkID})})
		})
		if errors.Is(err, store.ErrDuplicate) {
			continue // blocked meanwhile
		}
		if err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}
