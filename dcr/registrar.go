package dcr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dcrconsole/dcrconsole/store"
)

// Auditor appends an event to the audit log inside the caller's transaction
// (Append), or in a transaction of its own for an event that accompanies no
// state change (Record, after running before in that transaction).
// *audit.Log implements it.
type Auditor interface {
	Append(tx *store.Tx, e *store.AuditEvent) error
	Record(ctx context.Context, e *store.AuditEvent, before ...func(tx *store.Tx) error) error
}

// Attempt is one call of a registration endpoint, with what the transport knows.
type Attempt struct {
	Body           []byte
	RemoteAddr     string
	CertThumbprint string
	RequestID      string
	Source         string // store.SourceRegister or store.SourceAPI
	Actor          string // who called: "" for an ADR on the public endpoint, "apikey:NAME" for the API
	// Metadata marks Body as RFC 7591 JSON (processing API) rather than a request JWT.
	Metadata bool
	// APIKeyName and RATHash are set by the processing API.
	APIKeyName string
	RATHash    string
}

// validate runs the pipeline that fits the attempt's body, without the
// duplicate rule (PUT /register/{id}).
func (r *Registrar) validate(ctx context.Context, a Attempt) (*Registration, *Error) {
	o := r.pipeline.check(ctx, a.Body, a.Metadata, nil)
	return o.s.reg, o.err
}

// duplicates answers the duplicate rule (step 13) for a new registration, or
// is nil when duplicate registrations are allowed.
func (r *Registrar) duplicates() ActiveClients {
	if r.allowDuplicate {
		return nil
	}
	return r.db
}

// Registrar turns validated registrations into stored clients, one transaction
// each, with the audit event written in that same transaction.
type Registrar struct {
	pipeline       *Pipeline
	db             *store.DB
	audit          Auditor
	allowDuplicate bool
	log            *slog.Logger
	tally          tally // what it answered, for monitoring (tally.go)
}

// NewRegistrar wires a Registrar.
func NewRegistrar(p *Pipeline, db *store.DB, a Auditor, allowDuplicate bool, log *slog.Logger) *Registrar {
	return &Registrar{pipeline: p, db: db, audit: a, allowDuplicate: allowDuplicate, log: log}
}

// Pipeline is the validation pipeline the registrar runs.
func (r *Registrar) Pipeline() *Pipeline { return r.pipeline }

// Register validates a registration request JWT and stores the client (POST /register).
// On success it returns the registration as the client must see it.
func (r *Registrar) Register(ctx context.Context, a Attempt) (*Metadata, *Error) {
	start := time.Now()
	o := r.pipeline.check(ctx, a.Body, a.Metadata, r.duplicates()) // steps 1 to 13
	reg, derr := o.s.reg, o.err
	if derr != nil {
		r.recordRejection(ctx, a, reg, derr, start)
		return nil, derr
	}

	now := r.pipeline.Now().UTC()
	m := reg.Metadata
	m.ClientID = uuid.NewString()
	m.ClientIDIssuedAt = now.Unix()
	client, err := newClient(&m, reg, a, now, r.allowDuplicate)
	if err != nil {
		derr = internalError("encode client: %v", err)
		r.recordRejection(ctx, a, reg, derr, start)
		return nil, derr
	}
	ev := r.event(a, reg, nil, start, m.ClientID)
	err = r.commit(ctx, reg, func(tx *store.Tx) error { return store.CreateClient(tx, client) }, ev)
	switch {
	case err == nil:
		r.tally.counted(ev)
		return &m, nil
	case errors.Is(err, store.ErrReplay):
		derr = fail(StepRequestSignature, CodeInvalidClientMetadata, DescRequestInvalid, "request jti %q was already used (concurrent replay)", reg.JTI)
	case errors.Is(err, store.ErrDuplicate):
		derr = duplicateError(reg.SoftwareID)
	default:
		derr = internalError("store registration: %v", err)
	}
	r.recordRejection(ctx, a, reg, derr, start)
	return nil, derr
}

func duplicateError(softwareID string) *Error {
	return fail(StepDuplicate, CodeInvalidClientMetadata, DescDuplicate, "an active registration already exists for software_id %s", softwareID)
}

func internalError(format string, args ...any) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeServerError, Description: "The server could not process the registration; try again later.",
		Step: StepStore, Detail: fmt.Sprintf(format, args...)}
}

// Reject records an attempt that failed before it reached the pipeline (a
// transport check such as the Content-Type or the body size).
func (r *Registrar) Reject(ctx context.Context, a Attempt, derr *Error) {
	r.recordRejection(ctx, a, nil, derr, time.Now())
}

