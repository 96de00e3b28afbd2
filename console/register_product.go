package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/register"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

// registerStatuses are the effective statuses the Register page filters on.
var registerStatuses = []string{"ACTIVE", "INACTIVE", "SUSPENDED", "REMOVED", "REVOKED", "SURRENDERED", "UNKNOWN"}

// productHistoryShown bounds a product's status history on its page.
const productHistoryShown = 200

// filterRegisterProducts keeps the products whose product, brand or legal
// entity name or id contains f.Query (case-insensitively) and whose effective
// status is f.Status: a scan of the Register data in memory (hundreds of
// products), in its order.
func filterRegisterProducts(all []register.ProductStatus, f views.RegisterFilter) []register.ProductStatus {
	if !f.Filtered() {
		return all
	}
	q := strings.ToLower(f.Query)
	var out []register.ProductStatus
	for _, p := range all {
		if f.Status != "" {
			if eff, _ := p.EffectiveStatus(); eff != f.Status {
				continue
			}
		}
		if q != "" && !strings.Contains(strings.ToLower(strings.Join([]string{p.SoftwareProductName, p.SoftwareProductID,
			p.BrandName, p.BrandID, p.LegalEntityName, p.LegalEntityID}, "\x00")), q) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// RegisterProductPage: GET /console/register/products/:id
func (s *Server) RegisterProductPage(c *gin.Context) {
	id := c.Param("id")
	ctx := c.Request.Context()
	p, known := s.register.Product(id)
	history, err := s.register.StatusHistory(ctx, id, productHistoryShown)
	if err != nil {
		s.clientsServerError(c, "product status history", err)
		return
	}
	if !known && len(history) == 0 {
		s.consoleError(c, http.StatusNotFound, "No such software product",
			"The Register data does not list this software product and no status change of it was recorded. Search the Register page by name.")
		return
	}
	active, err := s.db.ActiveClientIDsForSoftware(ctx, id)
	if err != nil {
		s.clientsServerError(c, "active clients by software", err)
		return
	}
	block, err := s.db.SoftwareBlock(ctx, id)
	if err != nil {
		s.clientsServerError(c, "software block", err)
		return
	}
	v := views.RegisterProductView{ID: id, Known: known, Name: p.SoftwareProductName, Blocked: block != nil,
		ActiveClients: int64(len(active)),
		ClientsHref:   "/console/clients?q=" + url.QueryEscape(id),
		AttemptsHref:  "/console/attempts?" + url.Values{"software_id": {id}}.Encode()}
	if known {
		v.Effective, _ = p.EffectiveStatus()
		v.Levels = []views.RegisterLevel{
			{Level: "Software product", Name: p.SoftwareProductName, ID: p.SoftwareProductID, Status: registerStatusOrUnknown(p.Status)},
			{Level: "Brand", Name: p.BrandName, ID: p.BrandID, Status: registerStatusOrUnknown(p.BrandStatus)},
			{Level: "Legal entity", Name: p.LegalEntityName, ID: p.LegalEntityID, Status: registerStatusOrUnknown(p.LegalEntityStatus)},
		}
		v.BrandHref, v.EntityHref = partyPath(store.PartyBrand, p.BrandID), partyPath(store.PartyLegalEntity, p.LegalEntityID)
	}
	for _, h := range history {
		en := registerEntry(h)
		v.History = append(v.History, views.KV{Key: en.When, Value: strings.TrimPrefix(en.Title, "Register: ") + historyText(en.Text)})
	}
	if v.Name == "" && len(history) > 0 {
		v.Name = history[0].ProductName
	}
	v.HistoryShown = strconv.Itoa(len(history))
	s.render(c, http.StatusOK, views.RegisterProductPage(v, s.nav(c, "register")))
}

func historyText(t string) string {
	if t == "" {
		return ""
	}
	return " (" + t + ")"
}
