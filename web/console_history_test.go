package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// TestConsoleClientHistory: the client page's timeline shows the
// registration, an update field by field, tokens per day, a revocation and a
// restore with who and why, a Register status change and an operator's note.
func TestConsoleClientHistory(t *testing.T) {
	h := newHarness(t)
	adr, p := h.eco.ADRs[0], h.eco.Products[0]
	id := h.registered(t)
	tok := h.accessToken(t, id)
	body := h.requestFor(t, adr, p, jwa.PS256, func(c map[string]any) { c["redirect_uris"] = []any{adr.RedirectURI(2)} })
	if r := h.do(http.MethodPut, "/register/"+id, "application/jwt", body, bearer(tok)); r.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	op := h.operator(t, store.RoleOperator)
	page := "/console/clients/" + id
	if r := h.console(http.MethodPost, page+"/revoke", op, "reason=key+leak+suspected&confirm="+id); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	if r := h.console(http.MethodPost, page+"/restore", op, "reason=keys+rotated"); r.status != http.StatusSeeOther {
		t.Fatalf("restore: %d", r.status)
	}
	if err := h.eco.Register.SetProductStatus(p.ID, cdrsim.StatusInactive); err != nil {
		t.Fatal(err)
	}
	if err := h.app.RegisterData.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	note := url.Values{"note": {"ADR asked <why> by email"}, "ticket": {"INC-4711"}}.Encode()
	if r := h.console(http.MethodPost, page+"/notes", op, note); r.status != http.StatusSeeOther {
		t.Fatalf("note: %d %s", r.status, r.body)
	}

	got := html.UnescapeString(clientsGet(t, h, page, op))
	for _, want := range []string{
		"Registered", "Registration updated (PUT)", "redirect_uris", adr.RedirectURI(2), "a new software statement",
		"Revoked", "key leak suspected", "Restored", "keys rotated", "by user:operator-user",
		"Register: effective status ACTIVE → INACTIVE", "product ACTIVE → INACTIVE",
		"ADR asked <why> by email", "INC-4711", "Tokens issued per day",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	if i := strings.Index(got, "Tokens issued per day"); i < 0 || !regexp.MustCompile(`<dd[^>]*>\s*1\s*</dd>`).MatchString(got[i:]) {
		t.Errorf("one token today is not counted:\n%s", got[max(i, 0):min(max(i, 0)+1500, len(got))])
	}
	var ev store.AuditEvent
	if err := storetest.Gorm(t, h.db).Where("type = ?", store.EventOperatorClientNote).Take(&ev).Error; err != nil {
		t.Fatalf("note not audited: %v", err)
	}
	if ev.ClientID != id || !strings.Contains(ev.Data, "INC-4711") || ev.Actor != "user:operator-user" {
		t.Errorf("note event %+v", ev)
	}

	refusals := []struct {
		name, role, form string
		status           int
	}{
		{"viewer", store.RoleViewer, "note=x", http.StatusForbidden},
		{"empty note", "", "note=+", http.StatusSeeOther},
		{"note too long", "", "note=" + strings.Repeat("x", 2001), http.StatusSeeOther},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			cookie := op
			if tc.role != "" {
				cookie = h.operator(t, tc.role)
			}
			before := countNotes(t, h)
			if r := h.console(http.MethodPost, page+"/notes", cookie, tc.form); r.status != tc.status {
				t.Errorf("%d, want %d", r.status, tc.status)
			}
			if countNotes(t, h) != before {
				t.Error("a refused note was stored")
			}
		})
	}
	if body := clientsGet(t, h, page, h.operator(t, "admin")); !strings.Contains(body, page+"/notes") {
		t.Error("an admin has no notes form")
	}
}

func countNotes(t *testing.T, h *harness) int64 {
	var n int64
	storetest.Gorm(t, h.db).Model(&store.ClientNote{}).Count(&n)
	return n
}
