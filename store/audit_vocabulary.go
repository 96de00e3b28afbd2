package store

import "strings"

// EventType is what an audit event records. The strings are stored and hashed,
// so they never change once released; a new kind of event is a new constant
// here, listed in EventTypes.
type EventType string

// Event types written by the protocol side (dcr).
const (
	// EventRegistrationCreate is POST /register and its processing-API equivalent.
	EventRegistrationCreate EventType = "registration.create"
	// EventRegistrationRead is GET /register/{id}.
	EventRegistrationRead EventType = "registration.read"
	// EventRegistrationUpdate is PUT /register/{id}.
	EventRegistrationUpdate EventType = "registration.update"
	// EventRegistrationDelete is DELETE /register/{id}.
	EventRegistrationDelete EventType = "registration.delete"
	// EventTokenIssue is a token issued (or refused) at the token endpoint.
	EventTokenIssue EventType = "token.issue"
	// EventClientStatus is a client's status changing: revoked or restored by an
	// operator, or removed because the CDR Register removed its software product.
	EventClientStatus EventType = "client.status"
	// EventRegisterSync is one synchronisation with the CDR Register.
	EventRegisterSync EventType = "register.sync"
	// EventHolderKeyRotate is a new signing key made for the Data Holder
	// (`dcrconsole keys rotate`, actor "cli").
	EventHolderKeyRotate EventType = "holder_key.rotate"
	// EventHolderKeyActivate is the running server starting to sign with a new key,
	// at the key reload after a rotation (actor "server").
	EventHolderKeyActivate EventType = "holder_key.activate"
	// EventAlertFire is a built-in alert starting to fire (actor "alerts").
	EventAlertFire EventType = "alert.fire"
	// EventAlertResolve is a firing alert whose condition no longer holds.
	EventAlertResolve EventType = "alert.resolve"
	// EventAuditVerifyScheduled is the result of a scheduled chain verification
	// (audit.verify_every; actor "scheduler").
	EventAuditVerifyScheduled EventType = "audit.verify"
)

// EventOperatorPrefix starts every console action's type, so the console can list
// them all with one prefix match ("operator.*").
const EventOperatorPrefix = "operator."

// Console actions: every type starts with EventOperatorPrefix.
const (
	EventOperatorLogin        EventType = "operator.login"         // a sign-in, accepted or refused
	EventOperatorLogout       EventType = "operator.logout"        // a sign-out, or every session ended
	EventOperatorUserCreate   EventType = "operator.user.create"   // an account created
	EventOperatorUserUpdate   EventType = "operator.user.update"   // an account's role or disabled flag changed
	EventOperatorUserPassword EventType = "operator.user.password" // a password changed or reset
	EventOperatorAPIKeyCreate EventType = "operator.apikey.create" // a processing-API key created
	EventOperatorAPIKeyRevoke EventType = "operator.apikey.revoke" // a processing-API key revoked
	EventOperatorBlock        EventType = "operator.block"         // a software product blocked
	EventOperatorUnblock      EventType = "operator.unblock"       // a software product unblocked
	EventOperatorExport       EventType = "operator.export"        // the audit log or the client list exported
	EventOperatorRefreshKeys  EventType = "operator.refresh_keys"  // a client's JWKS refreshed by hand
	EventOperatorInspect      EventType = "operator.inspect"       // a JWT dry-run in the inspector
	EventOperatorSync         EventType = "operator.sync"          // a Register sync started by hand
	EventOperatorVerifyStart  EventType = "operator.verify_start"  // a chain verification requested
	EventOperatorVerify       EventType = "operator.verify"        // a chain verification's result
	EventOperatorAlertAck     EventType = "operator.alert.ack"     // a firing alert acknowledged, with a note
	// Operator sign-in (issue 13): second factors, session control, unlocks.
	EventOperatorLoginStep  EventType = "operator.login.step"  // a sign-in step passed (password accepted; second factor or enrolment next)
	EventOperatorMFAEnrol   EventType = "operator.mfa.enrol"   // an authenticator app, passkey or new recovery codes set up
	EventOperatorMFARemove  EventType = "operator.mfa.remove"  // an authenticator app or passkey removed by its owner
	EventOperatorMFAReset   EventType = "operator.mfa.reset"   // every second factor of an account removed by an administrator
	EventOperatorSessionEnd EventType = "operator.session.end" // a session ended by its owner or an administrator
	EventOperatorUnlock     EventType = "operator.unlock"      // a throttled account or address unlocked by an administrator
	EventOperatorClientNote EventType = "operator.client_note" // a note (and ticket reference) attached to a client
	EventOperatorBulk       EventType = "operator.bulk"        // a bulk revoke or block of a brand's or legal entity's registrations
)

// Single sign-on (console.oidc): the IdP's word on who an operator is and
// which role they hold, at every SSO sign-in.
const (
	EventOperatorSSOLogin EventType = "operator.sso.login" // an SSO sign-in, accepted or refused (no mapped role, bad ID token, ...)
	EventOperatorSSORole  EventType = "operator.sso.role"  // an SSO account's role changed by the IdP's claim at sign-in
)

// eventTypes is every event type, in the order the console lists them.
var eventTypes = []EventType{
	EventRegistrationCreate, EventRegistrationRead, EventRegistrationUpdate, EventRegistrationDelete,
	EventTokenIssue, EventClientStatus, EventRegisterSync, EventHolderKeyRotate, EventHolderKeyActivate,
	EventAlertFire, EventAlertResolve, EventAuditVerifyScheduled,
	EventOperatorLogin, EventOperatorLogout, EventOperatorUserCreate, EventOperatorUserUpdate,
	EventOperatorUserPassword, EventOperatorAPIKeyCreate, EventOperatorAPIKeyRevoke, EventOperatorBlock,
	EventOperatorUnblock, EventOperatorExport, EventOperatorRefreshKeys, EventOperatorInspect,
	EventOperatorSync, EventOperatorVerifyStart, EventOperatorVerify,
	EventOperatorAlertAck,
	EventOperatorSSOLogin, EventOperatorSSORole,
	EventOperatorLoginStep, EventOperatorMFAEnrol, EventOperatorMFARemove, EventOperatorMFAReset,
	EventOperatorSessionEnd, EventOperatorUnlock,
	EventOperatorClientNote, EventOperatorBulk,
}

// EventTypes is every event type, protocol events first, then console actions.
func EventTypes() []EventType { return append([]EventType(nil), eventTypes...) }

// IsOperator reports whether t is a console action.
func (t EventType) IsOperator() bool { return strings.HasPrefix(string(t), EventOperatorPrefix) }

// Outcome is what became of the action an event records.
type Outcome string

// Outcomes.
const (
	// OutcomeSuccess is an action that did what was asked.
	OutcomeSuccess Outcome = "success"
	// OutcomeRejected is an action refused because of the caller (a bad request, a
	// failed check); ErrorCode says why.
	OutcomeRejected Outcome = "rejected"
	// OutcomeError is an action that failed on our side (database, Register unreachable).
	OutcomeError Outcome = "error"
)

// Outcomes is every outcome.
func Outcomes() []Outcome { return []Outcome{OutcomeSuccess, OutcomeRejected, OutcomeError} }

// Valid reports whether o is one of Outcomes.
func (o Outcome) Valid() bool {
	return o == OutcomeSuccess || o == OutcomeRejected || o == OutcomeError
}
