package authz

import (
	"context"

	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store"
)

// Refuse audits a POST /token refused by the transport checks, before Issue:
// the client certificate, the Content-Type, a body that is not a form, a
// repeated parameter. r carries what could be read of the form.
func (s *TokenService) Refuse(ctx context.Context, r TokenRequest, derr *dcr.Error) {
	ev := &store.AuditEvent{Type: store.EventTokenIssue, RemoteAddr: r.RemoteAddr, CertThumbprint: r.CertThumbprint,
		RequestID: r.RequestID, Data: tokenData(r)}
	dcr.AuditRefusal(ev, derr)
	s.recordRefusal(ctx, ev)
}

// recordRefusal writes a refusal's event in a transaction of its own; a failure
// is logged, since the client has been answered.
func (s *TokenService) recordRefusal(ctx context.Context, ev *store.AuditEvent) {
	if err := s.audit.Record(context.WithoutCancel(ctx), ev); err != nil {
		s.log.Error("audit: token refusal not recorded", "request_id", ev.RequestID, "error", err)
	}
	s.tally.counted(ev)
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
	return store.AuditData(map[string]any{"params": params})
}