// RejectUpdate records a PUT /register/{id} that failed before the pipeline,
// as an update of that client.
func (r *Registrar) RejectUpdate(ctx context.Context, c *store.Client, a Attempt, derr *Error) {
	ev := r.event(a, nil, derr, time.Now(), c.ID)
	ev.Type, ev.SoftwareID, ev.OrgID = store.EventRegistrationUpdate, c.SoftwareID, c.OrgID
	r.record(ctx, ev)
}

// commit writes a validated registration (write), consumes its request's jti
// and appends its audit event, all in one transaction.
func (r *Registrar) commit(ctx context.Context, reg *Registration, write func(tx *store.Tx) error, ev *store.AuditEvent) error {
	return r.db.Tx(ctx, func(tx *store.Tx) error {
		if reg.JTI != "" {
			if err := store.ConsumeJTI(tx, store.JTIRegistrationRequest, reg.JTI, reg.JTIExpires); err != nil {
				return err
			}
		}
		if err := write(tx); err != nil {
			return err
		}
		return r.audit.Append(tx, ev)
	})
}

// recordRejection writes the audit event of a failed attempt and, when the
// request's signature had verified, consumes its jti so it cannot be replayed.
func (r *Registrar) recordRejection(ctx context.Context, a Attempt, reg *Registration, derr *Error, start time.Time) {
	r.recordWithJTI(ctx, r.event(a, reg, derr, start, ""), reg)
}

func (r *Registrar) event(a Attempt, reg *Registration, derr *Error, start time.Time, clientID string) *store.AuditEvent {
	ev := &store.AuditEvent{
		Type:           store.EventRegistrationCreate,
		Actor:          a.Actor,
		Outcome:        store.OutcomeSuccess,
		ClientID:       clientID,
		RemoteAddr:     a.RemoteAddr,
		CertThumbprint: a.CertThumbprint,
		RequestID:      a.RequestID,
		DurationUS:     time.Since(start).Microseconds(),
	}
	if reg != nil {
		ev.SoftwareID, ev.OrgID, ev.JTI = reg.SoftwareID, reg.OrgID, reg.JTI
		if ev.JTI == "" && reg.Request != nil {
			ev.JTI, _ = reg.Request.String("jti")
		}
	}
	if ev.Actor == "" && ev.SoftwareID != "" {
		ev.Actor = "software:" + ev.SoftwareID
	}
	if derr != nil {
		AuditRefusal(ev, derr)
		ev.Data = attemptData(a.Body, reg)
	}
	return ev
}

// attemptData keeps the request of a rejected attempt, so an operator can show
// the ADR what it sent: the request JWT when it parsed and fits in
// store.MaxPayloadPrefix, else the body's first store.MaxPayloadPrefix bytes;
// always the length and SHA-256 of the whole body, which the ADR can compare
// with its copy. The bound keeps anonymous refusals from growing the database by
// the body limit each.
func attemptData(body []byte, reg *Registration) string {
	p := store.NewPayload(body)
	d := map[string]any{"source_bytes": p.Bytes, "body_sha256": p.SHA256}
	if reg != nil && reg.Request != nil && len(reg.Request.Raw) <= store.MaxPayloadPrefix {
		d["request_jwt"] = reg.Request.Raw
	} else {
		d["body_prefix"] = p.Prefix
	}
	return store.AuditData(d)
}

func newClient(m *Metadata, reg *Registration, a Attempt, now time.Time, allowDuplicate bool) (*store.Client, error) {
	regJSON, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	c := &store.Client{
		ID:                m.ClientID,
		SoftwareID:        m.SoftwareID,
		Status:            store.StatusActive,
		Source:            a.Source,
		ClientName:        m.ClientName,
		OrgID:             m.OrgID,
		OrgName:           m.OrgName,
		LegalEntityID:     m.LegalEntityID,
		LegalEntityName:   m.LegalEntityName,
		IssuedAt:          m.ClientIDIssuedAt,
		Registration:      string(regJSON),
		SoftwareStatement: reg.SSA.Raw,
		SSAKeyID:          reg.SSAKeyID,
		CertThumbprint:    a.CertThumbprint,
		APIKeyName:        a.APIKeyName,
		RATHash:           a.RATHash,
		JWKSURI:           m.JWKSURI,
		Scope:             m.Scope,
		CreatedAt:         now,
		UpdatedAt:         now,
	}
	if !allowDuplicate {
		sid := strings.ToLower(m.SoftwareID)
		c.ActiveSoftwareID = &sid
	}
	if a.Metadata { // RFC 7591 JSON through the processing API: keep what was sent
		c.RequestClaims = string(a.Body)
	}
	if reg.Request != nil {
		// The decoded header and claims are not stored again: the console decodes
		// RequestJWT and SoftwareStatement when it shows them.
		c.RequestJWT = reg.Request.Raw
	}
	if c.Source == "" {
		c.Source = store.SourceRegister
	}
	return c, nil
}
