// Package alerts evaluates dcrconsole's built-in alerts on a schedule, so a
// holder without Alertmanager is still paged: Register sync stale or failing,
// registration rejection rate over a threshold, audit chain verification
// failed, an active client's ADR JWKS unreachable, the signing key too old,
// database write failures. Each alert fires once, repeats on a schedule until
// acknowledged, and resolves; every transition is recorded in the audit chain
// and the alert's state is kept in the database. Notifications go to a
// webhook and by mail from background queues (notify.go), retried with
// backoff, never on a request's path.
package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/fetch"
	"github.com/dcrconsole/dcrconsole/register"
	"github.com/dcrconsole/dcrconsole/store"
)

// Kind names an alert; the strings are stored and hashed into audit events.
type Kind string

// The built-in alerts.
const (
	KindRegisterSync      Kind = "register_sync"
	KindRejectionRate     Kind = "rejection_rate"
	KindChainVerification Kind = "chain_verification"
	KindJWKSUnreachable   Kind = "jwks_unreachable"
	KindSigningKeyAge     Kind = "signing_key_age"
	KindDatabaseWrites    Kind = "database_writes"
)

// Title is the alert's one-line name, for mail subjects and the console.
func (k Kind) Title() string {
	switch k {
	case KindRegisterSync:
		return "CDR Register sync stale or failing"
	case KindRejectionRate:
		return "Registration rejection rate over threshold"
	case KindChainVerification:
		return "Audit chain verification failed"
	case KindJWKSUnreachable:
		return "ADR JWKS unreachable"
	case KindSigningKeyAge:
		return "Signing key older than its maximum age"
	case KindDatabaseWrites:
		return "Database write failures"
	}
	return string(k)
}

// Actor is the actor of the audit events the evaluator writes.
const Actor = "alerts"

// Options configure the evaluator ([alerts] in the configuration).
type Options struct {
	RegisterStaleAfter   time.Duration
	RejectionThreshold   float64 // share of failed attempts, (0..1]
	RejectionWindow      time.Duration
	RejectionMinAttempts int
	SigningKeyMaxAge     time.Duration // 0: no key age alert
	EvaluateEvery        time.Duration
	RepeatEvery          time.Duration // 0: never repeat
	Server               string        // this server's public URL, named in notifications
}

// RegisterHealth is the Register sync's health (*register.Data); nil when the
// server does not sync with the Register.
type RegisterHealth interface {
	Health() register.SyncHealth
}

// JWKS is the ADR key cache (*fetch.JWKSCache).
type JWKS interface {
	Outages() []fetch.JWKSOutage
	TTL() time.Duration
	Refresh(ctx context.Context, uri string) error
}

// SigningKey is the holder's key ring (*authz.KeyRing).
type SigningKey interface {
	SigningKey() (kid string, created time.Time)
}

// Signals are where the evaluator reads what it checks.
type Signals struct {
	Register RegisterHealth // nil: no Register sync alert
	JWKS     JWKS
	Keys     SigningKey
}

// Evaluator checks the conditions and moves each alert between firing and resolved.
type Evaluator struct {
	db     *store.DB
	audit  *audit.Log
	sig    Signals
	opts   Options
	notify *Notifier
	log    *slog.Logger

	mu sync.Mutex // one set of transitions (or an acknowledgement) at a time
	// unsaved remembers notifications sent for transitions the database could
	// not record (it is failing), so they are not re-sent every evaluation.
	unsaved map[Kind]time.Time
}

// New returns an evaluator; n may be nil (no deliveries).
func New(db *store.DB, a *audit.Log, sig Signals, opts Options, n *Notifier, log *slog.Logger) *Evaluator {
	if opts.EvaluateEvery <= 0 {
		opts.EvaluateEvery = 30 * time.Second
	}
	return &Evaluator{db: db, audit: a, sig: sig, opts: opts, notify: n, log: log, unsaved: map[Kind]time.Time{}}
}

