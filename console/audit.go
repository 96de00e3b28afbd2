package console

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

const (
	auditPageSize = 50
	// maxFilterValue bounds every text filter: ids and names are far shorter.
	maxFilterValue = 200
	// exportWriteDeadline replaces the server's write timeout for an export:
	// a million events take seconds to write, longer to a slow client.
	exportWriteDeadline = 30 * time.Minute
)

// auditTypes are the type filter's choices: every event type outside the
// console, and every console action by prefix.
var auditTypes = auditTypeOptions()

func auditTypeOptions() []views.AuditOption {
	opts := []views.AuditOption{{Value: "", Label: "Any type"}}
	for _, t := range store.EventTypes() {
		if !t.IsOperator() {
			opts = append(opts, views.AuditOption{Value: string(t), Label: string(t)})
		}
	}
	return append(opts, views.AuditOption{Value: store.EventOperatorPrefix + "*", Label: store.EventOperatorPrefix + "* (every console action)"})
}

// auditFilter binds and bounds the audit page's query (shared by the exports).
func auditFilter(c *gin.Context) (audit.Filter, views.AuditFilter, error) {
	vf := views.AuditFilter{Type: c.Query("type"), Outcome: c.Query("outcome"), Actor: c.Query("actor"),
		ClientID: c.Query("client_id"), SoftwareID: c.Query("software_id")}
	for name, v := range map[string]string{"type": vf.Type, "actor": vf.Actor, "client_id": vf.ClientID, "software_id": vf.SoftwareID} {
		if len(v) > maxFilterValue {
			return audit.Filter{}, vf, errors.New(name + " is too long")
		}
	}
	if o := store.Outcome(vf.Outcome); o != "" && !o.Valid() {
		return audit.Filter{}, vf, errors.New("outcome must be success, rejected or error")
	}
	f := audit.Filter{Type: vf.Type, Outcome: vf.Outcome, Actor: vf.Actor, ClientID: vf.ClientID, SoftwareID: vf.SoftwareID}
	var err error
	if f.From, f.To, vf.From, vf.To, err = timeRange(c); err != nil {
		return audit.Filter{}, vf, err
	}
	if f.BeforeID, err = beforeID(c); err != nil {
		return audit.Filter{}, vf, err
	}
	return f, vf, nil
}

// auditQuery is the query string of vf, for links that keep the filter.
func auditQuery(vf views.AuditFilter) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"type": vf.Type, "outcome": vf.Outcome, "actor": vf.Actor,
		"client_id": vf.ClientID, "software_id": vf.SoftwareID, "from": vf.From, "to": vf.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// pageLinks are the pager's first- and next-page links for a keyset page.
func pageLinks(path string, q url.Values, before, next int64) (first, nextHref string) {
	if before > 0 {
		first = withQuery(path, q)
	}
	if next > 0 {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("before", strconv.FormatInt(next, 10))
		nextHref = withQuery(path, nq)
	}
	return first, nextHref
}

// filterText is q as "key=value key=value", sorted, unescaped: for the audit log.
func filterText(q url.Values) string {
	keys := slices.Sorted(maps.Keys(q))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + q.Get(k)
	}
	return strings.Join(parts, " ")
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// AuditPage: GET /console/audit
func (s *Server) AuditPage(c *gin.Context) {
	f, vf, err := auditFilter(c)
	q := auditQuery(vf)
	v := views.AuditListView{Filter: vf, Types: typeOptions(vf.Type), Filtered: len(q) > 0,
		CSVHref: withQuery("/console/audit.csv", q), JSONHref: withQuery("/console/audit.json", q)}
	if err != nil {
		v.Error = err.Error()
		s.render(c, http.StatusBadRequest, views.AuditList(v, s.nav(c, "audit")))
		return
	}
	f.Limit = listLimit(c, auditPageSize)
	events, next, err := s.audit.List(c.Request.Context(), f)
	var total int64
	var atLeast bool
	if err == nil {
		total, atLeast, err = s.audit.Count(c.Request.Context(), f)
	}
	if err != nil {
		s.log.Error("console: audit list", "error", err, "request_id", c.GetString(requestIDKey))
		s.consoleError(c, http.StatusInternalServerError, "Server error", "The audit log could not be read. Try again.")
		return
	}
	for _, e := range events {
		v.Rows = append(v.Rows, views.AuditRow{ID: e.ID, Time: e.Time, Type: string(e.Type), Actor: e.Actor,
			Outcome: string(e.Outcome), ErrorCode: e.ErrorCode, Reason: auditReason(e), SoftwareID: e.SoftwareID, ClientID: e.ClientID})
	}
	v.Page = listPage("/console/audit", q, f.BeforeID, next, pageStart(c), len(v.Rows), f.Limit, auditPageSize)
	v.Page.Total, v.Page.TotalAtLeast = total, atLeast
	s.render(c, http.StatusOK, views.AuditList(v, s.nav(c, "audit")))
}

