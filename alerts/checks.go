package alerts

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Condition is what one check found: whether its alert should be firing, and why.
type Condition struct {
	Kind    Kind
	Firing  bool
	Message string
}

// maxJWKSProbes bounds the unreachable JWKS uris re-fetched per evaluation.
const maxJWKSProbes = 10

// check runs every check; a check that cannot read its signal is left out, so
// its alert keeps its state until it can.
func (e *Evaluator) check(ctx context.Context, now time.Time) []Condition {
	var out []Condition
	for _, fn := range []func(context.Context, time.Time) (Condition, bool, error){
		e.checkRegister, e.checkRejections, e.checkVerification, e.checkJWKS, e.checkSigningKey, e.checkWrites,
	} {
		c, ok, err := fn(ctx, now)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn("alerts: a check could not read its signal", "alert", c.Kind, "error", err)
			}
			continue
		}
		if ok {
			out = append(out, c)
		}
	}
	return out
}

// checkRegister fires when the last good sync is older than RegisterStaleAfter,
// or the last two syncs (or the only ones) failed.
func (e *Evaluator) checkRegister(_ context.Context, now time.Time) (Condition, bool, error) {
	c := Condition{Kind: KindRegisterSync}
	if e.sig.Register == nil {
		return c, false, nil
	}
	h := e.sig.Register.Health()
	if h.LastAttempt.IsZero() {
		return c, false, nil // not synced yet since the start
	}
	failing := h.ConsecutiveFails >= 2 || (h.LastSuccess.IsZero() && h.ConsecutiveFails >= 1)
	stale := !h.LastSuccess.IsZero() && now.Sub(h.LastSuccess) > e.opts.RegisterStaleAfter
	switch {
	case failing:
		c.Firing = true
		c.Message = fmt.Sprintf("%d consecutive Register syncs failed; last error: %s", h.ConsecutiveFails, h.LastError)
		if !h.LastSuccess.IsZero() {
			c.Message += "; last good sync at " + h.LastSuccess.UTC().Format(time.RFC3339)
		}
	case stale:
		// Times, not ages: the message stays the same while nothing changes.
		c.Firing = true
		c.Message = fmt.Sprintf("the last good Register sync was at %s (stale after %s)",
			h.LastSuccess.UTC().Format(time.RFC3339), e.opts.RegisterStaleAfter)
	}
	return c, true, nil
}

// checkRejections fires when more than RejectionThreshold of the registration
// attempts in RejectionWindow failed, over at least RejectionMinAttempts.
func (e *Evaluator) checkRejections(ctx context.Context, now time.Time) (Condition, bool, error) {
	c := Condition{Kind: KindRejectionRate}
	since := now.Add(-e.opts.RejectionWindow)
	total, failed, err := e.db.RegistrationOutcomes(ctx, since)
	if err != nil {
		return c, false, err
	}
	if total < int64(e.opts.RejectionMinAttempts) || float64(failed)/float64(total) <= e.opts.RejectionThreshold {
		return c, true, nil
	}
	c.Firing = true
	c.Message = fmt.Sprintf("%d of %d registration attempts (%.0f%%) in the last %s failed (threshold %.0f%%)",
		failed, total, 100*float64(failed)/float64(total), e.opts.RejectionWindow, 100*e.opts.RejectionThreshold)
	top, err := e.db.TopRejectionReasons(ctx, since, 1)
	if err != nil {
		return c, false, err
	}
	if len(top) > 0 {
		c.Message += fmt.Sprintf("; top: %s at step %s (%d): %s", top[0].ErrorCode, top[0].Step, top[0].N, top[0].Description)
	}
	return c, true, nil
}

// checkVerification fires while the latest chain verification (scheduled or
// by an operator) found the chain broken or could not finish.
func (e *Evaluator) checkVerification(ctx context.Context, _ time.Time) (Condition, bool, error) {
	c := Condition{Kind: KindChainVerification}
	v, err := e.audit.LastVerification(ctx)
	if err != nil || v == nil {
		return c, err == nil, err
	}
	if !v.OK {
		c.Firing = true
		c.Message = fmt.Sprintf("verification at %s (by %s, audit event %d): %s", v.Time.Format(time.RFC3339), v.By, v.ID, v.Summary)
	}
	return c, true, nil
}

