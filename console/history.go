package console

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

// A client's history: one timeline of its registration, each update with the
// fields it changed, status changes with who and why, Register status changes
// of its software product, and operators' notes; and its tokens per day.

const (
	historyEvents    = 100 // events of the client on its timeline
	historyRegister  = 50  // Register status changes of its product
	historyNotes     = 100
	historyTokenDays = 30
	noteMaxBytes     = 2000
	ticketMaxBytes   = 200
)

// historyTypes are the events a client's timeline shows (not every read and token).
var historyTypes = []store.EventType{store.EventRegistrationCreate, store.EventRegistrationUpdate, store.EventRegistrationDelete,
	store.EventClientStatus, store.EventOperatorRefreshKeys}

// clientHistory builds the timeline of cl, newest first.
func (s *Server) clientHistory(ctx context.Context, cl *store.Client, now time.Time) (views.ClientHistory, error) {
	var h views.ClientHistory
	events, _, err := s.audit.List(ctx, audit.Filter{ClientID: cl.ID, Types: historyTypes, Limit: historyEvents})
	if err != nil {
		return h, err
	}
	var entries []views.TimelineEntry
	for i := range events {
		entries = append(entries, eventEntry(&events[i]))
	}
	notes, err := s.db.ClientNotes(ctx, cl.ID, historyNotes)
	if err != nil {
		return h, err
	}
	for _, n := range notes {
		entries = append(entries, views.TimelineEntry{At: n.CreatedAt, When: views.When(n.CreatedAt), Kind: "note",
			Title: "Note", Actor: n.Author, Text: n.Body, Ticket: n.Ticket})
	}
	changes, err := s.register.StatusHistory(ctx, cl.SoftwareID, historyRegister)
	if err != nil {
		return h, err
	}
	for _, rc := range changes {
		entries = append(entries, registerEntry(rc))
	}
	slices.SortStableFunc(entries, func(a, b views.TimelineEntry) int { return b.At.Compare(a.At) })
	h.Entries = entries
	tokens, err := s.db.ClientTokensPerDay(ctx, cl.ID, now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -historyTokenDays+1))
	if err != nil {
		return h, err
	}
	for _, d := range tokens {
		h.TokensPerDay = append(h.TokensPerDay, views.KV{Key: d.Day, Value: strconv.FormatInt(d.N, 10)})
	}
	h.TokenDays = historyTokenDays
	return h, nil
}

// eventEntry is one audit event of the client on its timeline.
func eventEntry(e *store.AuditEvent) views.TimelineEntry {
	en := views.TimelineEntry{At: e.Time, When: views.When(e.Time), Actor: e.Actor, Href: "/console/audit/" + strconv.FormatInt(e.ID, 10)}
	refused := e.Outcome != store.OutcomeSuccess
	switch e.Type {
	case store.EventRegistrationCreate:
		en.Kind, en.Title = "registration", "Registered"
	case store.EventRegistrationUpdate:
		en.Kind, en.Title = "update", "Registration updated (PUT)"
		if refused {
			en.Title = "Update refused: " + e.ErrorCode + " at " + stepText(e.Step)
			en.Text = e.PublicReason()
		} else {
			en.Diff = updateDiff(e.Data)
		}
	case store.EventRegistrationDelete:
		en.Kind, en.Title = "status", "Deleted by the client (DELETE /register)"
	case store.EventClientStatus:
		en.Kind = "status"
		en.Title, en.Text, en.Bulk = statusEntry(e)
	case store.EventOperatorRefreshKeys:
		en.Kind, en.Title = "keys", "Keys refreshed by an operator"
	default:
		en.Kind, en.Title = "event", string(e.Type)
	}
	if refused && en.Kind != "update" {
		en.Title += " (" + string(e.Outcome) + ")"
	}
	return en
}

// statusEntry reads a client.status event: the change, why, and the bulk
// action it belongs to, if any.
func statusEntry(e *store.AuditEvent) (title, why, bulk string) {
	var d struct {
		From   string `json:"from"`
		To     string `json:"to"`
		BulkID string `json:"bulk_action_id"`
	}
	_ = json.Unmarshal([]byte(e.Data), &d)
	_, why, _ = strings.Cut(e.Reason, ": ")
	switch {
	case d.To == store.StatusRevoked:
		title = "Revoked"
	case d.To == store.StatusActive:
		title = "Restored"
	case d.To == store.StatusRemoved:
		title = "Removed after a Register status change"
	default:
		title = "Status " + d.From + " → " + d.To
	}
	return title, why, d.BulkID
}

