package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/jsonlimit"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

const (
	// inspectMaxBytes bounds a pasted JWT, like the registration endpoint's body.
	inspectMaxBytes = 64 << 10
	// inspectTimeout bounds a dry run's outbound fetches (Register and ADR JWKS,
	// sector identifier, a forced Register refresh).
	inspectTimeout = 20 * time.Second
)

// inspectPage is GET /console/tools/inspect: the form.
func (s *Server) inspectPage(c *gin.Context) {
	s.render(c, http.StatusOK, views.Inspect(views.InspectView{MaxBytes: inspectMaxBytes}, s.nav(c, "tools")))
}

// inspect is POST /console/tools/inspect (any operator: it changes nothing). It
// decodes a pasted registration request or SSA, checks its signatures and dry-runs
// the registration pipeline, and records the inspection in the audit log.
func (s *Server) inspect(c *gin.Context) {
	v := views.InspectView{MaxBytes: inspectMaxBytes}
	status := http.StatusOK
	outcome := ""
	ev := &store.AuditEvent{Type: store.EventOperatorInspect, Actor: actor(c), Outcome: store.OutcomeSuccess,
		RemoteAddr: c.ClientIP(), RequestID: c.GetString(requestIDKey)}
	formErr := c.Request.ParseForm()
	raw := strings.TrimSpace(c.Request.PostFormValue("jwt"))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(formErr, &tooBig) || len(raw) > inspectMaxBytes:
		status, v.Error = http.StatusRequestEntityTooLarge, fmt.Sprintf("That is too long: a JWT to inspect may have at most %d bytes (64 KiB).", inspectMaxBytes)
		outcome = "too large"
	case formErr != nil:
		status, v.Error = http.StatusBadRequest, "The form could not be read. Reload the page and paste the JWT again."
	case raw == "":
		status, v.Error = http.StatusBadRequest, "Paste a JWT first: a registration request or a software statement (three base64url parts separated by dots)."
	default:
		v.Input = raw
		tok, err := dcr.ParseJWT(raw)
		if errors.Is(err, jsonlimit.ErrTooDeep) {
			// Show what it holds, bounded, so the operator can tell the ADR.
			status, v.Error = http.StatusBadRequest, "This JWT could not be decoded ("+err.Error()+"); dcrconsole refuses it before checking anything else."
			outcome = "not decodable: " + err.Error()
			inspectUndecodable(&v, raw, err)
			break
		}
		if err != nil {
			status, v.Error = http.StatusBadRequest, "This is not a JWT ("+err.Error()+"). Paste a compact JWS: three base64url parts separated by dots."
			outcome = "not a JWT"
			break
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), inspectTimeout)
		defer cancel()
		outcome, ev.SoftwareID = s.inspectToken(ctx, tok, &v)
	}
	if outcome != "" {
		ev.Reason = outcome
		if err := s.audit.Record(context.WithoutCancel(c.Request.Context()), ev); err != nil {
			s.log.Error("console: audit operator.inspect", "error", err, "request_id", c.GetString(requestIDKey))
		}
	}
	s.render(c, status, views.Inspect(v, s.nav(c, "tools")))
}

// inspectUndecodable fills v for a token whose segments split but whose JSON
// ParseJWT refused: its header and claims as sent, shown raw within limits.
func inspectUndecodable(v *views.InspectView, raw string, err error) {
	d := undecodedView("Header and claims", raw, err)
	v.Kind, v.Token = "Undecodable JWT", &d
	v.Signatures = []views.SignatureCheck{{What: "Signature", Detail: "not checked: the header and claims could not be decoded"}}
}

