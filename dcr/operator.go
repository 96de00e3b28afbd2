package dcr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// Operator errors, shown to the operator as they are.
var (
	ErrReasonRequired    = errors.New("a reason is required")
	ErrConfirmMismatch   = errors.New("the confirmation does not match the client")
	ErrNotActive         = errors.New("the client is not active")
	ErrNotRevoked        = errors.New("only a revoked client can be restored")
	ErrOtherActive       = errors.New("another registration for this software product is active; revoke it first")
	ErrAlreadyBlocked    = errors.New("the software product is already blocked")
	ErrNotBlocked        = errors.New("the software product is not blocked")
	ErrNoSuchClient      = errors.New("no such client")
	ErrInvalidSoftwareID = errors.New("a software_id is required")
)

// OperatorAction is who did something in the console, and from where.
type OperatorAction struct {
	Actor      string // "user:NAME"
	RemoteAddr string
	RequestID  string
	Reason     string
}

func (r *Registrar) statusChange(ctx context.Context, clientID, from, to string, act OperatorAction) error {
	if strings.TrimSpace(act.Reason) == "" {
		return ErrReasonRequired
	}
	c, err := r.db.GetClient(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSuchClient
	}
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	err = r.db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.SetClientStatus(tx, clientID, from, to, act.Reason, now, r.allowDuplicate); err != nil {
			return err
		}
		return r.audit.Append(tx, &store.AuditEvent{Type: store.EventClientStatus, Actor: act.Actor, Outcome: store.OutcomeSuccess,
			ClientID: c.ID, SoftwareID: c.SoftwareID, OrgID: c.OrgID, RemoteAddr: act.RemoteAddr, RequestID: act.RequestID,
			Reason: fmt.Sprintf("%s -> %s: %s", from, to, act.Reason), Data: fmt.Sprintf(`{"from":%q,"to":%q}`, from, to)})
	})
	switch {
	case errors.Is(err, store.ErrNotFound) && from == store.StatusActive:
		return ErrNotActive
	case errors.Is(err, store.ErrNotFound):
		return ErrNotRevoked
	case errors.Is(err, store.ErrDuplicate):
		return ErrOtherActive
	}
	return err
}

// Revoke makes an active client unknown to every endpoint from this moment.
// confirm must repeat the client's id or name, so a revocation is never a slip.
func (r *Registrar) Revoke(ctx context.Context, clientID, confirm string, act OperatorAction) error {
	c, err := r.db.GetClient(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSuchClient
	}
	if err != nil {
		return err
	}
	confirm = strings.TrimSpace(confirm)
	if confirm == "" || (confirm != c.ID && confirm != c.ClientName) {
		return ErrConfirmMismatch
	}
	return r.statusChange(ctx, clientID, store.StatusActive, store.StatusRevoked, act)
}

// Restore returns a revoked client to active, unless another registration of its
// software product is active (the duplicate rule, enforced by the database).
func (r *Registrar) Restore(ctx context.Context, clientID string, act OperatorAction) error {
	return r.statusChange(ctx, clientID, store.StatusRevoked, store.StatusActive, act)
}

// Block refuses new registrations of a software product.
func (r *Registrar) Block(ctx context.Context, softwareID string, act OperatorAction) error {
	softwareID = strings.TrimSpace(softwareID)
	if softwareID == "" {
		return ErrInvalidSoftwareID
	}
	if strings.TrimSpace(act.Reason) == "" {
		return ErrReasonRequired
	}
	err := r.db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.BlockSoftware(tx, &store.BlockedSoftware{SoftwareID: softwareID, Reason: act.Reason, BlockedBy: act.Actor, CreatedAt: time.Now().UTC()}); err != nil {
			return err
		}
		return r.audit.Append(tx, &store.AuditEvent{Type: store.EventOperatorBlock, Actor: act.Actor, Outcome: store.OutcomeSuccess, SoftwareID: softwareID,
			RemoteAddr: act.RemoteAddr, RequestID: act.RequestID, Reason: "blocked: " + act.Reason})
	})
	if errors.Is(err, store.ErrDuplicate) {
		return ErrAlreadyBlocked
	}
	return err
}

// Unblock lets a software product register again.
func (r *Registrar) Unblock(ctx context.Context, softwareID string, act OperatorAction) error {
	if strings.TrimSpace(act.Reason) == "" {
		return ErrReasonRequired
	}
	err := r.db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.UnblockSoftware(tx, softwareID); err != nil {
			return err
		}
		return r.audit.Append(tx, &store.AuditEvent{Type: store.EventOperatorUnblock, Actor: act.Actor, Outcome: store.OutcomeSuccess, SoftwareID: softwareID,
			RemoteAddr: act.RemoteAddr, RequestID: act.RequestID, Reason: "unblocked: " + act.Reason})
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotBlocked
	}
	return err
}