// updateDiff is the field-by-field change an update event records.
func updateDiff(data string) []views.DiffRow {
	var d struct {
		Changes map[string]struct {
			From json.RawMessage `json:"from"`
			To   json.RawMessage `json:"to"`
			Note string          `json:"note"`
		} `json:"changes"`
	}
	if json.Unmarshal([]byte(data), &d) != nil {
		return nil
	}
	var rows []views.DiffRow
	for field, c := range d.Changes {
		rows = append(rows, views.DiffRow{Field: field, From: diffValue(c.From), To: diffValue(c.To), Note: c.Note})
	}
	slices.SortFunc(rows, func(a, b views.DiffRow) int { return strings.Compare(a.Field, b.Field) })
	if len(rows) == 0 {
		rows = append(rows, views.DiffRow{Field: "(none)", Note: "no registered field changed"})
	}
	return rows
}

// diffValue shows a JSON value in a line: strings unquoted, others compact, bounded.
func diffValue(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "—"
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return shorten(s, 300)
	}
	return shorten(string(raw), 300)
}

// registerEntry is a Register status change of the client's software product.
func registerEntry(rc store.RegisterStatusChange) views.TimelineEntry {
	en := views.TimelineEntry{At: rc.ChangedAt, When: views.When(rc.ChangedAt), Kind: "register", Actor: "cdr-register"}
	switch {
	case rc.OldEffective == "" && rc.OldStatus == "":
		en.Title = "Register: first seen, effective status " + rc.NewEffective
	case rc.NewEffective == "" && rc.NewStatus == "":
		en.Title = "Register: the product is no longer listed"
	default:
		en.Title = "Register: effective status " + rc.OldEffective + " → " + rc.NewEffective
	}
	var parts []string
	for _, l := range []struct{ what, from, to string }{{"product", rc.OldStatus, rc.NewStatus},
		{"brand", rc.OldBrandStatus, rc.NewBrandStatus}, {"legal entity", rc.OldEntityStatus, rc.NewEntityStatus}} {
		if l.from != l.to {
			parts = append(parts, l.what+" "+registerStatusOrUnknown(l.from)+" → "+registerStatusOrUnknown(l.to))
		}
	}
	en.Text = strings.Join(parts, "; ")
	return en
}

// AddClientNote: POST /console/clients/:id/notes (operator; note, ticket)
func (s *Server) AddClientNote(c *gin.Context) {
	ctx := c.Request.Context()
	cl, err := s.db.GetClient(ctx, c.Param("id"))
	if err != nil {
		s.clientActionDone(c, "/console/clients", "", notFoundAsNoSuchClient(err))
		return
	}
	to := views.ClientPath(cl.ID) + "#history"
	body := strings.TrimSpace(c.PostForm("note"))
	ticket := strings.TrimSpace(c.PostForm("ticket"))
	switch {
	case body == "":
		s.redirectWithFlash(c, to, "A note needs some text.", true)
		return
	case len(body) > noteMaxBytes || len(ticket) > ticketMaxBytes:
		s.redirectWithFlash(c, to, "A note may have at most 2,000 bytes and a ticket reference 200.", true)
		return
	}
	n := &store.ClientNote{ClientID: cl.ID, Author: actor(c), Body: body, Ticket: ticket, CreatedAt: time.Now().UTC()}
	ev := operatorEvent(c, store.EventOperatorClientNote, "note: "+body)
	ev.ClientID, ev.SoftwareID, ev.OrgID = cl.ID, cl.SoftwareID, cl.OrgID
	ev.Data = store.AuditData(map[string]string{"ticket": ticket})
	err = s.audit.Record(ctx, ev, func(tx *store.Tx) error { return store.AddClientNote(tx, n) })
	if err != nil {
		s.clientActionDone(c, to, "", err)
		return
	}
	s.redirectWithFlash(c, to, "Note added to the client's history.", false)
}

func notFoundAsNoSuchClient(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return dcr.ErrNoSuchClient
	}
	return err
}
