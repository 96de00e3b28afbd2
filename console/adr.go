package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

// The per-ADR page: a brand or legal entity with its Register status, its
// software products, its registrations here and links to its attempts; and
// the bulk actions on it (operator), behind a confirmation that shows the count.

const adrClientsShown = 50

// party is the brand or legal entity a request names.
type party struct {
	kind, id, name, registerStatus string
}

func (p party) label() string {
	if p.kind == store.PartyLegalEntity {
		return "Legal entity"
	}
	return "Brand"
}

// readParty binds ?kind=&id= (or the form's), with its name and Register
// status; ok false when it has answered with an error page.
func (s *Server) readParty(c *gin.Context, kind, id string) (party, bool) {
	p := party{kind: kind, id: strings.TrimSpace(id)}
	if (kind != store.PartyBrand && kind != store.PartyLegalEntity) || p.id == "" || len(p.id) > maxFilterValue {
		s.consoleError(c, http.StatusBadRequest, "Bad link", "This page needs kind=brand or kind=legal_entity and an id. Search for the brand or legal entity in the header.")
		return p, false
	}
	for _, pr := range s.register.Products() {
		if kind == store.PartyBrand && pr.BrandID == p.id {
			p.name, p.registerStatus = pr.BrandName, registerStatusOrUnknown(pr.BrandStatus)
			break
		}
		if kind == store.PartyLegalEntity && pr.LegalEntityID == p.id {
			p.name, p.registerStatus = pr.LegalEntityName, registerStatusOrUnknown(pr.LegalEntityStatus)
			break
		}
	}
	if p.name == "" {
		name, err := s.db.PartyName(c.Request.Context(), kind, p.id)
		if err != nil {
			s.clientsServerError(c, "party name", err)
			return p, false
		}
		p.name = name
	}
	return p, true
}

// ADRPage: GET /console/adr?kind=brand|legal_entity&id=...
func (s *Server) ADRPage(c *gin.Context) {
	p, ok := s.readParty(c, c.Query("kind"), c.Query("id"))
	if !ok {
		return
	}
	ctx := c.Request.Context()
	after := c.Query("after")
	counts, err := s.db.CountClientsOfParty(ctx, p.kind, p.id)
	var rows []store.ClientSummary
	if err == nil {
		rows, err = s.db.ClientsOfParty(ctx, p.kind, p.id, "", after, adrClientsShown+1)
	}
	var products []views.ADRProduct
	if err == nil {
		products, err = s.adrProducts(ctx, p)
	}
	if err != nil {
		s.clientsServerError(c, "adr page", err)
		return
	}
	v := views.ADRView{Kind: p.kind, Label: p.label(), ID: p.id, Name: p.name, RegisterStatus: p.registerStatus,
		Products: products, AttemptsHref: "/console/attempts?" + url.Values{p.kindParam(): {p.id}}.Encode()}
	for _, n := range counts {
		v.Counts = append(v.Counts, views.KV{Key: n.Status, Value: formatCount(n.N)})
		v.Total += n.N
		if n.Status == store.StatusActive {
			v.Active = n.N
		}
	}
	if len(rows) > adrClientsShown {
		rows = rows[:adrClientsShown]
		v.NextHref = partyPath(p.kind, p.id) + "&after=" + url.QueryEscape(rows[len(rows)-1].ID)
	}
	if after != "" {
		v.FirstHref = partyPath(p.kind, p.id)
	}
	for _, r := range rows {
		v.Clients = append(v.Clients, views.ClientRow{ID: r.ID, Name: r.ClientName, OrgName: r.OrgName, LegalEntityName: r.LegalEntityName,
			SoftwareID: r.SoftwareID, Status: r.Status, RegisterStatus: s.clientRegisterStatus(r.SoftwareID), Source: r.Source, CreatedAt: r.CreatedAt})
	}
	v.BulkRevokeHref = bulkPath(p, dcr.BulkRevoke)
	v.BulkBlockHref = bulkPath(p, dcr.BulkBlock)
	s.render(c, http.StatusOK, views.ADR(v, s.nav(c, "")))
}

func (p party) kindParam() string {
	if p.kind == store.PartyLegalEntity {
		return "legal_entity"
	}
	return "brand"
}

func bulkPath(p party, action string) string {
	return "/console/bulk?" + url.Values{"kind": {p.kind}, "id": {p.id}, "action": {action}}.Encode()
}

// adrProducts are the party's software products with their Register status,
// blocks and links.
func (s *Server) adrProducts(ctx context.Context, p party) ([]views.ADRProduct, error) {
	ids, err := s.partySoftwareIDs(ctx, p.kind, p.id)
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	out := make([]views.ADRProduct, 0, len(ids))
	for _, id := range ids {
		ap := views.ADRProduct{ID: id, Status: clientsRegisterUnknown, Href: registerProductPath(id),
			AttemptsHref: "/console/attempts?" + url.Values{"software_id": {id}}.Encode()}
		if pr, ok := s.register.Product(id); ok {
			ap.Name = pr.SoftwareProductName
			ap.Status, _ = pr.EffectiveStatus()
		}
		b, err := s.db.SoftwareBlock(ctx, id)
		if err != nil {
			return nil, err
		}
		ap.Blocked = b != nil
		out = append(out, ap)
	}
	return out, nil
}

