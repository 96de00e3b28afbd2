package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/jose"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

// stepTexts explain the pipeline's steps (cdr-dcr.md) to an operator, from
// the pipeline's own table (dcr.Steps), which is also the step filter's order.
var stepTexts = func() map[string]string {
	m := make(map[string]string)
	for _, st := range dcr.Steps() {
		m[string(st.ID)] = st.Explain
	}
	return m
}()

func stepText(step string) string {
	if t, ok := stepTexts[step]; ok {
		return t
	}
	if step == "" {
		return "Unknown step"
	}
	return "Step " + step
}

var attemptCodes = []string{dcr.CodeInvalidClientMetadata, dcr.CodeInvalidSoftwareStatement, dcr.CodeUnapprovedSoftwareStatement,
	dcr.CodeInvalidRedirectURI, dcr.CodeInvalidRequest, "invalid_token", "insufficient_scope", dcr.CodeServerError}

// AttemptsPage: GET /console/attempts
func (s *Server) AttemptsPage(c *gin.Context) {
	f, vf, q, err := s.attemptsFilter(c)
	v := views.AttemptsView{Filter: vf, Codes: codeOptions(vf.Code), Steps: stepOptions(vf.Step), Filtered: len(q) > 0,
		CSVHref: withQuery("/console/attempts.csv", q)}
	if errors.Is(err, errNoParty) {
		s.render(c, http.StatusOK, views.Attempts(v, s.nav(c, "attempts")))
		return
	}
	if err != nil {
		v.Error = err.Error()
		s.render(c, http.StatusBadRequest, views.Attempts(v, s.nav(c, "attempts")))
		return
	}
	ctx := c.Request.Context()
	limit := listLimit(c, auditPageSize)
	events, next, err := s.audit.Attempts(ctx, f, limit)
	var total int64
	var atLeast bool
	if err == nil {
		total, atLeast, err = s.audit.CountAttempts(ctx, f)
	}
	if err == nil && !v.Filtered && f.BeforeID == 0 {
		v.Groups, err = s.attemptGroups(ctx, time.Now())
	}
	if err != nil {
		s.log.Error("console: attempts", "error", err, "request_id", c.GetString(requestIDKey))
		s.consoleError(c, http.StatusInternalServerError, "Server error", "The attempts could not be read. Try again.")
		return
	}
	for i := range events {
		e := &events[i]
		desc, detail := e.ReasonParts()
		row := views.AttemptRow{ID: e.ID, Time: e.Time, Kind: attemptKind(e.Type), Outcome: string(e.Outcome),
			SoftwareID: e.SoftwareID, Code: e.ErrorCode, Step: e.Step, StepText: stepText(e.Step),
			Reason: views.NewReason(shorten(desc, 600), shorten(detail, 600))}
		row.Brand, row.BrandID, row.LegalEntity, row.LegalEntityID = s.attemptParty(e)
		v.Rows = append(v.Rows, row)
	}
	v.Page = listPage("/console/attempts", q, f.BeforeID, next, pageStart(c), len(v.Rows), limit, auditPageSize)
	v.Page.Total, v.Page.TotalAtLeast = total, atLeast
	s.render(c, http.StatusOK, views.Attempts(v, s.nav(c, "attempts")))
}

func codeOptions(current string) []views.AuditOption {
	opts := []views.AuditOption{{Value: "", Label: "Any error"}}
	for _, c := range attemptCodes {
		opts = append(opts, views.AuditOption{Value: c, Label: c})
	}
	if current != "" && !slices.Contains(attemptCodes, current) {
		opts = append(opts, views.AuditOption{Value: current, Label: current})
	}
	return opts
}

func stepOptions(current string) []views.AuditOption {
	opts := []views.AuditOption{{Value: "", Label: "Any step"}}
	known := false
	for _, st := range dcr.Steps() {
		if !st.Attempt {
			continue
		}
		opts = append(opts, views.AuditOption{Value: string(st.ID), Label: st.Explain})
		known = known || string(st.ID) == current
	}
	if current != "" && !known {
		opts = append(opts, views.AuditOption{Value: current, Label: current})
	}
	return opts
}

func attemptKind(eventType store.EventType) string {
	if eventType == store.EventRegistrationUpdate {
		return "PUT (update)"
	}
	return "POST (registration)"
}

// attemptParam is the audit event the :id parameter names (store.ErrNotFound
// for an id that is not a positive number).
func (s *Server) attemptParam(c *gin.Context) (*store.AuditEvent, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, store.ErrNotFound
	}
	return s.audit.Get(c.Request.Context(), id)
}

// AttemptPage: GET /console/attempts/:id (an audit event id)
func (s *Server) AttemptPage(c *gin.Context) {
	e, err := s.attemptParam(c)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("console: attempt", "error", err, "request_id", c.GetString(requestIDKey))
		s.consoleError(c, http.StatusInternalServerError, "Server error", "The attempt could not be read. Try again.")
		return
	}
	if err != nil || !audit.IsAttempt(e) {
		s.consoleError(c, http.StatusNotFound, "No such attempt",
			"Audit event "+c.Param("id")+" is not a rejected registration attempt. Find it in the audit log, or go back to the attempts.")
		return
	}
	s.render(c, http.StatusOK, views.Attempt(attemptView(e), s.nav(c, "attempts")))
}

