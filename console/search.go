package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

// The header's global search: one box for any client_id, software_id, brand
// or legal entity (name or id), jti, request id or audit event id, whole or a
// prefix. Every lookup is bounded and indexed: client ids, software_ids and
// name words through client_search (prefix ranges), brand and legal entity
// ids through idx_clients_org and idx_clients_legal_entity, jti and request id
// through idx_audit_jti and idx_audit_request_id, event ids by primary key,
// and the Register's products, brands and legal entities in memory.

const (
	searchMaxQuery = 200 // bytes of a query; longer is refused
	searchPerKind  = 10  // results shown per kind
)

// Search kinds, in the order the results page lists them.
const (
	kindClient      = "Clients"
	kindProduct     = "Software products"
	kindBrand       = "Brands"
	kindLegalEntity = "Legal entities"
	kindEvent       = "Audit events"
	kindRequest     = "Request ids"
	kindJTI         = "jti"
)

var searchKinds = []string{kindClient, kindProduct, kindBrand, kindLegalEntity, kindEvent, kindRequest, kindJTI}

// searchResults collects results by kind, without duplicates, at most
// searchPerKind each (More says some were left out).
type searchResults struct {
	groups map[string]*views.SearchGroup
	seen   map[string]bool
}

func newSearchResults() *searchResults {
	return &searchResults{groups: map[string]*views.SearchGroup{}, seen: map[string]bool{}}
}

func (r *searchResults) add(kind string, it views.SearchItem) {
	if r.seen[kind+"\x00"+it.Href] {
		return
	}
	r.seen[kind+"\x00"+it.Href] = true
	g := r.groups[kind]
	if g == nil {
		g = &views.SearchGroup{Kind: kind}
		r.groups[kind] = g
	}
	if len(g.Items) >= searchPerKind {
		g.More = true
		return
	}
	g.Items = append(g.Items, it)
}

func (r *searchResults) list() (out []views.SearchGroup, total int) {
	for _, k := range searchKinds {
		if g := r.groups[k]; g != nil {
			out = append(out, *g)
			total += len(g.Items)
			if g.More {
				total++ // more than shown: never a single match
			}
		}
	}
	return out, total
}

// Search: GET /console/search?q=...
func (s *Server) Search(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	v := views.SearchView{Query: q}
	switch {
	case q == "":
		s.render(c, http.StatusOK, views.Search(v, s.nav(c, "")))
		return
	case len(q) > searchMaxQuery:
		v.Error = "That is too long to search for: at most 200 characters."
		s.render(c, http.StatusBadRequest, views.Search(v, s.nav(c, "")))
		return
	}
	res, err := s.search(c.Request.Context(), q)
	if err != nil {
		s.clientsServerError(c, "global search", err)
		return
	}
	var total int
	v.Groups, total = res.list()
	if total == 1 {
		c.Redirect(http.StatusSeeOther, v.Groups[0].Items[0].Href)
		return
	}
	s.render(c, http.StatusOK, views.Search(v, s.nav(c, "")))
}

// search runs every lookup of q.
func (s *Server) search(ctx context.Context, q string) (*searchResults, error) {
	res := newSearchResults()
	if err := s.searchEvents(ctx, q, res); err != nil {
		return nil, err
	}
	if err := s.searchClients(ctx, q, res); err != nil {
		return nil, err
	}
	s.searchRegister(strings.ToLower(q), res)
	if err := s.searchParties(ctx, q, res); err != nil {
		return nil, err
	}
	return res, nil
}

