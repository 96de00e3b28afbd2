package dcr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dcrconsole/dcrconsole/register"
	"github.com/dcrconsole/dcrconsole/store"
)

// Caller is who called a management endpoint, for the audit log.
type Caller struct {
	RemoteAddr     string
	CertThumbprint string
	RequestID      string
	Actor          string
}

// RecordRefusal audits a management call refused by authorization.
func (r *Registrar) RecordRefusal(ctx context.Context, eventType store.EventType, c Caller, pathClientID, tokenClient string, aerr *AuthError) {
	ev := &store.AuditEvent{Type: eventType, Actor: c.Actor,
		ClientID: pathClientID, RemoteAddr: c.RemoteAddr, CertThumbprint: c.CertThumbprint, RequestID: c.RequestID}
	// This refusal's public reason has always carried the HTTP status first
	// ("401 description | detail"); store.AuditEvent.PublicReason reads it as is.
	ev.Refused(store.OutcomeRejected, aerr.Code, string(StepAuthorization), fmt.Sprintf("%d %s", aerr.Status, aerr.Description), aerr.Detail)
	if ev.Actor == "" && tokenClient != "" {
		ev.Actor = "client:" + tokenClient
	}
	if ev.ErrorCode == "" {
		ev.ErrorCode = "invalid_token"
	}
	r.record(ctx, ev)
}

// record writes a stand-alone audit event (one that accompanies no state
// change), running before first in its transaction; a failure is logged, since
// the caller has already answered.
func (r *Registrar) record(ctx context.Context, ev *store.AuditEvent, before ...func(tx *store.Tx) error) {
	if err := r.audit.Record(context.WithoutCancel(ctx), ev, before...); err != nil {
		r.log.Error("audit: event not recorded", "type", ev.Type, "request_id", ev.RequestID, "error", err)
	}
	r.tally.counted(ev)
}

func clientEvent(eventType store.EventType, c *store.Client, caller Caller) *store.AuditEvent {
	actor := caller.Actor
	if actor == "" {
		actor = "client:" + c.ID
	}
	return &store.AuditEvent{Type: eventType, Actor: actor, Outcome: store.OutcomeSuccess, ClientID: c.ID, SoftwareID: c.SoftwareID,
		OrgID: c.OrgID, RemoteAddr: caller.RemoteAddr, CertThumbprint: caller.CertThumbprint, RequestID: caller.RequestID}
}

// Read returns the stored registration of an authorized client (GET /register/{id}).
func (r *Registrar) Read(ctx context.Context, c *store.Client, caller Caller) (json.RawMessage, *Error) {
	ev := clientEvent(store.EventRegistrationRead, c, caller)
	if err := r.db.Tx(ctx, func(tx *store.Tx) error { return r.audit.Append(tx, ev) }); err != nil {
		derr := internalError("audit read: %v", err)
		r.tally.refused(ev.Type, derr)
		return nil, derr
	}
	r.tally.counted(ev)
	return json.RawMessage(c.Registration), nil
}

// Update re-registers an authorized client (PUT /register/{id}): the same pipeline
// as POST without the duplicate rule; the SSA must be for the same software
// product; client_id and client_id_issued_at stay.
func (r *Registrar) Update(ctx context.Context, c *store.Client, a Attempt) (*Metadata, *Error) {
	start := time.Now()
	reg, derr := r.validate(ctx, a)
	if derr == nil && !strings.EqualFold(reg.SoftwareID, c.SoftwareID) {
		derr = fail(StepSoftwareID, CodeInvalidSoftwareStatement, DescSSAOtherClient,
			"SSA software_id %s, client %s is registered for %s", reg.SoftwareID, c.ID, c.SoftwareID)
	}
	if derr != nil {
		ev := r.event(a, reg, derr, start, c.ID)
		ev.Type = store.EventRegistrationUpdate
		r.recordWithJTI(ctx, ev, reg)
		return nil, derr
	}
	now := r.pipeline.Now().UTC()
	m := reg.Metadata
	m.ClientID, m.ClientIDIssuedAt = c.ID, c.IssuedAt
	updated, err := newClient(&m, reg, a, now, r.allowDuplicate)
	if err != nil {
		derr = internalError("encode client: %v", err)
		r.tally.refused(store.EventRegistrationUpdate, derr)
		return nil, derr
	}
	ev := r.event(a, reg, nil, start, c.ID)
	ev.Type = store.EventRegistrationUpdate
	ev.Data = changeSummary(c, updated)
	err = r.commit(ctx, reg, func(tx *store.Tx) error { return store.UpdateClientRegistration(tx, updated) }, ev)
	switch {
	case err == nil:
		r.tally.counted(ev)
		return &m, nil
	case errors.Is(err, store.ErrReplay):
		derr = fail(StepRequestSignature, CodeInvalidClientMetadata, DescRequestInvalid, "request jti %q was already used (concurrent replay)", reg.JTI)
	case errors.Is(err, store.ErrNotFound):
		derr = &Error{Status: 401, Code: "invalid_request", Description: DescClientUnknown, Step: StepAuthorization, Detail: "client left active status during the update"}
	default:
		derr = internalError("store update: %v", err)
	}
	ev = r.event(a, reg, derr, start, c.ID)
	ev.Type = store.EventRegistrationUpdate
	r.recordWithJTI(ctx, ev, reg)
	return nil, derr
}

// recordWithJTI writes a rejection event, consuming the request's jti if its signature verified.
func (r *Registrar) recordWithJTI(ctx context.Context, ev *store.AuditEvent, reg *Registration) {
	r.record(ctx, ev, func(tx *store.Tx) error {
		if reg != nil && reg.JTI != "" {
			if err := store.ConsumeJTI(tx, store.JTIRegistrationRequest, reg.JTI, reg.JTIExpires); err != nil && !errors.Is(err, store.ErrReplay) {
				return err
			}
		}
		return nil
	})
}

