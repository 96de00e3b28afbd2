package console

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

// The console's client list, its CSV export, and the operator actions on a
// client. The detail page is in console_client.go.

const (
	clientsDefaultLimit    = 50
	clientsMaxLimit        = 500
	clientsMaxQuery        = 200
	clientsMaxReason       = 500
	clientsRegisterUnknown = "unknown"
)

var (
	clientsStatuses         = []string{store.StatusActive, store.StatusRevoked, store.StatusDeleted, store.StatusRemoved}
	clientsSources          = []string{store.SourceRegister, store.SourceAPI}
	clientsRegisterStatuses = []string{"ACTIVE", "INACTIVE", "REMOVED", "SUSPENDED", "REVOKED", "SURRENDERED", clientsRegisterUnknown}
)

// clientQuery is the list's query string, each value bounded to what it may be.
type clientQuery struct {
	views.ClientsFilter
	After string
}

func parseClientQuery(c *gin.Context) clientQuery {
	oneOf := func(v string, allowed ...string) string {
		for _, a := range allowed {
			if v == a {
				return v
			}
		}
		return ""
	}
	q := clientQuery{After: c.Query("after")}
	q.Q = strings.TrimSpace(c.Query("q"))
	if len(q.Q) > clientsMaxQuery {
		q.Q = strings.ToValidUTF8(q.Q[:clientsMaxQuery], "")
	}
	q.Status = oneOf(c.Query("status"), clientsStatuses...)
	q.Source = oneOf(c.Query("source"), clientsSources...)
	q.Reg = oneOf(c.Query("reg"), clientsRegisterStatuses...)
	q.Sort = oneOf(c.Query("sort"), store.SortCreated, store.SortName, store.SortOrg)
	q.Dir = oneOf(c.Query("dir"), "asc", "desc")
	if q.Dir == "" && c.Query("asc") == "1" {
		q.Dir = "asc"
	}
	if n, err := strconv.Atoi(c.Query("limit")); err == nil && n > 0 && n <= clientsMaxLimit && n != clientsDefaultLimit {
		q.Limit = n
	}
	return q
}

// values encodes the query for links that keep the filters.
func (q clientQuery) values(after string) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": q.Q, "status": q.Status, "source": q.Source, "reg": q.Reg, "sort": q.Sort, "dir": q.Dir, "after": after} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

func (q clientQuery) filtered() bool {
	return q.Q != "" || q.Status != "" || q.Source != "" || q.Reg != "" || q.After != ""
}

// clientFilter turns the query into a store filter. A Register status becomes
// the software_ids the Register data in memory gives that status ("unknown":
// those clients have that the Register lacks).
func (s *Server) clientFilter(ctx context.Context, q clientQuery) (store.ClientFilter, error) {
	f := store.ClientFilter{Query: q.Q, Status: q.Status, Source: q.Source, Sort: q.Sort, Asc: q.Dir == "asc", After: q.After, Limit: q.Limit}
	if f.Limit == 0 {
		f.Limit = clientsDefaultLimit
	}
	switch q.Reg {
	case "":
	case clientsRegisterUnknown:
		ids, err := s.db.ClientSoftwareIDs(ctx)
		if err != nil {
			return f, err
		}
		f.SoftwareIDs = s.register.UnknownSoftwareIDs(ids)
	default:
		f.SoftwareIDs = s.register.SoftwareIDsWithStatus(q.Reg)
	}
	return f, nil
}

// clientRegisterStatus is a software product's effective Register status.
func (s *Server) clientRegisterStatus(softwareID string) string {
	p, ok := s.register.Product(softwareID)
	if !ok {
		return clientsRegisterUnknown
	}
	st, _ := p.EffectiveStatus()
	return st
}

// ClientsPage: GET /console/clients
func (s *Server) ClientsPage(c *gin.Context) {
	q := parseClientQuery(c)
	ctx := c.Request.Context()
	f, err := s.clientFilter(ctx, q)
	var rows []store.ClientSummary
	var next string
	if err == nil {
		rows, next, err = s.db.ListClients(ctx, f)
	}
	if errors.Is(err, store.ErrBadCursor) {
		s.consoleError(c, http.StatusBadRequest, "Invalid page link", "This page link is not valid. Start again from the first page of the list.")
		return
	}
	var total int64
	if err == nil {
		total, err = s.db.CountClients(ctx, f)
	}
	if err != nil {
		s.clientsServerError(c, "list clients", err)
		return
	}
	v := views.ClientsView{Filter: q.ClientsFilter, Total: total, Filtered: q.filtered(),
		CSVHref:  "/console/clients.csv?" + q.values("").Encode(),
		Statuses: clientsStatuses, Sources: clientsSources, RegisterStatuses: clientsRegisterStatuses}
	for _, r := range rows {
		v.Rows = append(v.Rows, views.ClientRow{ID: r.ID, Name: r.ClientName, OrgName: r.OrgName, LegalEntityName: r.LegalEntityName,
			SoftwareID: r.SoftwareID, Status: r.Status, RegisterStatus: s.clientRegisterStatus(r.SoftwareID), Source: r.Source, CreatedAt: r.CreatedAt})
	}
	v.Page = clientsPage(q, next, pageStart(c), len(v.Rows), total)
	v.Sort = clientSortHeaders(q)
	s.render(c, http.StatusOK, views.Clients(v, s.nav(c, "clients")))
}

