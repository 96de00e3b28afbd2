package dcr

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// A dry run answers an operator's question "what would happen if this request
// were registered now?" step by step, for the console's JWT inspector. It runs
// the real pipeline (Validate, which writes nothing): no client is stored, no jti
// is consumed and no audit event is written here.

// StepState is the outcome of one step of a dry run.
type StepState string

// Step states.
const (
	StatePass    StepState = "pass"
	StateFail    StepState = "fail"
	StateSkipped StepState = "skipped"
)

// DryRunStep is one step of a dry run, in pipeline order.
type DryRunStep struct {
	Step   Step
	Title  string // numbered as in cdr-dcr.md, e.g. "11. Redirect URIs in the SSA"
	State  StepState
	Detail string // what was checked and found; for the failed step, the internal detail
}

// DryRunResult is the outcome of a dry run.
type DryRunResult struct {
	Steps []DryRunStep
	// Registration is what was decoded and verified, as far as the run got.
	Registration *Registration
	// Err is the first failure, as the client would have been answered; nil when every step passed.
	Err *Error
}

// Passed reports whether no step failed.
func (r DryRunResult) Passed() bool { return r.Err == nil }

// Failed returns the failed step, or nil.
func (r DryRunResult) Failed() *DryRunStep {
	for i := range r.Steps {
		if r.Steps[i].State == StateFail {
			return &r.Steps[i]
		}
	}
	return nil
}

// ActiveClients answers the duplicate rule (step 13) without changing anything.
// *store.DB implements it.
type ActiveClients interface {
	HasActiveClient(ctx context.Context, softwareID string) (bool, error)
}

type stepDef struct {
	step  Step
	title string
}

var requestStepDefs = []stepDef{
	{StepRequest, "1. Registration request is a JWT"},
	{StepSoftwareStmt, "2. software_statement is present and a JWT"},
	{StepRegisterJWKS, "3. Register JWKS loads"},
	{StepSSA, "4. SSA is signed by the Register, current and complete"},
	{StepRegisterStatus, "5. Software product, brand and legal entity are ACTIVE at the Register"},
	{StepBlocked, "5b. Software product is not blocked by this Data Holder"},
	{StepJWKSURI, "6. SSA jwks_uri is an absolute https URL"},
	{StepADRJWKS, "7. ADR JWKS loads"},
	{StepRequestSignature, "8. Request is signed by the ADR, current, addressed here and not replayed"},
	{StepSectorIdentifier, "9. sector_identifier_uri answers"},
	{StepMetadata, "10. Client metadata rules"},
	{StepRedirectURIs, "11. Redirect URIs in the SSA"},
	{StepDuplicate, "13. Duplicate registration"},
}

var ssaStepDefs = []stepDef{
	{StepSoftwareStmt, "2. SSA is a JWT"},
	{StepRegisterJWKS, "3. Register JWKS loads"},
	{StepSSA, "4. SSA is signed by the Register, current and complete"},
	{StepRegisterStatus, "5. Software product, brand and legal entity are ACTIVE at the Register"},
}

// DryRun runs the registration pipeline (steps 1 to 12) on a registration request
// and, when dups is not nil, the duplicate rule (step 13), and reports every step.
// dups nil means duplicate registrations are allowed here.
func (p *Pipeline) DryRun(ctx context.Context, body []byte, dups ActiveClients) DryRunResult {
	reg, derr := p.Validate(ctx, body)
	if derr == nil && dups != nil {
		exists, err := dups.HasActiveClient(ctx, reg.SoftwareID)
		switch {
		case err != nil:
			derr = internalError("duplicate check: %v", err)
			derr.Step = StepDuplicate
		case exists:
			derr = duplicateError(reg.SoftwareID)
		}
	}
	res := DryRunResult{Registration: reg, Err: derr}
	res.Steps = p.dryRunSteps(requestStepDefs, reg, derr)
	if dups == nil {
		last := &res.Steps[len(res.Steps)-1]
		if last.State == StatePass {
			last.State, last.Detail = StateSkipped, "duplicate registrations are allowed (holder.allow_duplicate_registrations)"
		}
	}
	// 11 wins over 10: when 11 failed, say whether 10 would have failed too.
	if derr != nil && derr.Step == StepRedirectURIs && reg.Request != nil {
		errs := p.rules.apply(claimSource(reg.Request.Claims), reg.SoftwareID, true, &Metadata{})
		if len(errs) > 0 {
			i := slices.IndexFunc(res.Steps, func(s DryRunStep) bool { return s.Step == StepMetadata })
			res.Steps[i].State = StateFail
			res.Steps[i].Detail = "not reported, because step 11 takes precedence: " + strings.Join(errs, " ")
		}
	}
	return res
}

