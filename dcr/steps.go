package dcr

import (
	"context"
	"slices"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// The registration pipeline is declared once, here, as data: every Step, in the
// order of cdr-dcr.md, with its title, its explanation for operators and the
// function that runs it. Validate, ValidateMetadata, CheckSSA, DryRun, the
// registrar's duplicate rule and the console's attempt page are selections of
// this one list, run by one runner. Adding a step is one entry, its function and
// its tests (see docs/architecture.md, "How to add a DCR step").

// step is one entry of the pipeline table.
type step struct {
	ID      Step
	Title   string // numbered as in cdr-dcr.md; the dry run's title
	Explain string // the console's one-line help for an attempt that failed here
	// JWTOnly marks the steps that do not apply to RFC 7591 JSON (ValidateMetadata):
	// there is no request signature to load keys for and check.
	JWTOnly bool
	// InSSACheck marks the steps of CheckSSA, the SSA checked on its own.
	InSSACheck bool
	// ssaTitle is the title in CheckSSA, when it differs from Title.
	ssaTitle string
	// notAttempt marks a stage never recorded on a registration attempt (the
	// token endpoint's refusals): the attempts page does not offer it.
	notAttempt bool
	// run checks the step; nil for a stage the pipeline does not run (transport
	// checks, the PUT software_id rule, authorization, storing), which is listed
	// because the audit log records it and the console explains it.
	run func(p *Pipeline, ctx context.Context, s *state) *Error
	// skip, when set and it returns a reason, means the step does not apply here
	// (a check turned off by configuration); the runner passes over it.
	skip func(p *Pipeline, s *state) string
	// passed is the dry run's detail for a passed step: what was checked and found.
	passed func(p *Pipeline, reg *Registration) string
	// needs, when set, says whether what the step reads from earlier steps is
	// there. Only a run that goes on after a failure (a replay) asks: the
	// step is then passed over when an earlier failure left it nothing to check.
	needs func(s *state) bool
}

// steps is the pipeline, in order. Table order is run order and display order.
var steps = []step{
	{ID: StepTransport, Title: "Transport checks",
		Explain: "Transport: Content-Type, body size or client certificate"},
	{ID: StepRequest, Title: "1. Registration request is a JWT",
		Explain: "Step 1: the body is empty or not a JWT",
		run:     (*Pipeline).stepParse, passed: passedRequest},
	{ID: StepSoftwareStmt, Title: "2. software_statement is present and a JWT", ssaTitle: "2. SSA is a JWT", InSSACheck: true,
		Explain: "Step 2: software_statement missing or not a JWT",
		run:     (*Pipeline).stepSoftwareStatement, passed: passedSoftwareStatement,
		needs: func(s *state) bool { return s.claims != nil || s.ssaRaw != "" }},
	{ID: StepRegisterJWKS, Title: "3. Register JWKS loads", InSSACheck: true,
		Explain: "Step 3: the CDR Register's JWKS could not be loaded",
		run:     (*Pipeline).stepRegisterJWKS, passed: passedRegisterJWKS, needs: hasSSA},
	{ID: StepSSA, Title: "4. SSA is signed by the Register, current and complete", InSSACheck: true,
		Explain: "Step 4: SSA signature, alg, iss, exp/nbf or required SSA claims",
		run:     (*Pipeline).stepSSA, passed: passedSSA,
		needs: func(s *state) bool { return s.ssaKey != nil || s.ssaKeyErr != nil }},
	{ID: StepRegisterStatus, Title: "5. Software product, brand and legal entity are ACTIVE at the Register", InSSACheck: true,
		Explain: "Step 5: software product, brand or legal entity not ACTIVE (or unknown) at the Register",
		run:     (*Pipeline).stepRegisterStatus, skip: skipRegisterStatus, passed: passedRegisterStatus, needs: hasSoftwareID},
	{ID: StepBlocked, Title: "5b. Software product is not blocked by this Data Holder",
		Explain: "Step 5b: software product blocked by an operator of this Data Holder",
		run:     (*Pipeline).stepBlocked, passed: func(*Pipeline, *Registration) string { return "not blocked" }, needs: hasSoftwareID},
	{ID: StepJWKSURI, Title: "6. SSA jwks_uri is an absolute https URL",
		Explain: "Step 6: SSA jwks_uri missing or not an absolute https URL",
		run:     (*Pipeline).stepJWKSURI, passed: passedJWKSURI, needs: hasSSAClaims},
	{ID: StepADRJWKS, Title: "7. ADR JWKS loads", JWTOnly: true,
		Explain: "Step 7: the ADR's JWKS could not be loaded or has no keys",
		run:     (*Pipeline).stepADRJWKS, passed: passedADRJWKS,
		needs: func(s *state) bool { return s.jwksURI != "" }},
	{ID: StepRequestSignature, Title: "8. Request is signed by the ADR, current, addressed here and not replayed", JWTOnly: true,
		Explain: "Step 8: request signature, alg, exp/nbf, iss, aud or jti",
		run:     (*Pipeline).stepRequestSignature, passed: passedRequestSignature,
		needs: func(s *state) bool { return s.adrKey != nil || s.adrKeyErr != nil }},
	{ID: StepSectorIdentifier, Title: "9. sector_identifier_uri answers",
		Explain: "Step 9: sector_identifier_uri did not answer 2xx",
		run:     (*Pipeline).stepSectorIdentifier, passed: passedSectorIdentifier, needs: hasSSAClaims},
	{ID: StepMetadata, Title: "10. Client metadata rules",
		Explain: "Step 10/12: metadata rules (a claim missing or with a value not allowed)",
		run:     (*Pipeline).stepMetadataRules, passed: func(*Pipeline, *Registration) string { return "every rule holds" },
		needs: func(s *state) bool { return s.claims != nil }},
	{ID: StepRedirectURIs, Title: "11. Redirect URIs in the SSA",
		Explain: "Step 11: a redirect_uri is not in the SSA",
		run:     (*Pipeline).stepRedirectURIs, passed: passedRedirectURIs, needs: hasSSAClaims},
	{ID: StepSoftwareID, Title: "PUT: the SSA is for this client's software product",
		Explain: "PUT: the SSA belongs to another software product than this client"},
	{ID: StepDuplicate, Title: "13. Duplicate registration",
		Explain: "Step 13: an active registration already exists for this software_id",
		run:     (*Pipeline).stepDuplicate, skip: skipDuplicate, passed: passedDuplicate, needs: hasSoftwareID},
	{ID: StepAuthorization, Title: "Access token and client",
		Explain: "Access token or client refused (token, scope, holder of key, unknown client)"},
	{ID: StepToken, Title: "Token endpoint", notAttempt: true,
		Explain: "Token endpoint: grant, client assertion, client status or scope refused"},
	{ID: StepStore, Title: "Storing the registration",
		Explain: "Our side: the registration could not be stored"},
}

// What steps read from earlier ones (the table's needs).
func hasSSA(s *state) bool        { return s.reg.SSA != nil }
func hasSoftwareID(s *state) bool { return s.reg.SoftwareID != "" }
func hasSSAClaims(s *state) bool  { return s.ssa != nil }

// The selections of the table that the pipeline runs.
var (
	// requestSteps run on a registration request JWT (POST and PUT /register, the dry run).
	requestSteps = selectSteps(func(st *step) bool { return true })
	// metadataSteps run on RFC 7591 JSON from the processing API.
	metadataSteps = selectSteps(func(st *step) bool { return !st.JWTOnly })
	// ssaSteps run on an SSA on its own (the console's SSA check).
	ssaSteps = selectSteps(func(st *step) bool { return st.InSSACheck })
)

// selectSteps is the runnable steps of the table that keep says to keep, in order.
func selectSteps(keep func(*step) bool) []*step {
	var sel []*step
	for i := range steps {
		if steps[i].run != nil && keep(&steps[i]) {
			sel = append(sel, &steps[i])
		}
	}
	return sel
}

// skipped is why st does not apply to this run, or "" when it does.
func (st *step) skipped(p *Pipeline, s *state) string {
	if st.skip == nil {
		return ""
	}
	return st.skip(p, s)
}

// StepInfo describes a stage of registration for people: the console's step
// filter and its explanation of a failed attempt.
type StepInfo struct {
	ID      Step
	Title   string
	Explain string
	// Attempt says a registration attempt can fail here (the attempts page's filter).
	Attempt bool
}

// Steps lists every stage an attempt can fail at, in pipeline order.
func Steps() []StepInfo {
	out := make([]StepInfo, len(steps))
	for i, st := range steps {
		out[i] = StepInfo{ID: st.ID, Title: st.Title, Explain: st.Explain, Attempt: !st.notAttempt}
	}
	return out
}

// state is what one run of the pipeline learns, handed from step to step.
type state struct {
	reg *Registration
	// jwt says body is a registration request JWT, not RFC 7591 JSON.
	jwt  bool
	body []byte
	// claims are the request's claims or the JSON document; nil in CheckSSA,
	// where ssaRaw is given.
	claims    claimSource
	ssaRaw    string
	ssa       ssaClaims
	ssaKey    jwk.Key // step 3's result for step 4
	ssaKeyErr error
	jwksURI   string
	adrKey    jwk.Key // step 7's result for step 8
	adrKeyErr error
	// ruleErrs are step 10's findings; step 11 decides whether they are reported.
	ruleErrs ruleErrors
	// dups answers the duplicate rule; nil means duplicates are allowed.
	dups ActiveClients
}

// outcome is the runner's result.
type outcome struct {
	s   *state
	err *Error // the first failure, as the client is answered; nil if all passed
	// failed is the step err belongs to, "" when none. It is the step whose run
	// returned err, unless err names another step of the selection (step 11
	// reports step 10's findings, as step 12).
	failed Step
	// stopped is the index in the selection of the step whose run returned err,
	// len(selection) when none did.
	stopped int
}

// run runs the selection in order and stops at the first failure.
func (p *Pipeline) run(ctx context.Context, sel []*step, s *state) outcome {
	for i, st := range sel {
		if st.skipped(p, s) != "" {
			continue
		}
		if derr := st.run(p, ctx, s); derr != nil {
			failed := st.ID
			if derr.Step != st.ID && slices.ContainsFunc(sel, func(o *step) bool { return o.ID == derr.Step }) {
				failed = derr.Step
			}
			return outcome{s: s, err: derr, failed: failed, stopped: i}
		}
	}
	return outcome{s: s, stopped: len(sel)}
}

// check runs the registration pipeline on body, a request JWT or (metadata)
// RFC 7591 JSON, with the duplicate rule when dups is not nil.
func (p *Pipeline) check(ctx context.Context, body []byte, metadata bool, dups ActiveClients) outcome {
	s := &state{reg: &Registration{}, jwt: !metadata, body: body, dups: dups}
	if metadata {
		return p.run(ctx, metadataSteps, s)
	}
	return p.run(ctx, requestSteps, s)
}
