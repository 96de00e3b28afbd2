package dcr

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/dcrconsole/dcrconsole/fetch"
	"github.com/dcrconsole/dcrconsole/register"
)

// A replay judges a stored registration attempt again as at its time, for the
// console's inspector: the clock is set to the attempt's time, the keys are
// the copies cached here (never fetched), the Register statuses are those the
// status history holds for that time where it reaches back so far, and the
// run goes on after a failure, so every failing step shows, not only the
// first. It writes nothing, like the dry run.

// ReplayResult is a replay's report: the steps, and what it judged with.
type ReplayResult struct {
	DryRunResult
	At time.Time
	// KeysCachedAt says, per JWKS uri verified with, when its cached copy was fetched.
	KeysCachedAt map[string]time.Time
	// StatusesFromHistory says the Register statuses came from the status
	// history as at At; otherwise they are the current data.
	StatusesFromHistory bool
}

// cachedOnly is a KeySource that can give a verifier over its cached copies
// (*fetch.JWKSCache).
type cachedOnly interface {
	CachedOnly() *fetch.CachedKeys
}

// replayJTIs answers that no jti was used: the attempt itself may have
// consumed its own, and a replay cannot tell a replay from that.
type replayJTIs struct{}

func (replayJTIs) JTIUsed(context.Context, string, string) (bool, error) { return false, nil }

// Replay runs every step of the registration pipeline on body as at at,
// going on after failures. Err is the first failure; every failing step is
// StateFail with its own code, description and detail. The duplicate rule is
// not judged (it depends on registrations since), nor is the jti's single use.
// history, when not nil, gives the Register statuses of that time.
func (p *Pipeline) Replay(ctx context.Context, body []byte, at time.Time, history StatusHistory) ReplayResult {
	q := *p
	q.Now = func() time.Time { return at }
	q.jtis = replayJTIs{}
	var keys []*fetch.CachedKeys
	for _, ks := range []*KeySource{&q.registerKeys, &q.adrKeys} {
		if c, ok := (*ks).(cachedOnly); ok {
			ck := c.CachedOnly()
			keys = append(keys, ck)
			*ks = ck
		}
	}
	var statuses *replayStatuses
	if history != nil && q.products != nil {
		statuses = &replayStatuses{at: at, h: history}
		q.products = statuses
	}
	s := &state{reg: &Registration{}, jwt: true, body: body}
	res := ReplayResult{DryRunResult: q.runContinuing(ctx, requestSteps, s), At: at, KeysCachedAt: map[string]time.Time{}}
	for _, ck := range keys {
		for uri, t := range ck.Used() {
			res.KeysCachedAt[uri] = t
		}
	}
	res.StatusesFromHistory = statuses != nil && statuses.fromHistory
	return res
}

// runContinuing runs sel in order, going on after a failure; a step whose
// needs an earlier failure left unmet is skipped with a reason.
func (p *Pipeline) runContinuing(ctx context.Context, sel []*step, s *state) DryRunResult {
	out := make([]DryRunStep, len(sel))
	var first *Error
	for i, st := range sel {
		out[i] = DryRunStep{Step: st.ID, Title: st.Title, State: StateSkipped}
		if why := st.skipped(p, s); why != "" {
			out[i].Detail = why
			continue
		}
		if st.needs != nil && !st.needs(s) {
			out[i].Detail = "not run: it needs what an earlier failing step did not give"
			continue
		}
		derr := st.run(p, ctx, s)
		if derr == nil {
			out[i].State, out[i].Detail = StatePass, st.passed(p, s.reg)
			continue
		}
		at := i
		if j := slices.IndexFunc(sel, func(o *step) bool { return o.ID == derr.Step }); j >= 0 {
			at = j
		}
		if at != i { // step 11 held and reported step 10's findings (as step 12)
			out[i].State, out[i].Detail = StatePass, st.passed(p, s.reg)
		}
		derr.Step = sel[at].ID
		out[at].State, out[at].Detail, out[at].Code, out[at].Description = StateFail, derr.Detail, derr.Code, derr.Description
		if first == nil {
			first = derr
		}
	}
	// Step 11 failed: its precedence hid step 10's findings, which still fail.
	if i := slices.IndexFunc(out, func(d DryRunStep) bool { return d.Step == StepMetadata }); i >= 0 && out[i].State == StatePass && len(s.ruleErrs) > 0 {
		out[i].State, out[i].Code, out[i].Description = StateFail, CodeInvalidClientMetadata, s.ruleErrs[0]
		out[i].Detail = strings.Join(s.ruleErrs, " ")
	}
	return DryRunResult{Steps: out, Registration: s.reg, Err: first}
}

// StatusHistory gives a product's Register statuses as at a time, and the
// current ones. *register.Data implements it.
type StatusHistory interface {
	StatusAt(ctx context.Context, softwareProductID string, t time.Time) (register.ProductStatus, bool, error)
	Product(softwareProductID string) (register.ProductStatus, bool)
}

// replayStatuses answers step 5 as at a time from the status history, with
// the current data (never refreshed) where the history does not reach back.
type replayStatuses struct {
	at          time.Time
	h           StatusHistory
	fromHistory bool
}

func (r *replayStatuses) LookupRefreshing(ctx context.Context, id string) (register.ProductStatus, bool, error) {
	p, ok, err := r.h.StatusAt(ctx, id, r.at)
	if err == nil && ok {
		r.fromHistory = true
		return p, true, nil
	}
	p, ok = r.h.Product(id)
	return p, ok, err
}
