package dcr

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// A dry run answers an operator's question "what would happen if this request
// were registered now?" step by step, for the console's JWT inspector. It runs
// the real pipeline, the table's runner as Register does, which writes nothing:
// no client is stored, no jti is consumed and no audit event is written here.

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
	// Code and Description are a failed step's error in a replay, where
	// several steps can fail.
	Code, Description string
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

// Failed returns the step the failure belongs to, or nil. Another step may show
// StateFail too: step 10 would have failed when step 11 took precedence.
func (r DryRunResult) Failed() *DryRunStep {
	if r.Err == nil {
		return nil
	}
	for i := range r.Steps {
		if r.Steps[i].Step == r.Err.Step {
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

// DryRun runs the registration pipeline (steps 1 to 12) on a registration request
// and, when dups is not nil, the duplicate rule (step 13), and reports every step.
// dups nil means duplicate registrations are allowed here.
func (p *Pipeline) DryRun(ctx context.Context, body []byte, dups ActiveClients) DryRunResult {
	return p.dryRun(requestSteps, p.check(ctx, body, false, dups), false)
}

// DryRun is the pipeline's dry run with this registrar's duplicate rule.
func (r *Registrar) DryRun(ctx context.Context, body []byte) DryRunResult {
	return r.pipeline.DryRun(ctx, body, r.duplicates())
}

// CheckSSA verifies a Software Statement Assertion on its own: steps 2 to 5
// (it parses, the Register JWKS loads, the Register signed it and it is current
// and complete, and the product is ACTIVE at the Register).
func (p *Pipeline) CheckSSA(ctx context.Context, raw string) DryRunResult {
	s := &state{reg: &Registration{}, ssaRaw: strings.TrimSpace(raw)}
	return p.dryRun(ssaSteps, p.run(ctx, ssaSteps, s), true)
}

// dryRun reports each step of sel as the runner left it: passed, failed (the one
// step the failure belongs to), skipped because it does not apply here, or
// skipped because the run stopped before it. ssaAlone titles the steps for an
// SSA checked on its own.
func (p *Pipeline) dryRun(sel []*step, o outcome, ssaAlone bool) DryRunResult {
	reg := o.s.reg
	if o.err != nil {
		// No audit row is written, so the error names the step it failed at,
		// an internal error (StepStore) included.
		o.err.Step = o.failed
	}
	out := make([]DryRunStep, len(sel))
	for i, st := range sel {
		d := DryRunStep{Step: st.ID, Title: st.Title, State: StateSkipped}
		if ssaAlone && st.ssaTitle != "" {
			d.Title = st.ssaTitle
		}
		why := ""
		if i <= o.stopped {
			why = st.skipped(p, o.s)
		}
		switch {
		case i > o.stopped: // not reached
		case why != "":
			d.Detail = why
		case st.ID == o.failed:
			d.State, d.Detail = StateFail, o.err.Detail
		default: // it held; so did the step that reported an earlier step's failure
			d.State, d.Detail = StatePass, st.passed(p, reg)
		}
		out[i] = d
	}
	// Step 11 took precedence: say whether step 10 would have failed too.
	if o.failed == StepRedirectURIs && len(o.s.ruleErrs) > 0 {
		i := slices.IndexFunc(out, func(d DryRunStep) bool { return d.Step == StepMetadata })
		out[i].State = StateFail
		out[i].Detail = "not reported, because step 11 takes precedence: " + strings.Join(o.s.ruleErrs, " ")
	}
	return DryRunResult{Steps: out, Registration: reg, Err: o.err}
}

// The dry run's details of passed steps, named after the table's steps.

func passedRequest(_ *Pipeline, reg *Registration) string {
	return fmt.Sprintf("alg %s, kid %q", reg.Request.Alg(), reg.Request.KeyID())
}

func passedSoftwareStatement(_ *Pipeline, reg *Registration) string {
	return fmt.Sprintf("alg %s, kid %q", reg.SSA.Alg(), reg.SSA.KeyID())
}

func passedRegisterJWKS(p *Pipeline, _ *Registration) string {
	return "loaded from " + p.cfg.RegisterJWKSURI
}

func passedSSA(_ *Pipeline, reg *Registration) string {
	return fmt.Sprintf("signed by Register key %q; software_id %s", reg.SSAKeyID, reg.SoftwareID)
}

func passedRegisterStatus(_ *Pipeline, reg *Registration) string {
	if reg.Product == nil {
		return ""
	}
	return fmt.Sprintf("%s (%s) of %s / %s: ACTIVE", reg.Product.SoftwareProductName, reg.SoftwareID,
		reg.Product.BrandName, reg.Product.LegalEntityName)
}

func passedJWKSURI(_ *Pipeline, reg *Registration) string {
	uri, _ := reg.SSA.String("jwks_uri")
	return uri
}

func passedADRJWKS(_ *Pipeline, reg *Registration) string {
	uri, _ := reg.SSA.String("jwks_uri")
	return "loaded from " + uri
}

func passedRequestSignature(_ *Pipeline, reg *Registration) string {
	return fmt.Sprintf("signed by ADR key %q; jti %q not used before", reg.RequestKeyID, reg.JTI)
}

func passedSectorIdentifier(_ *Pipeline, reg *Registration) string {
	if uri, _ := reg.SSA.String("sector_identifier_uri"); uri != "" {
		return uri + " answered 2xx"
	}
	return "no sector_identifier_uri in the SSA"
}

func passedRedirectURIs(_ *Pipeline, reg *Registration) string {
	if len(reg.Metadata.RedirectURIs) == 0 { // step 10 failed after this step held
		return "every requested redirect_uri is in the SSA"
	}
	return "registered: " + strings.Join(reg.Metadata.RedirectURIs, " ")
}

func passedDuplicate(_ *Pipeline, reg *Registration) string {
	return "no active registration for software_id " + reg.SoftwareID
}