// inspectToken fills v for a decoded token and returns the audit reason and the software_id.
func (s *Server) inspectToken(ctx context.Context, tok *dcr.JWT, v *views.InspectView) (string, string) {
	now := time.Now()
	_, isRequest := tok.Claims["software_statement"]
	iss, _ := tok.String("iss")
	switch {
	case isRequest:
		v.Kind = "Registration request"
		d := inspectDecode("Registration request: header and claims", tok, now)
		v.Token = &d
		res := s.registrar.DryRun(ctx, []byte(tok.Raw))
		if res.Registration != nil && res.Registration.SSA != nil {
			ssa := inspectDecode("Software statement inside the request: header and claims", res.Registration.SSA, now)
			v.SSA = &ssa
		}
		v.StepsTitle = "Dry run of the registration pipeline"
		inspectFillSteps(v, res)
		v.Signatures = []views.SignatureCheck{inspectSSASignature(res), inspectRequestSignature(res)}
		return "dry run: " + inspectVerdict(res), inspectSoftwareID(res)
	case iss == "cdr-register":
		v.Kind = "Software statement (SSA)"
		d := inspectDecode("Software statement: header and claims", tok, now)
		v.Token = &d
		res := s.registrar.Pipeline().CheckSSA(ctx, tok.Raw)
		v.StepsTitle = "SSA checks"
		inspectFillSteps(v, res)
		v.Signatures = []views.SignatureCheck{inspectSSASignature(res)}
		return "ssa check: " + inspectVerdict(res), inspectSoftwareID(res)
	default:
		v.Kind = "Unrecognised JWT"
		d := inspectDecode("Header and claims", tok, now)
		v.Token = &d
		v.Signatures = []views.SignatureCheck{{What: "Signature", Detail: fmt.Sprintf(
			"not checked: this is neither a registration request (no software_statement claim) nor an SSA (iss is %q, not \"cdr-register\")", iss)}}
		return "decoded only: neither a registration request nor an SSA", ""
	}
}

func inspectVerdict(res dcr.DryRunResult) string {
	if f := res.Failed(); f != nil {
		number, _, _ := strings.Cut(f.Title, ". ")
		return fmt.Sprintf("failed at step %s (%s)", number, f.Step)
	}
	return "passed"
}

func inspectSoftwareID(res dcr.DryRunResult) string {
	if res.Registration == nil {
		return ""
	}
	return res.Registration.SoftwareID
}

func inspectFillSteps(v *views.InspectView, res dcr.DryRunResult) {
	for _, st := range res.Steps {
		class := string(st.State)
		if st.State == dcr.StateSkipped {
			class = "skip"
		}
		v.Steps = append(v.Steps, views.InspectStep{Title: st.Title, Class: class, State: string(st.State), Detail: st.Detail})
	}
	v.Passed = res.Passed()
	if res.Err != nil {
		f := &views.InspectFailure{Step: string(res.Err.Step), Code: res.Err.Code, Description: res.Err.Description, Detail: res.Err.Detail}
		if st := res.Failed(); st != nil {
			f.Step = st.Title
		}
		v.Failure = f
	}
}

// inspectSSASignature says whether the Register's key verified the SSA.
func inspectSSASignature(res dcr.DryRunResult) views.SignatureCheck {
	sc := views.SignatureCheck{What: "SSA signature (CDR Register keys)"}
	reg := res.Registration
	switch {
	case reg != nil && reg.SSAKeyID != "":
		sc.Verified, sc.Detail = true, fmt.Sprintf("verified with Register key kid %q", reg.SSAKeyID)
	case inspectFailedAt(res, dcr.StepSoftwareStmt, dcr.StepRegisterJWKS, dcr.StepSSA):
		sc.Detail = "not verified: " + res.Err.Detail
	default:
		sc.Detail = "not checked: an earlier step failed"
	}
	return sc
}

// inspectRequestSignature says whether a key at the SSA's jwks_uri verified the request.
func inspectRequestSignature(res dcr.DryRunResult) views.SignatureCheck {
	sc := views.SignatureCheck{What: "Request signature (ADR keys at the SSA's jwks_uri)"}
	reg := res.Registration
	switch {
	case reg != nil && reg.RequestKeyID != "":
		uri, _ := reg.SSA.String("jwks_uri")
		sc.Verified, sc.Detail = true, fmt.Sprintf("verified with ADR key kid %q from %s", reg.RequestKeyID, uri)
	case inspectFailedAt(res, dcr.StepJWKSURI, dcr.StepADRJWKS, dcr.StepRequestSignature):
		sc.Detail = "not verified: " + res.Err.Detail
	default:
		sc.Detail = "not checked: the SSA must verify first, since its jwks_uri names the ADR's keys"
	}
	return sc
}

func inspectFailedAt(res dcr.DryRunResult, steps ...dcr.Step) bool {
	for _, st := range steps {
		if res.Err != nil && res.Err.Step == st {
			return true
		}
	}
	return false
}

// inspectDecode pretty-prints a token's header and claims and spells out its times.
func inspectDecode(label string, t *dcr.JWT, now time.Time) views.DecodedJWT {
	return decodedView(label, t, func(at time.Time) string {
		if at.After(now) {
			return "in " + strings.TrimSuffix(views.Ago(now, at), " ago")
		}
		return views.Ago(at, now)
	})
}