// Run evaluates every EvaluateEvery until ctx ends.
func (e *Evaluator) Run(ctx context.Context) {
	t := time.NewTicker(e.opts.EvaluateEvery)
	defer t.Stop()
	for {
		if err := e.Evaluate(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("alerts: evaluation failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Evaluate checks every condition once and records the transitions.
func (e *Evaluator) Evaluate(ctx context.Context) error {
	now := time.Now().UTC()
	conds := e.check(ctx, now) // outside the lock: a check may fetch a JWKS
	e.mu.Lock()
	defer e.mu.Unlock()
	firing, err := e.db.FiringAlerts(ctx)
	if err != nil {
		return fmt.Errorf("reading firing alerts: %w", err)
	}
	byKind := make(map[Kind]*store.Alert, len(firing))
	for i := range firing {
		byKind[Kind(firing[i].Kind)] = &firing[i]
	}
	for _, c := range conds {
		cur := byKind[c.Kind]
		switch {
		case c.Firing && cur == nil:
			e.fire(ctx, c, now)
		case c.Firing:
			e.stillFiring(ctx, cur, c, now)
		case cur != nil:
			e.resolve(ctx, cur, now)
		}
	}
	return nil
}

// fire records a new firing alert, audits it and notifies.
func (e *Evaluator) fire(ctx context.Context, c Condition, now time.Time) {
	a := &store.Alert{Kind: string(c.Kind), State: store.AlertFiring, Message: c.Message, FiredAt: now, NotifiedAt: &now}
	err := e.db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.InsertAlert(tx, a); err != nil {
			return err
		}
		return e.audit.Append(tx, transitionEvent(store.EventAlertFire, a))
	})
	if err != nil {
		e.log.Error("alerts: recording a firing alert failed; notifying anyway", "alert", c.Kind, "error", err)
		if last, ok := e.unsaved[c.Kind]; ok && !e.repeatDue(last, now) {
			return
		}
		e.unsaved[c.Kind] = now
		a.ID = 0
	} else {
		delete(e.unsaved, c.Kind)
	}
	e.log.Warn("alert firing", "alert", c.Kind, "message", c.Message)
	e.send(a, StatusFiring, false, now)
}

// stillFiring keeps the message current and repeats the notification when due.
func (e *Evaluator) stillFiring(ctx context.Context, a *store.Alert, c Condition, now time.Time) {
	last := a.FiredAt
	if a.NotifiedAt != nil {
		last = *a.NotifiedAt
	}
	repeat := a.AckedAt == nil && e.repeatDue(last, now)
	if !repeat && a.Message == c.Message {
		return
	}
	a.Message = c.Message
	var notified *time.Time
	if repeat {
		a.NotifiedAt, notified = &now, &now
	}
	// Only these columns: a delivery status or an acknowledgement may have been written meanwhile.
	if err := e.db.Tx(ctx, func(tx *store.Tx) error { return store.UpdateFiringAlert(tx, a.ID, a.Message, notified) }); err != nil {
		e.log.Error("alerts: updating a firing alert failed", "alert", c.Kind, "error", err)
		return
	}
	if repeat {
		e.send(a, StatusFiring, true, now)
	}
}

func (e *Evaluator) repeatDue(last, now time.Time) bool {
	return e.opts.RepeatEvery > 0 && now.Sub(last) >= e.opts.RepeatEvery
}

// resolve records that a firing alert's condition no longer holds.
func (e *Evaluator) resolve(ctx context.Context, a *store.Alert, now time.Time) {
	a.State, a.ResolvedAt, a.NotifiedAt = store.AlertResolved, &now, &now
	err := e.db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.ResolveAlert(tx, a.ID, now); err != nil {
			return err
		}
		return e.audit.Append(tx, transitionEvent(store.EventAlertResolve, a))
	})
	if err != nil {
		e.log.Error("alerts: recording a resolved alert failed; it is evaluated again", "alert", a.Kind, "error", err)
		return
	}
	e.log.Info("alert resolved", "alert", a.Kind, "fired_at", a.FiredAt)
	e.send(a, StatusResolved, false, now)
}

func (e *Evaluator) send(a *store.Alert, status string, repeat bool, now time.Time) {
	if e.notify == nil {
		return
	}
	e.notify.Enqueue(Notification{AlertID: a.ID, Kind: Kind(a.Kind), Status: status, Repeat: repeat,
		Message: a.Message, Since: a.FiredAt, Time: now, Server: e.opts.Server})
}

// transitionEvent is the audit record of an alert firing or resolving.
func transitionEvent(t store.EventType, a *store.Alert) *store.AuditEvent {
	data, _ := json.Marshal(map[string]any{"alert_id": a.ID, "kind": a.Kind, "fired_at": a.FiredAt.Format(time.RFC3339)})
	return &store.AuditEvent{Type: t, Actor: Actor, Outcome: store.OutcomeSuccess,
		Reason: Kind(a.Kind).Title() + ": " + a.Message, Data: string(data)}
}

// Ack records that an operator acknowledged the firing alert id with note: it
// stops repeating until it resolves. who carries the operator's Actor,
// RemoteAddr and RequestID. store.ErrNotFound when no firing alert has that id.
func (e *Evaluator) Ack(ctx context.Context, id int64, note string, who store.AuditEvent) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, err := e.db.GetAlert(ctx, id)
	if err != nil {
		return err
	}
	return e.db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.AckAlert(tx, id, who.Actor, note, time.Now()); err != nil {
			return err
		}
		data, _ := json.Marshal(map[string]any{"alert_id": id, "kind": a.Kind, "note": note})
		ev := &store.AuditEvent{Type: store.EventOperatorAlertAck, Actor: who.Actor, Outcome: store.OutcomeSuccess,
			Reason: "acknowledged " + Kind(a.Kind).Title() + ": " + note, RemoteAddr: who.RemoteAddr,
			RequestID: who.RequestID, Data: string(data)}
		return e.audit.Append(tx, ev)
	})
}

// Recent returns up to limit alerts, firing ones first, then the newest.
func (e *Evaluator) Recent(ctx context.Context, limit int) ([]store.Alert, error) {
	return e.db.RecentAlerts(ctx, limit)
}