// searchEvents looks q up as an audit event id, a jti and a request id.
func (s *Server) searchEvents(ctx context.Context, q string, res *searchResults) error {
	if id, err := strconv.ParseInt(q, 10, 64); err == nil && id > 0 {
		e, err := s.audit.Get(ctx, id)
		if err == nil {
			res.add(kindEvent, eventItem(e, "event "+q))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	byJTI, err := s.audit.ByJTIPrefix(ctx, q, searchPerKind+1)
	if err != nil {
		return err
	}
	for i := range byJTI {
		res.add(kindJTI, eventItem(&byJTI[i], "jti "+byJTI[i].JTI))
	}
	byReq, err := s.audit.ByRequestIDPrefix(ctx, q, searchPerKind+1)
	if err != nil {
		return err
	}
	for i := range byReq {
		res.add(kindRequest, eventItem(&byReq[i], "request "+byReq[i].RequestID))
	}
	return nil
}

// eventItem links an event: to its attempt page when it is one.
func eventItem(e *store.AuditEvent, label string) views.SearchItem {
	id := strconv.FormatInt(e.ID, 10)
	href := "/console/audit/" + id
	if audit.IsAttempt(e) {
		href = "/console/attempts/" + id
	}
	detail := views.When(e.Time) + " · " + string(e.Type) + " · " + string(e.Outcome)
	if e.ClientID != "" {
		detail += " · client " + e.ClientID
	}
	return views.SearchItem{Label: label + " (event " + id + ")", Detail: detail, Href: href}
}

// searchClients finds clients by id, software_id or a word of their names
// (the client list's own search).
func (s *Server) searchClients(ctx context.Context, q string, res *searchResults) error {
	rows, _, err := s.db.ListClients(ctx, store.ClientFilter{Query: q, Limit: searchPerKind + 1})
	if err != nil {
		return err
	}
	for _, r := range rows {
		res.add(kindClient, views.SearchItem{Label: r.ClientName, Detail: r.ID + " · " + r.Status + " · " + r.OrgName,
			Href: views.ClientPath(r.ID)})
		lq := strings.ToLower(q)
		if strings.HasPrefix(strings.ToLower(r.SoftwareID), lq) {
			if _, known := s.register.Product(r.SoftwareID); !known {
				res.add(kindProduct, views.SearchItem{Label: r.SoftwareID, Detail: "not in the Register data; its registrations",
					Href: "/console/clients?q=" + url.QueryEscape(r.SoftwareID)})
			}
		}
	}
	return nil
}

// searchRegister finds products, brands and legal entities of the Register
// data (in memory, hundreds of products) by id prefix or name substring.
func (s *Server) searchRegister(lq string, res *searchResults) {
	match := func(id, name string) bool {
		return strings.HasPrefix(strings.ToLower(id), lq) || strings.Contains(strings.ToLower(name), lq)
	}
	for _, p := range s.register.Products() {
		if match(p.SoftwareProductID, p.SoftwareProductName) {
			eff, _ := p.EffectiveStatus()
			res.add(kindProduct, views.SearchItem{Label: p.SoftwareProductName, Detail: p.SoftwareProductID + " · " + eff + " · " + p.BrandName,
				Href: registerProductPath(p.SoftwareProductID)})
		}
		if match(p.BrandID, p.BrandName) {
			res.add(kindBrand, partyItem(store.PartyBrand, p.BrandID, p.BrandName, p.BrandStatus))
		}
		if match(p.LegalEntityID, p.LegalEntityName) {
			res.add(kindLegalEntity, partyItem(store.PartyLegalEntity, p.LegalEntityID, p.LegalEntityName, p.LegalEntityStatus))
		}
	}
}

// searchParties finds brands and legal entities that registered here by id
// prefix, whether or not the Register data still lists them.
func (s *Server) searchParties(ctx context.Context, q string, res *searchResults) error {
	for _, kind := range []string{store.PartyBrand, store.PartyLegalEntity} {
		parties, err := s.db.PartiesByIDPrefix(ctx, kind, q, searchPerKind+1)
		if err != nil {
			return err
		}
		group := kindBrand
		if kind == store.PartyLegalEntity {
			group = kindLegalEntity
		}
		for _, p := range parties {
			res.add(group, partyItem(kind, p.ID, p.Name, ""))
		}
	}
	return nil
}

func partyItem(kind, id, name, status string) views.SearchItem {
	detail := id
	if status != "" {
		detail += " · " + status + " at the Register"
	}
	return views.SearchItem{Label: name, Detail: detail, Href: partyPath(kind, id)}
}

// partyPath is the per-ADR page of a brand or legal entity.
func partyPath(kind, id string) string {
	return "/console/adr?" + url.Values{"kind": {kind}, "id": {id}}.Encode()
}

// registerProductPath is a software product's page on the Register section.
func registerProductPath(id string) string {
	return "/console/register/products/" + url.PathEscape(id)
}