// auditReason is an event's reason for the list: a refusal's public
// description and internal detail as two parts, an operator's reason as one.
func auditReason(e store.AuditEvent) views.ReasonText {
	if e.Outcome == store.OutcomeSuccess {
		return views.NewReason(shorten(e.Reason, 600), "")
	}
	desc, detail := e.ReasonParts()
	return views.NewReason(shorten(desc, 600), shorten(detail, 600))
}

// listPage is a keyset list's pager: first and next page (keeping the filter
// q and the page size), the position and the page size choice.
func listPage(path string, q url.Values, before, next, start int64, shown, limit, def int) views.PageInfo {
	lq := url.Values{}
	for k, v := range q {
		lq[k] = v
	}
	if limit != def {
		lq.Set("limit", strconv.Itoa(limit))
	}
	p := views.PageInfo{Start: start, Shown: shown, Sizes: sizeLinks(path, q, limit, def)}
	first, nextHref := pageLinks(path, lq, before, next)
	p.FirstHref, p.NextHref = first, nextStart(nextHref, start, shown)
	return p
}

// typeOptions are the type choices, plus the current one when it is not among them.
func typeOptions(current string) []views.AuditOption {
	for _, o := range auditTypes {
		if o.Value == current {
			return auditTypes
		}
	}
	return append(append([]views.AuditOption(nil), auditTypes...), views.AuditOption{Value: current, Label: current})
}

// AuditCSV: GET /console/audit.csv (the audit page's filters)
func (s *Server) AuditCSV(c *gin.Context) { s.auditExport(c, "csv") }

// AuditJSON: GET /console/audit.json (the audit page's filters); a JSON array.
func (s *Server) AuditJSON(c *gin.Context) { s.auditExport(c, "json") }

// auditExport streams the filtered events. The export is audited before the
// first byte goes out: an export that cannot be recorded does not happen.
func (s *Server) auditExport(c *gin.Context, format string) {
	release, ok := s.exportSlot(c)
	if !ok {
		return
	}
	defer release()
	f, vf, err := auditFilter(c)
	if err != nil {
		s.consoleError(c, http.StatusBadRequest, "Bad filter", err.Error()+". Go back to the audit log and correct the filter.")
		return
	}
	scope := "every event"
	if q := auditQuery(vf); len(q) > 0 || f.BeforeID > 0 {
		if f.BeforeID > 0 {
			q.Set("before", strconv.FormatInt(f.BeforeID, 10))
		}
		scope = "filter " + filterText(q)
	}
	ctx := c.Request.Context()
	ev := operatorEvent(c, store.EventOperatorExport, "audit log exported as "+format+": "+scope)
	if err := s.audit.Record(ctx, ev); err != nil {
		s.log.Error("console: audit export not recorded", "error", err, "request_id", c.GetString(requestIDKey))
		s.consoleError(c, http.StatusInternalServerError, "Server error", "The export could not be recorded in the audit log, so it was not started. Try again.")
		return
	}
	contentType := "text/csv; charset=utf-8"
	export := s.audit.ExportCSV
	if format == "json" {
		contentType, export = "application/json; charset=utf-8", s.audit.ExportJSON
	}
	name := "dcrconsole-audit-" + time.Now().UTC().Format("20060102T150405Z") + "." + format
	c.Header("Content-Type", contentType)
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	extendWriteDeadline(c)
	c.Status(http.StatusOK)
	n, err := export(ctx, c.Writer, f)
	if err != nil {
		if format == "csv" { // the JSON array is left unclosed instead
			_, _ = c.Writer.WriteString("\n# export incomplete: the server failed part-way; do not use this file\n")
		}
		// The status is sent; the truncated body is all the client can be told.
		s.log.Error("console: audit export failed part-way", "error", err, "events", n, "export_event", ev.ID,
			"request_id", c.GetString(requestIDKey))
	}
}