// checkJWKS fires while an active client's JWKS has been unreachable for
// longer than the cache TTL. The uris in outage are fetched again first, so
// the alert resolves when they come back even if no client calls meanwhile.
func (e *Evaluator) checkJWKS(ctx context.Context, _ time.Time) (Condition, bool, error) {
	c := Condition{Kind: KindJWKSUnreachable}
	if e.sig.JWKS == nil {
		return c, false, nil
	}
	affected, clients, err := e.jwksOutages(ctx)
	if err != nil {
		return c, false, err
	}
	for i, o := range affected {
		if i == maxJWKSProbes {
			break
		}
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		_ = e.sig.JWKS.Refresh(pctx, o)
		cancel()
	}
	if len(affected) > 0 {
		if affected, clients, err = e.jwksOutages(ctx); err != nil {
			return c, false, err
		}
	}
	if len(affected) == 0 {
		return c, true, nil
	}
	c.Firing = true
	c.Message = fmt.Sprintf("%d ADR JWKS unreachable for longer than the %s cache TTL, used by %d active clients: %s",
		len(affected), e.sig.JWKS.TTL(), clients, strings.Join(firstN(e.describeOutages(affected), 3), "; "))
	return c, true, nil
}

// jwksOutages lists the uris in outage that active clients use, and how many clients.
func (e *Evaluator) jwksOutages(ctx context.Context) ([]string, int64, error) {
	outages := e.sig.JWKS.Outages()
	if len(outages) == 0 {
		return nil, 0, nil
	}
	uris := make([]string, len(outages))
	for i, o := range outages {
		uris[i] = o.URI
	}
	active, err := e.db.ActiveClientsByJWKSURI(ctx, uris)
	if err != nil {
		return nil, 0, err
	}
	var out []string
	var n int64
	for _, u := range uris {
		if active[u] > 0 {
			out = append(out, u)
			n += active[u]
		}
	}
	return out, n, nil
}

func (e *Evaluator) describeOutages(uris []string) []string {
	by := map[string]string{}
	for _, o := range e.sig.JWKS.Outages() {
		by[o.URI] = fmt.Sprintf("%s (since %s: %s)", o.URI, o.Since.UTC().Format(time.RFC3339), o.LastErr)
	}
	out := make([]string, len(uris))
	for i, u := range uris {
		out[i] = by[u]
		if out[i] == "" {
			out[i] = u
		}
	}
	return out
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}

// checkSigningKey fires when the key that signs now is older than SigningKeyMaxAge.
func (e *Evaluator) checkSigningKey(_ context.Context, now time.Time) (Condition, bool, error) {
	c := Condition{Kind: KindSigningKeyAge}
	if e.sig.Keys == nil || e.opts.SigningKeyMaxAge <= 0 {
		return c, false, nil
	}
	kid, created := e.sig.Keys.SigningKey()
	if age := now.Sub(created); age > e.opts.SigningKeyMaxAge {
		c.Firing = true
		c.Message = fmt.Sprintf("signing key %s was made %s, %s ago (maximum age %s); rotate it with `dcrconsole keys rotate`",
			kid, created.UTC().Format(time.RFC3339), age.Round(time.Minute), e.opts.SigningKeyMaxAge)
	}
	return c, true, nil
}

// checkWrites fires while the database failed a write in the last
// RejectionWindow, on any replica: each reports its count to the database and
// the leader, which evaluates, adds them up. When the reports cannot be read
// (the database failing is what this alert is about) it judges by its own.
func (e *Evaluator) checkWrites(ctx context.Context, now time.Time) (Condition, bool, error) {
	c := Condition{Kind: KindDatabaseWrites}
	wf, err := e.db.ClusterWriteFailures(ctx)
	if err != nil {
		wf = e.db.WriteFailures()
	}
	if wf.Count > 0 && now.Sub(wf.Last) <= e.opts.RejectionWindow {
		c.Firing = true
		c.Message = fmt.Sprintf("%d database write failures since the server started; the last at %s: %s",
			wf.Count, wf.Last.Format(time.RFC3339), wf.Err)
		if wf.Replicas > 1 || wf.Replica != "" && wf.Replica != e.db.Replica() {
			c.Message = fmt.Sprintf("%d database write failures on %d replica(s) since each started; the last at %s on replica %s: %s",
				wf.Count, wf.Replicas, wf.Last.Format(time.RFC3339), wf.Replica, wf.Err)
		}
	}
	return c, true, nil
}
