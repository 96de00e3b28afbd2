package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/console"
	"github.com/dcrconsole/dcrconsole/store"
)

func TestRegisterPageListsProductsAndRegistrations(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)
	if r := h.register(h.validRequest(t)); r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	body := dashboardGet(t, h, "/console/register", cookie)
	for i, p := range h.eco.Products {
		for _, want := range []string{p.ID, p.Name, h.eco.ADRs[i].LegalEntityName()} {
			if !strings.Contains(body, want) {
				t.Errorf("Register page lacks %q", want)
			}
		}
	}
	// The first product has one active registration, linked to the clients page.
	row := regexp.MustCompile(`<td class="mono id-cell"><span class="mono ident" title="` + h.eco.Products[0].ID + `">.*?</tr>`).FindString(body)
	if !strings.Contains(row, `badge-ok">ACTIVE</span>`) || !strings.Contains(row, `q=`+h.eco.Products[0].ID+`">1</a>`) {
		t.Errorf("first product row: %s", row)
	}
	if !strings.Contains(body, "1 of 3 software products") {
		t.Error("registered count missing")
	}
	// A viewer cannot sync.
	if strings.Contains(body, `action="/console/register/sync"`) {
		t.Error("a viewer is offered Sync now")
	}
}

func TestRegisterPageSyncNow(t *testing.T) {
	h := newHarness(t)
	viewer := h.operator(t, store.RoleViewer)
	op := h.operator(t, store.RoleOperator)
	p := h.eco.Products[2]
	if err := h.eco.Register.SetProductStatus(p.ID, "INACTIVE"); err != nil {
		t.Fatal(err)
	}

	if r := h.console(http.MethodPost, "/console/register/sync", viewer, ""); r.status != http.StatusForbidden {
		t.Fatalf("viewer sync: %d", r.status)
	}
	crossSite := h.do(http.MethodPost, "/console/register/sync", "application/x-www-form-urlencoded", "",
		map[string]string{"Cookie": op, "Sec-Fetch-Site": "cross-site"})
	if crossSite.status != http.StatusForbidden {
		t.Fatalf("cross-site sync: %d", crossSite.status)
	}

	r := h.console(http.MethodPost, "/console/register/sync", op, "")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/register" {
		t.Fatalf("sync: %d %v", r.status, r.header)
	}
	ev := h.lastAudit(t)
	if ev.Type != "operator.sync" || ev.Outcome != "success" || ev.Actor != "user:operator-user" || !strings.Contains(ev.Reason, "3 software products") {
		t.Fatalf("audit: %+v", ev)
	}
	body := registerFollowFlash(t, h, r, op)
	if !strings.Contains(body, "Register synchronised") {
		t.Error("no flash after sync")
	}
	row := regexp.MustCompile(`<td class="mono id-cell"><span class="mono ident" title="` + p.ID + `">.*?</tr>`).FindString(body)
	if !strings.Contains(row, `badge-warn">INACTIVE</span>`) {
		t.Errorf("status change not shown after sync: %s", row)
	}
	if !strings.Contains(body, `action="/console/register/sync"`) {
		t.Error("an operator is not offered Sync now")
	}

	// A failed sync is flashed as an error, audited, and the last good data stays.
	h.eco.Register.SetDown(true)
	r = h.console(http.MethodPost, "/console/register/sync", op, "")
	if r.status != http.StatusSeeOther {
		t.Fatalf("failed sync: %d", r.status)
	}
	ev = h.lastAudit(t)
	if ev.Type != "operator.sync" || ev.Outcome != "error" || !strings.Contains(ev.Reason, "503") {
		t.Fatalf("audit of failed sync: %+v", ev)
	}
	body = registerFollowFlash(t, h, r, op)
	if !strings.Contains(body, "flash-error") || !strings.Contains(body, "Register sync failed") || !strings.Contains(body, p.ID) {
		t.Error("failed sync not explained, or the data is gone")
	}
}

func TestRegisterPageEmptyState(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Register.CheckStatus = false }) // never synced
	cookie := h.operator(t, store.RoleViewer)
	body := dashboardGet(t, h, "/console/register", cookie)
	if !strings.Contains(body, "No Register data yet") || !strings.Contains(body, h.cfg.Register.BaseURI) {
		t.Fatal("empty state does not explain or name the base URI")
	}
}

// registerFollowFlash follows a redirect with the flash cookie it set.
func registerFollowFlash(t *testing.T, h *harness, r response, cookie string) string {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == console.FlashCookie {
			cookie += "; " + console.FlashCookie + "=" + c.Value
		}
	}
	return dashboardGet(t, h, r.header.Get("Location"), cookie)
}
