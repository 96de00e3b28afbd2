package dcr

import (
	"context"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// RecordAPIRefusal audits a processing-API call refused before it reached the
// registrar: an unknown service or a missing, wrong or revoked API key (c.Actor
// is the presented key's prefix, or "anonymous"), or a malformed call (c.Actor is
// "apikey:NAME"). eventType is the event the call would have made. body is what
// the caller sent, kept bounded (see attemptData); nil when it was never read, as
// for a refused key: nothing an anonymous caller sends is stored.
func (r *Registrar) RecordAPIRefusal(ctx context.Context, eventType store.EventType, c Caller, body []byte, derr *Error) {
	a := Attempt{Body: body, RemoteAddr: c.RemoteAddr, CertThumbprint: c.CertThumbprint, RequestID: c.RequestID,
		Source: store.SourceAPI, Actor: c.Actor}
	ev := r.event(a, nil, derr, time.Now(), "")
	ev.Type = eventType
	if body == nil {
		ev.Data = ""
	}
	r.record(ctx, ev)
}

// AuditRefusal records derr on ev: outcome "rejected" for a refusal of the
// caller, "error" for a failure on our side (5xx), with its code, step and the
// reason "description | detail" (see store.AuditEvent.Refused).
func AuditRefusal(ev *store.AuditEvent, derr *Error) {
	outcome := store.OutcomeRejected
	if derr.HTTPStatus() >= 500 {
		outcome = store.OutcomeError
	}
	ev.Refused(outcome, derr.Code, string(derr.Step), derr.Description, derr.Detail)
}
