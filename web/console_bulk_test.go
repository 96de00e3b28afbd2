package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// bulkHarness has four registrations of the first ADR's brand (duplicates
// allowed) and one of the second's; it returns the harness and their ids.
func bulkHarness(t *testing.T) (*harness, []string, string) {
	h := newHarness(t, func(c *config.Config) { c.Holder.AllowDuplicateRegistrations = true })
	var ids []string
	for range 3 {
		ids = append(ids, h.registered(t))
	}
	three := clientsThree(t, h, nil) // the first is the same brand's again
	return h, append(ids, three[0]), three[1]
}

func bulkForm(kind, id, action, reason, confirm string) string {
	return url.Values{"kind": {kind}, "id": {id}, "action": {action}, "reason": {reason}, "confirm": {confirm}}.Encode()
}

// TestConsoleBulkRevoke: a brand's active registrations revoked with one
// reason after a confirmation with the count, each its own audit event linked
// to the bulk action; another brand's untouched.
func TestConsoleBulkRevoke(t *testing.T) {
	h, ids, other := bulkHarness(t)
	brand := h.eco.ADRs[0].BrandID()
	viewer, op := h.operator(t, store.RoleViewer), h.operator(t, store.RoleOperator)

	page := clientsGet(t, h, "/console/adr?kind=brand&id="+url.QueryEscape(brand), viewer)
	for _, id := range ids {
		if !strings.Contains(page, id) {
			t.Errorf("ADR page lacks client %s", id)
		}
	}
	if strings.Contains(page, "/console/bulk?") {
		t.Error("a viewer is offered bulk actions")
	}
	if r := h.console(http.MethodGet, "/console/bulk?kind=brand&action=revoke&id="+url.QueryEscape(brand), viewer, ""); r.status != http.StatusForbidden {
		t.Errorf("viewer confirmation page: %d", r.status)
	}
	confirm := clientsGet(t, h, "/console/bulk?kind=brand&action=revoke&id="+url.QueryEscape(brand), op)
	if !strings.Contains(confirm, "<strong>4</strong> active registrations will be revoked") {
		t.Fatalf("confirmation lacks the count: %s", confirm)
	}
	refusals := []struct {
		name, form string
		status     int
		shows      string
	}{
		{"no reason", bulkForm("brand", brand, "revoke", "", "4"), http.StatusUnprocessableEntity, "A reason is required"},
		{"wrong count, reason kept", bulkForm("brand", brand, "revoke", "ADR compromised", "3"), http.StatusUnprocessableEntity, "ADR compromised</textarea>"},
		{"bad action", bulkForm("brand", brand, "delete", "x", "3"), http.StatusBadRequest, "revoke or block"},
		{"bad kind", bulkForm("org", brand, "revoke", "x", "3"), http.StatusBadRequest, "kind=brand"},
		{"no id", bulkForm("brand", "", "revoke", "x", "3"), http.StatusBadRequest, "kind=brand"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			r := h.console(http.MethodPost, "/console/bulk", op, tc.form)
			if r.status != tc.status || !strings.Contains(string(r.body), tc.shows) {
				t.Errorf("%d, want %d with %q: %.300s", r.status, tc.status, tc.shows, r.body)
			}
		})
	}
	cross := h.do(http.MethodPost, "/console/bulk", "application/x-www-form-urlencoded", bulkForm("brand", brand, "revoke", "x", "3"),
		map[string]string{"Cookie": op, "Sec-Fetch-Site": "cross-site"})
	if cross.status != http.StatusForbidden {
		t.Errorf("cross-site POST: %d", cross.status)
	}
	if r := h.console(http.MethodPost, "/console/bulk", viewer, bulkForm("brand", brand, "revoke", "x", "3")); r.status != http.StatusForbidden {
		t.Errorf("viewer POST: %d", r.status)
	}
	if n := activeOf(t, h, ids...); n != 4 {
		t.Fatalf("refused forms changed something: %d active", n)
	}

	r := h.console(http.MethodPost, "/console/bulk", op, bulkForm("brand", brand, "revoke", "ADR compromised", "4"))
	if r.status != http.StatusSeeOther {
		t.Fatalf("bulk revoke: %d %s", r.status, r.body)
	}
	if n := activeOf(t, h, ids...); n != 0 {
		t.Errorf("%d still active", n)
	}
	if n := activeOf(t, h, other); n != 1 {
		t.Error("another brand's registration was revoked")
	}
	var summary store.AuditEvent
	g := storetest.Gorm(t, h.db)
	if err := g.Where("type = ?", store.EventOperatorBulk).Take(&summary).Error; err != nil {
		t.Fatal(err)
	}
	var sd struct {
		BulkID string `json:"bulk_action_id"`
		Count  int    `json:"count"`
	}
	_ = json.Unmarshal([]byte(summary.Data), &sd)
	if sd.BulkID == "" || sd.Count != 4 || summary.Actor != "user:operator-user" || !strings.Contains(summary.Reason, "ADR compromised") {
		t.Errorf("summary event %+v", summary)
	}
	var events []store.AuditEvent
	g.Where("type = ? AND data LIKE ?", store.EventClientStatus, "%"+sd.BulkID+"%").Find(&events)
	if len(events) != 4 {
		t.Fatalf("%d linked revocation events, want 4", len(events))
	}
	for _, e := range events {
		if e.Actor != "user:operator-user" || !strings.HasSuffix(e.Reason, "ADR compromised") || e.ClientID == "" {
			t.Errorf("revocation event %+v", e)
		}
	}
}

// TestConsoleBulkBlock: a legal entity's software products blocked, each its
// own operator.block event linked to the bulk action.
func TestConsoleBulkBlock(t *testing.T) {
	h, _, _ := bulkHarness(t)
	op := h.operator(t, store.RoleOperator)
	le := h.eco.ADRs[1].LegalEntityID()
	if body := clientsGet(t, h, "/console/bulk?kind=legal_entity&action=block&id="+url.QueryEscape(le), op); !strings.Contains(body, "<strong>1</strong> software products will be blocked") {
		t.Fatalf("confirmation: %s", body)
	}
	if r := h.console(http.MethodPost, "/console/bulk", op, bulkForm("legal_entity", le, "block", "fraud report 123", "1")); r.status != http.StatusSeeOther {
		t.Fatalf("bulk block: %d %s", r.status, r.body)
	}
	b, err := h.db.SoftwareBlock(t.Context(), h.eco.Products[1].ID)
	if err != nil || b == nil || b.Reason != "fraud report 123" {
		t.Fatalf("not blocked: %+v %v", b, err)
	}
	if ev := h.lastAudit(t); ev.Type != store.EventOperatorBlock || !strings.Contains(ev.Data, "bulk_action_id") {
		t.Errorf("block event %+v", ev)
	}
	if body := clientsGet(t, h, "/console/bulk?kind=legal_entity&action=block&id="+url.QueryEscape(le), op); !strings.Contains(body, "There is nothing to do") {
		t.Error("an already blocked product is counted again")
	}
}

// activeOf counts the active clients among ids.
func activeOf(t *testing.T, h *harness, ids ...string) int {
	t.Helper()
	var n int64
	storetest.Gorm(t, h.db).Model(&store.Client{}).Where("id IN ? AND status = ?", ids, store.StatusActive).Count(&n)
	return int(n)
}