// AuditEventPage: GET /console/audit/:id
func (s *Server) AuditEventPage(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.consoleError(c, http.StatusNotFound, "No such event", "Audit events are numbered from 1. Go back to the audit log.")
		return
	}
	e, err := s.audit.Get(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.consoleError(c, http.StatusNotFound, "No such event", "There is no audit event "+c.Param("id")+". Go back to the audit log.")
		return
	}
	if err != nil {
		s.log.Error("console: audit event", "error", err, "request_id", c.GetString(requestIDKey))
		s.consoleError(c, http.StatusInternalServerError, "Server error", "The event could not be read. Try again.")
		return
	}
	headID, _, err := s.audit.Head(c.Request.Context())
	if err != nil {
		headID = 0 // only the "next event" link depends on it
	}
	s.render(c, http.StatusOK, views.AuditEvent(auditEventView(e, headID), s.nav(c, "audit")))
}

func auditEventView(e *store.AuditEvent, headID int64) views.AuditEventView {
	id := strconv.FormatInt(e.ID, 10)
	v := views.AuditEventView{ID: e.ID, Title: "Event " + id + ": " + string(e.Type), Data: showJSON([]byte(e.Data)), Fields: []views.KV{
		{Key: "ID", Value: id}, {Key: "Time", At: e.Time, Value: "(" + e.Time.UTC().Format(time.RFC3339Nano) + ")"}, {Key: "Type", Value: string(e.Type), Mono: true},
		{Key: "Outcome", Value: string(e.Outcome)}, {Key: "Actor", Value: e.Actor, Mono: true}, {Key: "Error code", Value: e.ErrorCode, Mono: true},
		{Key: "Step", Value: stepValue(e.Step)}, {Key: "Reason", Value: e.Reason}, {Key: "software_id", Value: e.SoftwareID, Mono: true},
		{Key: "org_id", Value: e.OrgID, Mono: true}, {Key: "client_id", Value: e.ClientID, Mono: true}, {Key: "jti", Value: e.JTI, Mono: true},
		{Key: "Remote address", Value: e.RemoteAddr, Mono: true}, {Key: "Certificate thumbprint", Value: e.CertThumbprint, Mono: true},
		{Key: "Request ID", Value: e.RequestID, Mono: true}, {Key: "Duration", Value: durationText(e.DurationUS)},
		{Key: "prev_hash", Value: e.PrevHash, Mono: true, Copy: true}, {Key: "hash", Value: e.Hash, Mono: true, Copy: true},
	}}
	if audit.IsAttempt(e) {
		v.Links = append(v.Links, views.AuditLink{Label: "Attempt details (decoded request and SSA)", Href: "/console/attempts/" + id})
	}
	if e.ClientID != "" {
		v.Links = append(v.Links, views.AuditLink{Label: "Client " + e.ClientID, Href: "/console/clients/" + url.PathEscape(e.ClientID)},
			views.AuditLink{Label: "Events of this client", Href: withQuery("/console/audit", url.Values{"client_id": {e.ClientID}})})
	}
	if e.SoftwareID != "" {
		v.Links = append(v.Links, views.AuditLink{Label: "Events of this software_id", Href: withQuery("/console/audit", url.Values{"software_id": {e.SoftwareID}})})
	}
	if e.Actor != "" {
		v.Links = append(v.Links, views.AuditLink{Label: "Events by this actor", Href: withQuery("/console/audit", url.Values{"actor": {e.Actor}})})
	}
	if e.ID > 1 {
		v.Links = append(v.Links, views.AuditLink{Label: "« Event " + strconv.FormatInt(e.ID-1, 10), Href: "/console/audit/" + strconv.FormatInt(e.ID-1, 10)})
	}
	if e.ID < headID {
		v.Links = append(v.Links, views.AuditLink{Label: "Event " + strconv.FormatInt(e.ID+1, 10) + " »", Href: "/console/audit/" + strconv.FormatInt(e.ID+1, 10)})
	}
	return v
}

