package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
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

// storedRequest is the registration request an attempt's audit data kept:
// the request JWT, or the whole body when it was kept whole ("" otherwise).
func storedRequest(e *store.AuditEvent) string {
	var d struct {
		RequestJWT  string `json:"request_jwt"`
		BodyPrefix  string `json:"body_prefix"`
		SourceBytes *int   `json:"source_bytes"`
	}
	_ = json.Unmarshal([]byte(e.Data), &d)
	if d.RequestJWT != "" {
		return d.RequestJWT
	}
	if d.SourceBytes != nil && *d.SourceBytes == len(d.BodyPrefix) {
		return strings.TrimSpace(d.BodyPrefix)
	}
	return ""
}

// ReplayAttempt: POST /console/attempts/:id/replay (any operator: it changes
// nothing). It runs the stored request through the pipeline as at the
// attempt's time, with the keys as cached here, going on after failures, and
// records the replay in the audit log (operator.inspect).
func (s *Server) ReplayAttempt(c *gin.Context) {
	e, err := s.attemptParam(c)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.clientsServerError(c, "replay attempt", err)
		return
	}
	if err != nil || !audit.IsAttempt(e) {
		s.consoleError(c, http.StatusNotFound, "No such attempt", "Audit event "+c.Param("id")+" is not a rejected registration attempt.")
		return
	}
	raw := storedRequest(e)
	tok, perr := jose.ParseJWT(raw)
	if raw == "" || perr != nil {
		s.consoleError(c, http.StatusUnprocessableEntity, "Nothing to replay",
			"This attempt kept no registration request JWT (it was not a JWT, or too large to keep whole), so it cannot be replayed.")
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), inspectTimeout)
	defer cancel()
	res := s.registrar.Pipeline().Replay(ctx, []byte(raw), e.Time, s.register)
	v := replayView(e, tok, res)
	ev := operatorEvent(c, store.EventOperatorInspect, "replay of attempt "+strconv.FormatInt(e.ID, 10)+" as at its time: "+replayVerdict(res))
	ev.SoftwareID = e.SoftwareID
	if err := s.audit.Record(context.WithoutCancel(c.Request.Context()), ev); err != nil {
		s.log.Error("console: audit replay", "error", err, "request_id", c.GetString(requestIDKey))
	}
	s.render(c, http.StatusOK, views.Inspect(v, s.nav(c, "attempts")))
}

func replayVerdict(res dcr.ReplayResult) string {
	var failed []string
	for _, st := range res.Steps {
		if st.State == dcr.StateFail {
			failed = append(failed, string(st.Step))
		}
	}
	if len(failed) == 0 {
		return "passed"
	}
	return "failed at " + strings.Join(failed, ", ")
}

// replayView is the inspector's page for a replay: every step, every failure,
// and what the replay judged with.
func replayView(e *store.AuditEvent, tok *jose.JWT, res dcr.ReplayResult) views.InspectView {
	when := views.When(e.Time)
	v := views.InspectView{MaxBytes: InspectMaxBytes, Input: tok.Raw, Kind: "Replay of attempt " + strconv.FormatInt(e.ID, 10) + " as at " + when,
		StepsTitle: "Every step as at " + when + ", going on after failures"}
	d := decodedView("Registration request: header and claims", tok, func(t2 time.Time) string { return relativeTo(t2, e.Time) })
	v.Token = &d
	if res.Registration != nil && res.Registration.SSA != nil {
		ssa := decodedView("Software statement inside the request: header and claims", res.Registration.SSA, func(t2 time.Time) string { return relativeTo(t2, e.Time) })
		v.SSA = &ssa
	}
	inspectFillSteps(&v, res.DryRunResult)
	for i, st := range res.Steps {
		if st.State == dcr.StateFail {
			v.Steps[i].Detail = st.Code + ": " + st.Description + " — " + st.Detail
			v.Failures = append(v.Failures, st.Title)
		}
	}
	v.Signatures = []views.SignatureCheck{inspectSSASignature(res.DryRunResult), inspectRequestSignature(res.DryRunResult)}
	v.Notes = replayNotes(e, res)
	return v
}

// replayNotes say what the replay judged with, and what it could not judge.
func replayNotes(e *store.AuditEvent, res dcr.ReplayResult) []string {
	notes := []string{"Clock: the attempt's time, " + views.When(e.Time) + ", for every exp, nbf and iat check."}
	uris := make([]string, 0, len(res.KeysCachedAt))
	for u := range res.KeysCachedAt {
		uris = append(uris, u)
	}
	sort.Strings(uris)
	for _, u := range uris {
		at := res.KeysCachedAt[u]
		rel := relativeTo(at, e.Time)
		notes = append(notes, "Keys of "+u+": the copy cached here, fetched "+views.When(at)+" ("+rel+"); no copy from the attempt's own time is kept, and a replay never fetches.")
	}
	if res.StatusesFromHistory {
		notes = append(notes, "Register statuses: as the status history had them at the attempt's time.")
	} else {
		notes = append(notes, "Register statuses: the current data (the status history does not reach back to the attempt).")
	}
	notes = append(notes, "Not judged: the jti's single use (the attempt may have used it itself), the duplicate rule, and blocks (as they are now). A sector_identifier_uri is fetched now.")
	return notes
}
