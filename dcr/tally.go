package dcr

import (
	"maps"
	"slices"
	"sync"

	"github.com/dcrconsole/dcrconsole/store"
)

// Running totals of what the registrar answered, for monitoring: the metrics
// endpoint reads them at every scrape, an alert on the rejection rate compares
// two readings. They count calls, not clients: no key holds a client or
// software id, and codes and steps are closed sets (BoundCode, BoundStep), so
// the number of keys stays small whatever callers send.

// Tally is a reading of the registrar's totals since start.
type Tally struct {
	// Registrations counts POST /register and the processing API's registrations.
	Registrations map[RegistrationKey]uint64
	// Management counts the management calls (GET, PUT, DELETE /register/{id}
	// and the processing API's get, update, delete).
	Management map[ManagementKey]uint64
}

// RegistrationKey is one kind of registration outcome. Code and Step are "" on
// success.
type RegistrationKey struct {
	Outcome store.Outcome
	Code    string
	Step    Step
}

// ManagementKey is one kind of management call outcome. Operation is "read",
// "update" or "delete"; Code is "" on success.
type ManagementKey struct {
	Operation string
	Outcome   store.Outcome
	Code      string
}

// Management operations, by the audit event type that records them.
var managementOperations = map[store.EventType]string{
	store.EventRegistrationRead:   "read",
	store.EventRegistrationUpdate: "update",
	store.EventRegistrationDelete: "delete",
}

// ErrorCodes are the error codes the registrar, the token endpoint and the
// management endpoints answer with. BoundCode reports any other as "other".
var ErrorCodes = []string{
	CodeInvalidClientMetadata, CodeInvalidSoftwareStatement, CodeUnapprovedSoftwareStatement,
	CodeInvalidRedirectURI, CodeInvalidRequest, CodeServerError,
	"invalid_token", "insufficient_scope", "client_certificate_required",
	"invalid_client", "invalid_scope", "unsupported_grant_type",
	"urn:au-cds:error:cds-all:Authorisation/AdrStatusNotActive",
}

// BoundCode is code when it is one of ErrorCodes, else "other": a label that
// can take only known values.
func BoundCode(code string) string {
	if code == "" || slices.Contains(ErrorCodes, code) {
		return code
	}
	return "other"
}

// BoundStep is step when it has an entry in the step table, else "other".
func BoundStep(id Step) Step {
	if id == "" || slices.ContainsFunc(steps, func(s step) bool { return s.ID == id }) {
		return id
	}
	return "other"
}

// tally keeps the counts behind Tally.
type tally struct {
	mu            sync.Mutex
	registrations map[RegistrationKey]uint64
	management    map[ManagementKey]uint64
}

// Tally reads the registrar's totals since start; the maps are the caller's.
func (r *Registrar) Tally() Tally {
	t := &r.tally
	t.mu.Lock()
	defer t.mu.Unlock()
	return Tally{Registrations: maps.Clone(t.registrations), Management: maps.Clone(t.management)}
}

// counted counts the call that ev records: a registration, a management call,
// or nothing (another event type).
func (t *tally) counted(ev *store.AuditEvent) {
	t.count(ev.Type, ev.Outcome, ev.ErrorCode, Step(ev.Step))
}

// refused counts a call of eventType refused by derr without an audit event of
// its own (the audit write or the store failed).
func (t *tally) refused(eventType store.EventType, derr *Error) {
	outcome := store.OutcomeRejected
	if derr.HTTPStatus() >= 500 {
		outcome = store.OutcomeError
	}
	t.count(eventType, outcome, derr.Code, derr.Step)
}

func (t *tally) count(eventType store.EventType, outcome store.Outcome, code string, step Step) {
	code, step = BoundCode(code), BoundStep(step)
	if outcome == store.OutcomeSuccess {
		code, step = "", ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if eventType == store.EventRegistrationCreate {
		if t.registrations == nil {
			t.registrations = map[RegistrationKey]uint64{}
		}
		t.registrations[RegistrationKey{Outcome: outcome, Code: code, Step: step}]++
		return
	}
	if op, ok := managementOperations[eventType]; ok {
		if t.management == nil {
			t.management = map[ManagementKey]uint64{}
		}
		t.management[ManagementKey{Operation: op, Outcome: outcome, Code: code}]++
	}
}