func stepValue(step string) string {
	if step == "" {
		return ""
	}
	return step + " — " + stepText(step)
}

func durationText(us int64) string {
	if us == 0 {
		return ""
	}
	return (time.Duration(us) * time.Microsecond).String()
}

// shorten cuts s to about n runes for a list; the detail page has it all.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n])) + "…"
}

// timeRange reads the from and to query values: a date or a datetime-local
// value, in UTC. A date as "to" means the end of that day. It returns the bounds
// (to exclusive) and the values to show back in datetime-local inputs.
func timeRange(c *gin.Context) (from, to time.Time, fromText, toText string, err error) {
	if from, err = parseConsoleTime(c.Query("from"), false); err != nil {
		return from, to, "", "", errors.New("from: " + err.Error())
	}
	if to, err = parseConsoleTime(c.Query("to"), true); err != nil {
		return from, to, "", "", errors.New("to: " + err.Error())
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return from, to, "", "", errors.New("to must be after from")
	}
	return from, to, localInput(from), localInput(to), nil
}

var consoleTimeLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", time.RFC3339Nano}

func parseConsoleTime(s string, endOfDay bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if len(s) > 40 {
		return time.Time{}, errors.New("too long")
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.UTC); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	for _, layout := range consoleTimeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("want a date (2025-03-04) or a date and time (2025-03-04T15:04), in UTC")
}

// localInput formats t for a datetime-local input.
func localInput(t time.Time) string {
	switch {
	case t.IsZero():
		return ""
	case t.Second() != 0:
		return t.Format("2006-01-02T15:04:05")
	default:
		return t.Format("2006-01-02T15:04")
	}
}

// beforeID reads the keyset cursor: only events with a smaller id.
func beforeID(c *gin.Context) (int64, error) {
	b := c.Query("before")
	if b == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(b, 10, 64)
	if err != nil || id <= 0 {
		return 0, errors.New("before must be an event id")
	}
	return id, nil
}

// AuditVerify: POST /console/audit/verify (operator). Starts a verification in
// the background unless one is running; it is audited with its result.
func (s *Server) AuditVerify(c *gin.Context) {
	// The request itself is recorded before anything runs, so a run that never
	// finishes (a restart) still left its trace in the chain.
	ev := operatorEvent(c, store.EventOperatorVerifyStart, "chain verification requested")
	if err := s.audit.Record(c.Request.Context(), ev); err != nil {
		s.log.Error("console: audit verify start", "error", err, "request_id", c.GetString(requestIDKey))
		s.redirectWithFlash(c, "/console/audit/verify", "The request could not be recorded in the audit log, so nothing was started. Try again.", true)
		return
	}
	run, started := s.verify.Start(*ev) // who asked: the same actor, address and request as the start record
	msg := "Verification started. This page shows the result when it finishes."
	if !started {
		msg = "A verification started by " + run.By + " at " + views.WhenIn(run.Started, s.zone) + " is still running; its result shows here."
	}
	s.redirectWithFlash(c, "/console/audit/verify", msg, false)
}

// AuditVerifyPage: GET /console/audit/verify. Refreshes itself while a run goes.
func (s *Server) AuditVerifyPage(c *gin.Context) {
	current, running, last, finished := s.verify.Status()
	nav := s.nav(c, "audit")
	v := views.AuditVerifyView{CanAct: nav.CanAct(), Running: running, HasLast: finished}
	if running {
		v.RunningBy, v.RunningSince = current.By, views.WhenIn(current.Started, s.zone)
		c.Header("Refresh", "2")
	}
	if finished {
		r := last.Result
		v.Last = views.AuditVerifyResult{OK: r.OK, Events: r.Events, BrokenID: r.BrokenID, Problem: r.Problem,
			HeadID: r.HeadID, HeadHash: r.HeadHash, Err: last.Err, AuditErr: last.AuditErr, By: last.By,
			Started: views.WhenIn(last.Started, s.zone), Finished: views.WhenIn(last.Finished, s.zone),
			Took: last.Finished.Sub(last.Started).Round(time.Millisecond).String()}
	}
	s.render(c, http.StatusOK, views.AuditVerify(v, nav))
}
