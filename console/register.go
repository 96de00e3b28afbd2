package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/register"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

// registerSyncTimeout bounds a sync an operator asked for; the fetcher's own
// timeout bounds each of its three requests.
const registerSyncTimeout = 30 * time.Second

// RegisterPage is GET /console/register: the Register's legal entities, brands
// and software products with their statuses, and which are registered here.
func (s *Server) RegisterPage(c *gin.Context) {
	v := views.RegisterView{
		Health:   s.registerHealth(),
		BaseURI:  s.cfg.Register.BaseURI,
		Industry: s.cfg.Register.Industry,
	}
	v.Filter = views.RegisterFilter{Query: strings.TrimSpace(c.Query("q")), Status: strings.ToUpper(strings.TrimSpace(c.Query("status")))}
	if len(v.Filter.Query) > maxFilterValue || len(v.Filter.Status) > maxFilterValue {
		s.consoleError(c, http.StatusBadRequest, "Bad filter", "A filter value is too long. Go back to the Register page and correct it.")
		return
	}
	v.Statuses = registerStatuses
	products := filterRegisterProducts(s.register.Products(), v.Filter)
	v.Shown, v.RegisteredOf = len(products), v.Health.Products
	active, err := s.activeCounts(c.Request.Context(), products, v.Filter.Filtered())
	if err != nil {
		s.log.Error("console: active clients by software", "error", err, "request_id", c.GetString(requestIDKey))
		s.consoleError(c, http.StatusInternalServerError, "Something went wrong", "The Register page could not be loaded. Try again.")
		return
	}
	if v.Filter.Filtered() {
		v.RegisteredOf = len(products) // the counts are of the products shown
	}
	v.Entities, v.Registered = groupRegisterProducts(products, active)
	for _, n := range active {
		v.ActiveTotal += n
	}
	s.render(c, http.StatusOK, views.Register(v, s.nav(c, "register")))
}

// registerCountEach is how many filtered products are counted one by one (an
// index lookup each) rather than by the aggregate over every client.
const registerCountEach = 500

// activeCounts are the active registrations per software product (lower-case
// id): of the products shown when a filter keeps few, else of all.
func (s *Server) activeCounts(ctx context.Context, products []register.ProductStatus, filtered bool) (map[string]int64, error) {
	if !filtered || len(products) > registerCountEach {
		return s.db.ActiveClientsBySoftware(ctx)
	}
	out := make(map[string]int64, len(products))
	for _, p := range products {
		ids, err := s.db.ActiveClientIDsForSoftware(ctx, p.SoftwareProductID)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			out[strings.ToLower(p.SoftwareProductID)] = int64(len(ids))
		}
	}
	return out, nil
}

// groupRegisterProducts nests the products (sorted by legal entity, brand and
// product name) under their legal entity and brand, keeping that order, and
// counts the products with an active registration here.
func groupRegisterProducts(products []register.ProductStatus, active map[string]int64) ([]views.RegisterEntity, int) {
	var out []views.RegisterEntity
	entityAt := map[string]int{}
	brandAt := map[string]int{}
	registered := 0
	for _, p := range products {
		ei, ok := entityAt[p.LegalEntityID]
		if !ok {
			ei = len(out)
			entityAt[p.LegalEntityID] = ei
			out = append(out, views.RegisterEntity{ID: p.LegalEntityID, Name: p.LegalEntityName, Status: registerStatusOrUnknown(p.LegalEntityStatus),
				Href: partyPath(store.PartyLegalEntity, p.LegalEntityID)})
		}
		le := &out[ei]
		bi, ok := brandAt[p.LegalEntityID+"\x00"+p.BrandID]
		if !ok {
			bi = len(le.Brands)
			brandAt[p.LegalEntityID+"\x00"+p.BrandID] = bi
			le.Brands = append(le.Brands, views.RegisterBrand{ID: p.BrandID, Name: p.BrandName, Status: registerStatusOrUnknown(p.BrandStatus),
				Href: partyPath(store.PartyBrand, p.BrandID)})
		}
		effective, _ := p.EffectiveStatus()
		n := active[strings.ToLower(p.SoftwareProductID)]
		if n > 0 {
			registered++
		}
		le.Brands[bi].Products = append(le.Brands[bi].Products, views.RegisterProduct{
			ID: p.SoftwareProductID, Name: p.SoftwareProductName, Status: registerStatusOrUnknown(p.Status),
			Effective: effective, ActiveClients: n,
			ClientsHref: "/console/clients?status=active&q=" + url.QueryEscape(p.SoftwareProductID),
			Href:        registerProductPath(p.SoftwareProductID),
		})
	}
	return out, registered
}

func registerStatusOrUnknown(s string) string {
	if s == "" {
		return "UNKNOWN"
	}
	return s
}

// registerHealth is the sync health as operators see it. The data is stale when
// the last good sync is older than two refresh intervals, or there never was one.
func (s *Server) registerHealth() views.RegisterHealth {
	h := s.register.Health()
	interval := s.cfg.Register.RefreshInterval.Duration
	v := views.RegisterHealth{
		Status: "ok", Now: time.Now(),
		LastSuccess: h.LastSuccess, LastAttempt: h.LastAttempt, LastError: h.LastError, LastErrorAt: h.LastErrorAt,
		ConsecutiveFails: h.ConsecutiveFails, RefreshInterval: interval.String(),
		Products: h.Products, Brands: h.Brands, LegalEntities: h.LegalEntities,
	}
	switch {
	case h.LastSuccess.IsZero() || h.DataAge > 2*interval:
		v.Status = "stale"
	case h.ConsecutiveFails > 0:
		v.Status = "error"
	}
	return v
}

// SyncRegister is POST /console/register/sync (operator): sync the Register
// data now, audited as operator.sync.
func (s *Server) SyncRegister(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), registerSyncTimeout)
	defer cancel()
	start := time.Now()
	err := s.register.Sync(ctx)
	ev := operatorEvent(c, store.EventOperatorSync, "")
	ev.DurationUS = time.Since(start).Microseconds()
	h := s.register.Health()
	counts := fmt.Sprintf("%d legal entities, %d brands, %d software products", h.LegalEntities, h.Brands, h.Products)
	ev.Reason = "register sync: " + counts
	msg := "Register synchronised: " + counts + "."
	if err != nil {
		ev.Outcome, ev.Reason = store.OutcomeError, err.Error()
		msg = "Register sync failed; the last good data stays in use: " + err.Error()
	}
	// The audit record must survive a client that went away mid-sync.
	if aerr := s.audit.Record(context.WithoutCancel(c.Request.Context()), ev); aerr != nil {
		s.log.Error("console: audit operator.sync", "error", aerr, "request_id", c.GetString(requestIDKey))
	}
	s.redirectWithFlash(c, "/console/register", msg, err != nil)
}