// changeSummary names what a PUT changed, for the audit log. A changed
// sector_identifier_uri changes pairwise subject identifiers, so it is called out.
func changeSummary(old, updated *store.Client) string {
	var before, after Metadata
	_ = json.Unmarshal([]byte(old.Registration), &before)
	_ = json.Unmarshal([]byte(updated.Registration), &after)
	changes := map[string]any{}
	if strings.Join(before.RedirectURIs, " ") != strings.Join(after.RedirectURIs, " ") {
		changes["redirect_uris"] = map[string]any{"from": before.RedirectURIs, "to": after.RedirectURIs}
	}
	if before.SectorIdentifierURI != after.SectorIdentifierURI {
		changes["sector_identifier_uri"] = map[string]any{"from": before.SectorIdentifierURI, "to": after.SectorIdentifierURI,
			"note": "pairwise subject identifiers change"}
	}
	if before.Scope != after.Scope {
		changes["scope"] = map[string]any{"from": before.Scope, "to": after.Scope}
	}
	if before.JWKSURI != after.JWKSURI {
		changes["jwks_uri"] = map[string]any{"from": before.JWKSURI, "to": after.JWKSURI}
	}
	out, _ := json.Marshal(map[string]any{"changes": changes})
	return string(out)
}

// Delete marks an authorized client deleted (DELETE /register/{id}): it is kept
// for the audit trail, its tokens stop working, and its software_id is free again.
func (r *Registrar) Delete(ctx context.Context, c *store.Client, caller Caller) *Error {
	ev := clientEvent(store.EventRegistrationDelete, c, caller)
	now := r.pipeline.Now().UTC()
	err := r.db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.SetClientStatus(tx, c.ID, store.StatusActive, store.StatusDeleted, "deleted by the client", now, r.allowDuplicate); err != nil {
			return err
		}
		return r.audit.Append(tx, ev)
	})
	var derr *Error
	switch {
	case errors.Is(err, store.ErrNotFound):
		derr = &Error{Status: 401, Code: "invalid_request", Description: DescClientUnknown, Step: StepAuthorization, Detail: "client left active status before the delete"}
	case err != nil:
		derr = internalError("store delete: %v", err)
	default:
		r.tally.counted(ev)
		return nil
	}
	r.tally.refused(ev.Type, derr)
	return derr
}

// ReconcileRegister converges the registrations on the Register data: every
// active registration whose software product is REMOVED, or whose brand is
// REMOVED, or whose legal entity is REVOKED or SURRENDERED, is marked removed,
// audited with the Register as actor. It runs after every successful sync and at
// start, so a removal missed once (a crash between the sync and the sweep, a
// failed transaction, a registration that passed step 5 just before the data
// changed) is made at the next one. INACTIVE and SUSPENDED keep the
// registration (the token endpoint refuses tokens meanwhile). A product merely
// missing from the Register's answer is not acted on: a Register glitch must
// not wipe registrations.
func (r *Registrar) ReconcileRegister(ctx context.Context, products []register.ProductStatus) {
	for _, p := range products {
		reason := removalReason(p)
		if reason == "" {
			continue
		}
		ids, err := r.db.ActiveClientIDsForSoftware(ctx, p.SoftwareProductID)
		if err != nil {
			r.log.Error("register reconcile: listing registrations", "software_id", p.SoftwareProductID, "error", err)
			continue
		}
		if len(ids) == 0 {
			continue
		}
		now := time.Now().UTC()
		var removed []string
		err = r.db.Tx(ctx, func(tx *store.Tx) error {
			removed = removed[:0]
			for _, id := range ids {
				err := store.SetClientStatus(tx, id, store.StatusActive, store.StatusRemoved, reason, now, r.allowDuplicate)
				if errors.Is(err, store.ErrNotFound) {
					continue // no longer active: someone else changed it first
				}
				if err != nil {
					return err
				}
				ev := &store.AuditEvent{Type: store.EventClientStatus, Actor: "cdr-register", Outcome: store.OutcomeSuccess,
					ClientID: id, SoftwareID: p.SoftwareProductID, OrgID: p.BrandID, Reason: "removed: " + reason,
					Data: fmt.Sprintf(`{"from":%q,"to":%q}`, store.StatusActive, store.StatusRemoved)}
				if err := r.audit.Append(tx, ev); err != nil {
					return err
				}
				removed = append(removed, id)
			}
			return nil
		})
		if err != nil {
			r.log.Error("register reconcile: could not remove registrations; retried after the next sync",
				"software_id", p.SoftwareProductID, "error", err)
			continue
		}
		if len(removed) > 0 {
			r.log.Warn("registrations removed after a Register status change", "software_id", p.SoftwareProductID, "reason", reason, "clients", removed)
		}
	}
}

// removalReason says why a product's registrations must go, or "" when they stay.
func removalReason(p register.ProductStatus) string {
	switch {
	case strings.EqualFold(p.Status, "REMOVED"):
		return "software product is REMOVED at the CDR Register"
	case strings.EqualFold(p.BrandStatus, "REMOVED"):
		return "brand " + p.BrandID + " is REMOVED at the CDR Register"
	case strings.EqualFold(p.LegalEntityStatus, "REVOKED"), strings.EqualFold(p.LegalEntityStatus, "SURRENDERED"):
		return "legal entity " + p.LegalEntityID + " is " + strings.ToUpper(p.LegalEntityStatus) + " at the CDR Register"
	}
	return ""
}
