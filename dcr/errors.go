// Package dcr is the CDR Dynamic Client Registration protocol and the
// registrar: SSA and request verification, metadata rules, the dry run (the
// protocol), and the registrar that stores, reads, updates, deletes, revokes and
// blocks clients with their audit events. Its typed errors (Error, AuthError)
// carry the DCR error code and are shared by authz and authlete, which import
// dcr; dcr imports neither. JWTs and key rules are package jose's, outbound
// fetching and JWKS caching package fetch's, the Register's data package
// register's. It knows nothing of Gin or HTML.
package dcr

import "fmt"

// Step names the stage of the registration pipeline that an attempt failed at.
// They are stable strings: they appear in the audit log and the console.
type Step string

// Pipeline steps, in the order of cdr-dcr.md. Every Step has exactly one entry
// in the pipeline table (steps.go), which gives its title and explanation.
const (
	StepTransport        Step = "transport"
	StepRequest          Step = "request"            // 1: body is a JWT
	StepSoftwareStmt     Step = "software_statement" // 2: SSA present and a JWT
	StepRegisterJWKS     Step = "register_jwks"      // 3
	StepSSA              Step = "ssa"                // 4
	StepRegisterStatus   Step = "register_status"    // 5
	StepBlocked          Step = "blocked"            // 5b: blocked by an operator
	StepJWKSURI          Step = "jwks_uri"           // 6
	StepADRJWKS          Step = "adr_jwks"           // 7
	StepRequestSignature Step = "request_signature"  // 8
	StepSectorIdentifier Step = "sector_identifier"  // 9
	StepMetadata         Step = "metadata"           // 10/12
	StepRedirectURIs     Step = "redirect_uris"      // 11
	StepSoftwareID       Step = "software_id"        // PUT: the SSA belongs to another product
	StepDuplicate        Step = "duplicate"          // 13
	StepAuthorization    Step = "authorization"      // a management call refused by authorization
	StepStore            Step = "store"
)

// StepToken is the audit step of the token endpoint's refusals (package authz):
// declared here because every Step has its entry in the step table.
const StepToken Step = "token"

// OAuth / DCR error codes.
const (
	CodeInvalidClientMetadata       = "invalid_client_metadata"
	CodeInvalidSoftwareStatement    = "invalid_software_statement"
	CodeUnapprovedSoftwareStatement = "unapproved_software_statement"
	CodeInvalidRedirectURI          = "invalid_redirect_uri"
	CodeInvalidRequest              = "invalid_request"
	CodeServerError                 = "server_error"
)

// Error is a rejected registration: Code and Description go to the client
// verbatim; Step and Detail (the precise internal reason) go to the audit log.
type Error struct {
	Status      int // HTTP status; 0 means 400
	Code        string
	Description string
	Step        Step
	Detail      string
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("%s: %s (%s: %s)", e.Code, e.Description, e.Step, e.Detail)
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Description, e.Step)
}

// HTTPStatus is the status the error is answered with.
func (e *Error) HTTPStatus() int {
	if e.Status == 0 {
		return 400
	}
	return e.Status
}

func fail(step Step, code, description, detail string, args ...any) *Error {
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	return &Error{Code: code, Description: description, Step: step, Detail: detail}
}

// The exact descriptions of cdr-dcr.md. Do not reword: ADR test suites match them.
const (
	DescRequestEmpty       = "ERR-DCR-002: Registration request is empty"
	DescSSAEmpty           = "ERR-DCR-006: The software_statement is empty or invalid"
	DescRegisterJWKS       = "ERR-GEN-022: Could not load SSA JWKS from Register endpoint: %s"
	DescSSAInvalid         = "ERR-DCR-005: SSA validation failed."
	DescProductStatus      = "ERR-GEN-002: Software product status is %s"
	DescProductNotFound    = "ERR-GEN-001: Software product not found"
	DescJWKSURIInvalid     = "ERR-GEN-020: Invalid jwks_uri in SSA"
	DescADRJWKS            = "ERR-GEN-021: Could not load JWKS from Data Recipient endpoint: %s"
	DescRequestInvalid     = "ERR-DCR-004: Client Registration Request validation failed."
	DescSectorIdentifier   = "ERR-DCR-007: Invalid sector_identifier_uri"
	DescRedirectURI        = "ERR-DCR-003: The redirect_uri '%s' is not valid as it is not included in the software_statement"
	DescDuplicate          = "ERR-DCR-001: Duplicate registrations for a given software_id are not valid."
	DescSSAOtherClient     = "The software_statement does not belong to this client"
	DescSoftwareBlocked    = "The software product has been blocked by the Data Holder"
	DescClaimMissing       = "The '%s' claim is missing."
	DescClaimOneOf         = "The '%s' claim value must be one of '%s'."
	DescClaimSetTo         = "The '%s' claim value must be set to '%s'."
	DescGrantTypesAuthCode = "The 'grant_types' claim value must contain the 'authorization_code' value."
)

// AuthError is a refusal of GET/PUT/DELETE /register/{id} by the authorization
// order of cdr-dcr.md: the status, the WWW-Authenticate header, and a JSON body
// (Code "" means an empty body).
type AuthError struct {
	Status          int
	WWWAuthenticate string
	Code            string
	Description     string
	// Detail is the internal reason, for the audit log only.
	Detail string
}

// Error is the refusal as logged: status, code and the internal detail.
func (e *AuthError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Detail) }

// Descriptions of the management endpoints' refusals.
const (
	DescHolderOfKey   = "ERR-AUTH-001: Holder of Key check failed"
	DescClientUnknown = "The client is unknown"
)