func attemptView(e *store.AuditEvent) views.AttemptView {
	desc, detail := e.ReasonParts()
	id := strconv.FormatInt(e.ID, 10)
	v := views.AttemptView{ID: e.ID, Kind: attemptKind(e.Type), Code: e.ErrorCode, StepText: stepText(e.Step),
		Description: desc, Detail: detail,
		Fields: []views.KV{{Key: "When", At: e.Time}, {Key: "Outcome", Value: string(e.Outcome)},
			{Key: "software_id", Value: e.SoftwareID, Mono: true}, {Key: "org_id", Value: e.OrgID, Mono: true},
			{Key: "client_id", Value: e.ClientID, Mono: true}, {Key: "Request jti", Value: e.JTI, Mono: true},
			{Key: "Step", Value: e.Step, Mono: true}, {Key: "Remote address", Value: e.RemoteAddr, Mono: true},
			{Key: "Certificate thumbprint", Value: e.CertThumbprint, Mono: true}, {Key: "Request ID", Value: e.RequestID, Mono: true}},
		Links: []views.AuditLink{{Label: "Audit event " + id, Href: "/console/audit/" + id}}}
	v.Tell = fmt.Sprintf("Your %s at %s was rejected with %s: %s", v.Kind, views.When(e.Time), e.ErrorCode, desc)
	if detail != "" {
		v.Tell += "\nCause: " + detail
	}
	v.Tell += "\nFailed check: " + v.StepText
	if e.SoftwareID != "" {
		v.Tell = "software_id " + e.SoftwareID + "\n" + v.Tell
		v.Links = append(v.Links, views.AuditLink{Label: "Other attempts of this software_id", Href: attemptsBySoftware(e.SoftwareID)},
			views.AuditLink{Label: "Its registrations", Href: "/console/clients?q=" + url.QueryEscape(e.SoftwareID)})
	}
	attemptRequest(&v, e)
	if storedRequest(e) != "" {
		v.ReplayAction = "/console/attempts/" + id + "/replay"
	}
	return v
}

// attemptRequest fills what the attempt's audit data kept of the request: the
// decoded request JWT and its SSA, or the bounded body prefix when it was not a
// JWT, or NoRequest.
func attemptRequest(v *views.AttemptView, e *store.AuditEvent) {
	var data struct {
		RequestJWT  string `json:"request_jwt"`
		BodyPrefix  string `json:"body_prefix"`
		SourceBytes *int   `json:"source_bytes"`
		BodySHA256  string `json:"body_sha256"`
	}
	_ = json.Unmarshal([]byte(e.Data), &data) // a malformed Data shows as "no request"
	switch {
	case data.RequestJWT != "":
		req := decodeJWT("Registration request (decoded, not verified)", data.RequestJWT, e.Time)
		v.Request = &req
		if t, err := jose.ParseJWT(data.RequestJWT); err == nil {
			if ssa, ok := t.Claims["software_statement"].(string); ok && ssa != "" {
				d := decodeJWT("Software statement (SSA, decoded, not verified)", ssa, e.Time)
				v.SSA = &d
			}
		}
	case data.BodyPrefix != "" || data.SourceBytes != nil:
		v.BodyPrefix = data.BodyPrefix
		if data.SourceBytes != nil {
			switch n := *data.SourceBytes; {
			case n == 0:
				v.BodyNote = "The body was empty."
			case n > len(data.BodyPrefix) && data.BodySHA256 != "":
				// Only a bounded prefix is stored; the digest identifies the whole.
				v.BodyNote = fmt.Sprintf("First %s of %d bytes, SHA-256 %s:", sizeText(len(data.BodyPrefix)), n, data.BodySHA256)
			case n > len(data.BodyPrefix):
				v.BodyNote = fmt.Sprintf("It was not a JWT. First %d of %d bytes:", len(data.BodyPrefix), n)
			default:
				v.BodyNote = fmt.Sprintf("It was not a JWT. All %d bytes:", n)
				// A token whose segments split but whose JSON was refused (nesting
				// too deep, say): show what it holds, bounded.
				if _, _, err := jose.SplitJWT(strings.TrimSpace(data.BodyPrefix)); err == nil {
					req := decodeJWT("Registration request (decoded, not verified)", strings.TrimSpace(data.BodyPrefix), e.Time)
					v.Request = &req
				}
			}
		}
	default:
		v.NoRequest = true
	}
}

// sizeText says n bytes in KiB when it is a whole number of them (the stored
// prefix is 8 KiB), else in bytes.
func sizeText(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return strconv.Itoa(n/1024) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}

func attemptsBySoftware(softwareID string) string {
	return "/console/attempts?software_id=" + url.QueryEscape(softwareID)
}

// decodeJWT decodes raw without verifying it, with its times relative to at.
func decodeJWT(label, raw string, at time.Time) views.DecodedJWT {
	t, err := jose.ParseJWT(raw)
	if err != nil {
		return undecodedView(label, raw, err)
	}
	return decodedView(label, t, func(when time.Time) string { return relativeTo(when, at) })
}

// relativeTo says how t stands to the attempt's time at.
func relativeTo(t, at time.Time) string {
	d := t.Sub(at).Round(time.Second)
	switch {
	case d == 0:
		return "at the attempt"
	case d < 0:
		return span(-d) + " before the attempt"
	default:
		return span(d) + " after the attempt"
	}
}

func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min " + strconv.Itoa(int(d%time.Minute/time.Second)) + " s"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h " + strconv.Itoa(int(d%time.Hour/time.Minute)) + " min"
	default:
		return strconv.Itoa(int(d/(24*time.Hour))) + " days"
	}
}
