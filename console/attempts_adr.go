package console

import (
	"context"
	"encoding/csv"
	"errors"
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

// The attempts list per ADR: a brand or legal entity filter (by the software
// products the Register and the registrations here give it), its column, the
// CSV export, and today's failures grouped by software product.

const (
	// attemptsCSVMax bounds an attempts export; a narrower filter gets the rest.
	attemptsCSVMax = 100_000
	// attemptGroupsShown is how many (product, code, step) groups are counted.
	attemptGroupsShown = 200
)

// errNoParty is a brand or legal entity nothing is known of: no attempt can match.
var errNoParty = errors.New("no software product of this brand or legal entity is known")

// attemptsFilter binds and bounds the attempts page's query (shared with the
// export): the filter, the form's values, the query string, and an error for
// the operator.
func (s *Server) attemptsFilter(c *gin.Context) (audit.Filter, views.AttemptsFilter, url.Values, error) {
	vf := views.AttemptsFilter{SoftwareID: c.Query("software_id"), Code: c.Query("code"), Step: c.Query("step"),
		Brand: c.Query("brand"), LegalEntity: c.Query("legal_entity")}
	q := url.Values{}
	for k, v := range map[string]string{"software_id": vf.SoftwareID, "code": vf.Code, "step": vf.Step,
		"brand": vf.Brand, "legal_entity": vf.LegalEntity} {
		if len(v) > maxFilterValue {
			return audit.Filter{}, vf, q, errors.New("a filter value is too long")
		}
		if v != "" {
			q.Set(k, v)
		}
	}
	f := audit.Filter{SoftwareID: vf.SoftwareID, ErrorCode: vf.Code, Step: vf.Step}
	var err error
	if f.From, f.To, vf.From, vf.To, err = timeRange(c); err != nil {
		return f, vf, q, err
	}
	for k, v := range map[string]string{"from": vf.From, "to": vf.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.BeforeID, err = beforeID(c); err != nil {
		return f, vf, q, err
	}
	for _, p := range []struct{ kind, id string }{{store.PartyBrand, vf.Brand}, {store.PartyLegalEntity, vf.LegalEntity}} {
		if p.id == "" {
			continue
		}
		ids, err := s.partySoftwareIDs(c.Request.Context(), p.kind, p.id)
		if err != nil {
			return f, vf, q, err
		}
		if f.SoftwareIDs != nil { // both given: the products of both
			ids = slices.DeleteFunc(ids, func(id string) bool { return !slices.Contains(f.SoftwareIDs, id) })
		}
		if len(ids) == 0 {
			return f, vf, q, errNoParty
		}
		f.SoftwareIDs = ids
	}
	return f, vf, q, nil
}

// partySoftwareIDs are a brand's or legal entity's software products: those
// the Register data lists for it and those its registrations here name.
func (s *Server) partySoftwareIDs(ctx context.Context, kind, id string) ([]string, error) {
	ids, err := s.db.PartySoftwareIDs(ctx, kind, id)
	if err != nil {
		return nil, err
	}
	for _, p := range s.register.Products() {
		if (kind == store.PartyBrand && p.BrandID == id) || (kind == store.PartyLegalEntity && p.LegalEntityID == id) {
			if !slices.Contains(ids, p.SoftwareProductID) {
				ids = append(ids, p.SoftwareProductID)
			}
		}
	}
	return ids, nil
}

// attemptParty is the brand and legal entity of an attempt's software product
// as the Register data names them; the brand is the event's org_id otherwise.
func (s *Server) attemptParty(e *store.AuditEvent) (brand, brandID, entity, entityID string) {
	if p, ok := s.register.Product(e.SoftwareID); ok && e.SoftwareID != "" {
		return p.BrandName, p.BrandID, p.LegalEntityName, p.LegalEntityID
	}
	return "", e.OrgID, "", ""
}

// attemptGroups are today's (since 00:00 UTC) failures grouped by software
// product, each with its most frequent error code and step.
func (s *Server) attemptGroups(ctx context.Context, now time.Time) ([]views.AttemptGroup, error) {
	since := now.UTC().Truncate(24 * time.Hour)
	rows, err := s.audit.AttemptGroups(ctx, since, attemptGroupsShown)
	if err != nil {
		return nil, err
	}
	var out []views.AttemptGroup
	at := map[string]int{}
	for _, r := range rows { // most frequent first
		i, ok := at[r.SoftwareID]
		if !ok {
			i = len(out)
			at[r.SoftwareID] = i
			g := views.AttemptGroup{SoftwareID: r.SoftwareID, Href: "/console/attempts?" + url.Values{"software_id": {r.SoftwareID}}.Encode()}
			if p, ok := s.register.Product(r.SoftwareID); ok && r.SoftwareID != "" {
				g.Product, g.Brand = p.SoftwareProductName, p.BrandName
			}
			out = append(out, g)
		}
		g := &out[i]
		g.N += r.N
		g.Causes = append(g.Causes, views.AttemptCause{Code: r.ErrorCode, Step: stepText(r.Step), N: r.N,
			LatestHref: "/console/attempts/" + strconv.FormatInt(r.LastID, 10)})
	}
	slices.SortStableFunc(out, func(a, b views.AttemptGroup) int { return int(b.N - a.N) })
	return out, nil
}

// AttemptsCSVHeader are the attempts export's columns, in order.
var AttemptsCSVHeader = []string{"event_id", "time", "call", "outcome", "software_id", "brand_id", "brand",
	"legal_entity_id", "legal_entity", "error_code", "step", "description", "detail", "request_id"}

// AttemptsCSV: GET /console/attempts.csv (the attempts page's filters), at most
// attemptsCSVMax rows, newest first, streamed.
func (s *Server) AttemptsCSV(c *gin.Context) {
	release, ok := s.exportSlot(c)
	if !ok {
		return
	}
	defer release()
	f, _, q, err := s.attemptsFilter(c)
	if err != nil && !errors.Is(err, errNoParty) {
		s.consoleError(c, http.StatusBadRequest, "Bad filter", err.Error()+". Go back to the attempts and correct the filter.")
		return
	}
	ctx := c.Request.Context()
	ev := operatorEvent(c, store.EventOperatorExport, "attempts.csv: "+strings.TrimSpace("filter "+filterText(q)))
	if aerr := s.audit.Record(ctx, ev); aerr != nil {
		s.clientsServerError(c, "audit attempts export", aerr)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="attempts-`+time.Now().UTC().Format("20060102T150405Z")+`.csv"`)
	extendWriteDeadline(c)
	c.Status(http.StatusOK)
	w := csv.NewWriter(c.Writer)
	_ = w.Write(AttemptsCSVHeader)
	if err == nil {
		err = s.eachAttempt(ctx, f, attemptsCSVMax, func(e *store.AuditEvent) error {
			return w.Write(s.attemptCSVRow(e))
		})
	}
	switch {
	case errors.Is(err, errExportBound):
		_ = w.Write([]string{"# export stopped at " + strconv.Itoa(attemptsCSVMax) + " rows: narrow the filter (a time range) for the rest"})
	case err != nil && !errors.Is(err, errNoParty):
		_ = w.Write([]string{"# export incomplete: the server failed part-way; do not use this file"})
		s.log.Error("console: attempts export", "error", err, "request_id", c.GetString(requestIDKey))
	}
	w.Flush()
}

var errExportBound = errors.New("export bound reached")

// eachAttempt calls fn for each attempt f selects, newest first, a page at a
// time, and stops with errExportBound after max.
func (s *Server) eachAttempt(ctx context.Context, f audit.Filter, max int, fn func(*store.AuditEvent) error) error {
	n := 0
	for {
		rows, next, err := s.audit.Attempts(ctx, f, 500)
		if err != nil {
			return err
		}
		for i := range rows {
			if n == max {
				return errExportBound
			}
			if err := fn(&rows[i]); err != nil {
				return err
			}
			n++
		}
		if next == 0 {
			return nil
		}
		f.BeforeID = next
	}
}

func (s *Server) attemptCSVRow(e *store.AuditEvent) []string {
	brand, brandID, entity, entityID := s.attemptParty(e)
	desc, detail := e.ReasonParts()
	row := []string{strconv.FormatInt(e.ID, 10), e.Time.UTC().Format(time.RFC3339), attemptKind(e.Type), string(e.Outcome),
		e.SoftwareID, brandID, brand, entityID, entity, e.ErrorCode, e.Step, desc, detail, e.RequestID}
	for i := range row {
		row[i] = audit.CSVSafe(row[i])
	}
	return row
}