// bulkTarget lists what action would change of p now.
func (s *Server) bulkTarget(ctx context.Context, p party, action string) (dcr.BulkTarget, error) {
	t := dcr.BulkTarget{Kind: p.kind, ID: p.id, Name: p.name}
	var err error
	switch action {
	case dcr.BulkRevoke:
		t.ClientIDs, err = s.registrar.PartyActiveClients(ctx, p.kind, p.id)
	case dcr.BulkBlock:
		var ids []string
		ids, err = s.partySoftwareIDs(ctx, p.kind, p.id)
		for _, id := range ids {
			b, berr := s.db.SoftwareBlock(ctx, id)
			if berr != nil {
				return t, berr
			}
			if b == nil {
				t.SoftwareIDs = append(t.SoftwareIDs, id)
			}
		}
	default:
		err = dcr.ErrBadBulkAction
	}
	return t, err
}

// BulkPage: GET /console/bulk?kind=&id=&action=revoke|block (operator): the
// confirmation, with the count.
func (s *Server) BulkPage(c *gin.Context) {
	s.bulkConfirm(c, c.Query("kind"), c.Query("id"), c.Query("action"), "", "", http.StatusOK)
}

func (s *Server) bulkConfirm(c *gin.Context, kind, id, action, reason, problem string, status int) {
	p, ok := s.readParty(c, kind, id)
	if !ok {
		return
	}
	t, err := s.bulkTarget(c.Request.Context(), p, action)
	if errors.Is(err, dcr.ErrBadBulkAction) {
		s.consoleError(c, http.StatusBadRequest, "Bad link", "A bulk action is revoke or block.")
		return
	}
	if err != nil {
		s.clientsServerError(c, "bulk target", err)
		return
	}
	v := views.BulkView{Kind: p.kind, Label: p.label(), ID: p.id, Name: p.name, Action: action, Reason: reason, Error: problem,
		Count: len(t.ClientIDs), BackHref: partyPath(p.kind, p.id)}
	if action == dcr.BulkBlock {
		v.Count = len(t.SoftwareIDs)
	}
	s.render(c, status, views.Bulk(v, s.nav(c, "")))
}

// Bulk: POST /console/bulk (operator; kind, id, action, reason, confirm = the
// count the confirmation showed).
func (s *Server) Bulk(c *gin.Context) {
	kind, id, action := c.PostForm("kind"), c.PostForm("id"), c.PostForm("action")
	reason := clientsFormText(c, "reason")
	p, ok := s.readParty(c, kind, id)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	t, err := s.bulkTarget(ctx, p, action)
	if errors.Is(err, dcr.ErrBadBulkAction) {
		s.consoleError(c, http.StatusBadRequest, "Bad form", "A bulk action is revoke or block.")
		return
	}
	if err != nil {
		s.clientsServerError(c, "bulk target", err)
		return
	}
	count := len(t.ClientIDs)
	if action == dcr.BulkBlock {
		count = len(t.SoftwareIDs)
	}
	switch {
	case reason == "":
		s.bulkConfirm(c, kind, id, action, reason, "A reason is required: it is recorded with every change.", http.StatusUnprocessableEntity)
		return
	case strings.TrimSpace(c.PostForm("confirm")) != itoa(count):
		s.bulkConfirm(c, kind, id, action, reason, "Type the number shown ("+itoa(count)+") to confirm. If it changed since the page was shown, check it again.", http.StatusUnprocessableEntity)
		return
	case count == 0:
		s.redirectWithFlash(c, partyPath(p.kind, p.id), "Nothing to "+action+": no registration or software product qualifies.", false)
		return
	}
	bulkID, n, err := s.registrar.Bulk(ctx, action, t, s.operatorAction(c, reason))
	done := "revoked " + plural(n, "registration")
	if action == dcr.BulkBlock {
		done = "blocked " + plural(n, "software product")
	}
	if err != nil {
		s.log.Error("console: bulk action", "error", err, "bulk_action_id", bulkID, "done", n, "request_id", c.GetString(requestIDKey))
		s.redirectWithFlash(c, partyPath(p.kind, p.id), "The bulk action stopped on a server error after it "+done+
			"; those changes stand, each in the audit log. Bulk action "+bulkID+".", true)
		return
	}
	s.redirectWithFlash(c, partyPath(p.kind, p.id), strings.ToUpper(done[:1])+done[1:]+" of "+p.label()+" "+p.name+
		" (bulk action "+bulkID+"; each change is its own audit event).", false)
}

func itoa(n int) string { return strconv.Itoa(n) }

func formatCount(n int64) string { return strconv.FormatInt(n, 10) }

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
