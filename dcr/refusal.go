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

// Refuse audits a POST /token refused by the transport checks, before Issue:
// the client certificate, the Content-Type, a body that is not a form, a
// repeated parameter. r carries what could be read of the form.
func (s *TokenService) Refuse(ctx context.Context, r TokenRequest, derr *Error) {
	ev := &store.AuditEvent{Type: store.EventTokenIssue, RemoteAddr: r.RemoteAddr, CertThumbprint: r.CertThumbprint,
		RequestID: r.RequestID, Data: tokenData(r)}
	auditRefusal(ev, derr)
	if err := s.audit.Record(context.WithoutCancel(ctx), ev); err != nil {
		s.log.Error("audit: token refusal not recorded", "request_id", r.RequestID, "error", err)
	}
}

// tokenData records the parameters of a refused token request, each as a bounded
// store.Payload (its first 8 KiB, length and SHA-256), so a long value cannot grow
// the database by the body limit. The client assertion is a credential that may
// still be valid (it was perhaps refused before it was checked), so only its
// length and SHA-256 are kept, never its text.
func tokenData(r TokenRequest) string {
	params := map[string]store.Payload{}
	for name, v := range map[string]string{"grant_type": r.GrantType, "client_assertion_type": r.ClientAssertionType,
		"client_id": r.ClientID, "scope": r.Scope} {
		if v != "" {
			params[name] = store.NewPayload([]byte(v))
		}
	}
	if r.ClientAssertion != "" {
		p := store.NewPayload([]byte(r.ClientAssertion))
		p.Prefix = ""
		params["client_assertion"] = p
	}
	if len(params) == 0 {
		return ""
	}
	return encodeData(map[string]any{"params": params})
}

// auditRefusal records derr on ev: outcome "rejected" for a refusal of the
// caller, "error" for a failure on our side (5xx), with its code, step and the
// reason "description | detail" (see store.AuditEvent.Refused).
func auditRefusal(ev *store.AuditEvent, derr *Error) {
	outcome := store.OutcomeRejected
	if derr.HTTPStatus() >= 500 {
		outcome = store.OutcomeError
	}
	ev.Refused(outcome, derr.Code, string(derr.Step), derr.Description, derr.Detail)
}