// DryRun is the pipeline's dry run with this registrar's duplicate rule.
func (r *Registrar) DryRun(ctx context.Context, body []byte) DryRunResult {
	var dups ActiveClients
	if !r.allowDuplicate {
		dups = r.db
	}
	return r.pipeline.DryRun(ctx, body, dups)
}

// CheckSSA verifies a Software Statement Assertion on its own: steps 2 to 5
// (it parses, the Register JWKS loads, the Register signed it and it is current
// and complete, and the product is ACTIVE at the Register).
func (p *Pipeline) CheckSSA(ctx context.Context, raw string) DryRunResult {
	reg := &Registration{}
	_, derr := p.verifySSA(ctx, strings.TrimSpace(raw), reg)
	if derr == nil {
		derr = p.checkProduct(ctx, reg)
	}
	return DryRunResult{Registration: reg, Err: derr, Steps: p.dryRunSteps(ssaStepDefs, reg, derr)}
}

// dryRunSteps marks the steps before the failed one passed and those after it
// skipped, with what each found.
func (p *Pipeline) dryRunSteps(defs []stepDef, reg *Registration, derr *Error) []DryRunStep {
	failed := len(defs) // none
	if derr != nil {
		failed = failedIndex(defs, reg, derr)
	}
	out := make([]DryRunStep, len(defs))
	for i, d := range defs {
		s := DryRunStep{Step: d.step, Title: d.title}
		switch {
		case i < failed:
			s.State, s.Detail = StatePass, p.passDetail(d.step, reg)
			if d.step == StepRegisterStatus && (!p.cfg.CheckStatus || p.products == nil) {
				s.State, s.Detail = StateSkipped, "Register status checks are off (register.check_status)"
			}
		case i == failed:
			s.State, s.Detail = StateFail, derr.Detail
		default:
			s.State = StateSkipped
		}
		out[i] = s
	}
	// 11 passed when 10 failed: 11 is checked first and would have won.
	if derr != nil && derr.Step == StepMetadata && failed+1 < len(out) && out[failed+1].Step == StepRedirectURIs {
		out[failed+1].State, out[failed+1].Detail = StatePass, "every requested redirect_uri is in the SSA"
	}
	return out
}

// failedIndex finds the step derr belongs to. An internal error (StepStore) is
// placed by how far the registration got: the block lookup (5b) or the jti lookup (8).
func failedIndex(defs []stepDef, reg *Registration, derr *Error) int {
	step := derr.Step
	if step == StepStore {
		step = StepBlocked
		if reg.RequestKeyID != "" {
			step = StepRequestSignature
		}
	}
	if i := slices.IndexFunc(defs, func(d stepDef) bool { return d.step == step }); i >= 0 {
		return i
	}
	return 0
}

// passDetail says what a passed step found.
func (p *Pipeline) passDetail(step Step, reg *Registration) string {
	switch step {
	case StepRequest:
		return fmt.Sprintf("alg %s, kid %q", reg.Request.Alg(), reg.Request.KeyID())
	case StepSoftwareStmt:
		return fmt.Sprintf("alg %s, kid %q", reg.SSA.Alg(), reg.SSA.KeyID())
	case StepRegisterJWKS:
		return "loaded from " + p.cfg.RegisterJWKSURI
	case StepSSA:
		return fmt.Sprintf("signed by Register key %q; software_id %s", reg.SSAKeyID, reg.SoftwareID)
	case StepRegisterStatus:
		if reg.Product != nil {
			return fmt.Sprintf("%s (%s) of %s / %s: ACTIVE", reg.Product.SoftwareProductName, reg.SoftwareID,
				reg.Product.BrandName, reg.Product.LegalEntityName)
		}
	case StepBlocked:
		return "not blocked"
	case StepJWKSURI:
		uri, _ := reg.SSA.String("jwks_uri")
		return uri
	case StepADRJWKS:
		uri, _ := reg.SSA.String("jwks_uri")
		return "loaded from " + uri
	case StepRequestSignature:
		return fmt.Sprintf("signed by ADR key %q; jti %q not used before", reg.RequestKeyID, reg.JTI)
	case StepSectorIdentifier:
		if uri, _ := reg.SSA.String("sector_identifier_uri"); uri != "" {
			return uri + " answered 2xx"
		}
		return "no sector_identifier_uri in the SSA"
	case StepMetadata:
		return "every rule holds"
	case StepRedirectURIs:
		return "registered: " + strings.Join(reg.Metadata.RedirectURIs, " ")
	case StepDuplicate:
		return "no active registration for software_id " + reg.SoftwareID
	}
	return ""
}