// ClientsCSVHeader are the clients export's columns, in order.
var ClientsCSVHeader = []string{"client_id", "client_name", "software_id", "org_id", "org_name", "legal_entity_id",
	"legal_entity_name", "status", "source", "register_status", "created_at"}

// ClientsCSV: GET /console/clients.csv (the list's query parameters; every page)
func (s *Server) ClientsCSV(c *gin.Context) {
	release, ok := s.exportSlot(c)
	if !ok {
		return
	}
	defer release()
	q := parseClientQuery(c)
	q.After = ""
	ctx := c.Request.Context()
	f, err := s.clientFilter(ctx, q)
	if err != nil {
		s.clientsServerError(c, "export clients", err)
		return
	}
	filter := q.values("").Encode()
	if filter == "" {
		filter = "all clients"
	}
	// The export is audited before it starts: no data leaves unrecorded.
	ev := operatorEvent(c, store.EventOperatorExport, "clients.csv: "+filter)
	if err := s.audit.Record(ctx, ev); err != nil {
		s.clientsServerError(c, "audit export", err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="clients-`+time.Now().UTC().Format("20060102T150405Z")+`.csv"`)
	extendWriteDeadline(c)
	c.Status(http.StatusOK)
	w := csv.NewWriter(c.Writer)
	_ = w.Write(ClientsCSVHeader)
	err = s.db.EachClient(ctx, f, func(r store.ClientSummary) error {
		row := []string{r.ID, r.ClientName, r.SoftwareID, r.OrgID, r.OrgName, r.LegalEntityID, r.LegalEntityName,
			r.Status, r.Source, s.clientRegisterStatus(r.SoftwareID), r.CreatedAt.UTC().Format(time.RFC3339)}
		for i := range row {
			row[i] = clientsCSVCell(row[i])
		}
		return w.Write(row) // buffered a few KiB at a time: the list is never held in memory
	})
	if err != nil {
		// The status line is gone: say so in the file, so it never looks complete.
		_ = w.Write([]string{"# export incomplete: the server failed part-way; do not use this file"})
		s.log.Error("console: clients export", "error", err, "request_id", c.GetString(requestIDKey))
	}
	w.Flush()
}

// clientsCSVCell defuses CSV injection: a spreadsheet must not read a cell a
// client chose (its name, say) as a formula.
func clientsCSVCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// clientsServerError logs an unexpected error once and shows the error page.
func (s *Server) clientsServerError(c *gin.Context, what string, err error) {
	s.log.Error("console: "+what, "error", err, "request_id", c.GetString(requestIDKey))
	s.consoleError(c, http.StatusInternalServerError, "Server error", "Something went wrong on our side. Try again; if it persists, the server log has the details.")
}

// clientActionErrors are the dcr errors an operator can act on; their text is shown as is.
var clientActionErrors = []error{dcr.ErrReasonRequired, dcr.ErrConfirmMismatch, dcr.ErrNotActive, dcr.ErrNotRevoked,
	dcr.ErrOtherActive, dcr.ErrAlreadyBlocked, dcr.ErrNotBlocked, dcr.ErrNoSuchClient, dcr.ErrInvalidSoftwareID}

// clientActionDone ends an operator action with a flash and a redirect to to.
func (s *Server) clientActionDone(c *gin.Context, to, okMsg string, err error) {
	if err == nil {
		s.redirectWithFlash(c, to, okMsg, false)
		return
	}
	for _, known := range clientActionErrors {
		if errors.Is(err, known) {
			msg := known.Error()
			s.redirectWithFlash(c, to, strings.ToUpper(msg[:1])+msg[1:]+".", true)
			return
		}
	}
	s.log.Error("console: operator action", "path", c.FullPath(), "error", err, "request_id", c.GetString(requestIDKey))
	s.redirectWithFlash(c, to, "A server error stopped this action; nothing was changed. The server log has the details.", true)
}

// RevokeClient: POST /console/clients/:id/revoke (reason, confirm)
func (s *Server) RevokeClient(c *gin.Context) {
	id := c.Param("id")
	reason := clientsFormText(c, "reason")
	err := s.registrar.Revoke(c.Request.Context(), id, c.PostForm("confirm"), s.operatorAction(c, reason))
	if errors.Is(err, dcr.ErrConfirmMismatch) || errors.Is(err, dcr.ErrReasonRequired) {
		// Shown again as typed, with the error beside the form: a refused
		// confirmation must not cost the operator the reason they wrote.
		msg := err.Error()
		s.showClient(c, http.StatusUnprocessableEntity, views.RevokeForm{Reason: reason, Error: strings.ToUpper(msg[:1]) + msg[1:] + "."})
		return
	}
	to := views.ClientPath(id)
	if errors.Is(err, dcr.ErrNoSuchClient) {
		to = "/console/clients"
	}
	s.clientActionDone(c, to, "Client revoked: it is unknown to every endpoint from now on.", err)
}

// RestoreClient: POST /console/clients/:id/restore (reason)
func (s *Server) RestoreClient(c *gin.Context) {
	id := c.Param("id")
	err := s.registrar.Restore(c.Request.Context(), id, s.operatorAction(c, clientsFormText(c, "reason")))
	to := views.ClientPath(id)
	if errors.Is(err, dcr.ErrNoSuchClient) {
		to = "/console/clients"
	}
	s.clientActionDone(c, to, "Client restored: it is active again.", err)
}

// RefreshClientKeys: POST /console/clients/:id/refresh-keys
func (s *Server) RefreshClientKeys(c *gin.Context) {
	ctx := c.Request.Context()
	cl, err := s.db.GetClient(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.clientActionDone(c, "/console/clients", "", dcr.ErrNoSuchClient)
		return
	}
	if err != nil {
		s.clientActionDone(c, "/console/clients", "", err)
		return
	}
	to := views.ClientPath(cl.ID)
	if cl.JWKSURI == "" {
		s.redirectWithFlash(c, to, "This client has no jwks_uri to fetch.", true)
		return
	}
	// Recorded first: a refresh whose audit record cannot be written does not happen.
	ev := operatorEvent(c, store.EventOperatorRefreshKeys, "refresh keys from "+cl.JWKSURI)
	ev.ClientID, ev.SoftwareID, ev.OrgID = cl.ID, cl.SoftwareID, cl.OrgID
	if err := s.audit.Record(ctx, ev); err != nil {
		s.log.Error("console: audit refresh keys", "error", err, "request_id", c.GetString(requestIDKey))
		s.redirectWithFlash(c, to, "The refresh could not be recorded in the audit log, so it was not made. Try again.", true)
		return
	}
	ferr := s.jwksCache.Refresh(ctx, cl.JWKSURI)
	if ferr != nil {
		s.redirectWithFlash(c, to, "The keys could not be fetched ("+ferr.Error()+"); the previous copy, if any, stays in use.", true)
		return
	}
	s.redirectWithFlash(c, to, "Keys fetched from the ADR's jwks_uri.", false)
}

// clientsFormText reads a free-text form field, bounded: it is stored and audited.
func clientsFormText(c *gin.Context, name string) string {
	v := strings.TrimSpace(c.PostForm(name))
	if len(v) > clientsMaxReason {
		v = strings.ToValidUTF8(v[:clientsMaxReason], "")
	}
	return v
}

// clientsSoftwareReturn is where a block or unblock goes back to: a console page, or the list.
func clientsSoftwareReturn(c *gin.Context) string {
	if r := c.PostForm("return"); r != "" && safeNext(r) == r {
		return r
	}
	return "/console/clients"
}

// BlockSoftware: POST /console/software/block (software_id, reason, return)
func (s *Server) BlockSoftware(c *gin.Context) {
	sid := clientsFormText(c, "software_id")
	err := s.registrar.Block(c.Request.Context(), sid, s.operatorAction(c, clientsFormText(c, "reason")))
	s.clientActionDone(c, clientsSoftwareReturn(c), "Software product "+sid+" blocked: new registrations are refused. Existing ones are unchanged; revoke them if needed.", err)
}

// UnblockSoftware: POST /console/software/unblock (software_id, reason, return)
func (s *Server) UnblockSoftware(c *gin.Context) {
	sid := clientsFormText(c, "software_id")
	err := s.registrar.Unblock(c.Request.Context(), sid, s.operatorAction(c, clientsFormText(c, "reason")))
	s.clientActionDone(c, clientsSoftwareReturn(c), "Software product "+sid+" unblocked: it can register again.", err)
}
