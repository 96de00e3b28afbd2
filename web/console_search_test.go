package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// TestConsoleGlobalSearch: the header's search finds every kind of id, whole
// or by prefix, jumps when one thing matches and lists several by kind.
func TestConsoleGlobalSearch(t *testing.T) {
	h := newHarness(t)
	ids := clientsThree(t, h, nil)
	cookie := h.operator(t, store.RoleViewer)
	var created store.AuditEvent
	if err := storetest.Gorm(t, h.db).Where("type = ? AND client_id = ?", store.EventRegistrationCreate, ids[1]).Take(&created).Error; err != nil {
		t.Fatal(err)
	}
	if created.JTI == "" || created.RequestID == "" {
		t.Fatalf("registration event lacks jti or request id: %+v", created)
	}
	event := "/console/audit/" + strconv.FormatInt(created.ID, 10)
	adr, product := h.eco.ADRs[2], h.eco.Products[2]
	cases := []struct {
		name, q  string
		status   int
		location string   // for a 303: where it jumps
		shows    []string // for a 200: on the page
	}{
		{"whole client_id", ids[0], http.StatusSeeOther, "/console/clients/" + ids[0], nil},
		{"client_id prefix", ids[0][:9], http.StatusSeeOther, "/console/clients/" + ids[0], nil},
		{"client_id upper case", strings.ToUpper(ids[0]), http.StatusSeeOther, "/console/clients/" + ids[0], nil},
		{"software_id: the product and its registration", product.ID, http.StatusOK, "", []string{"Software products", "Clients", ids[2]}},
		{"brand id", adr.BrandID(), http.StatusSeeOther, "/console/adr?id=" + url.QueryEscape(adr.BrandID()) + "&kind=brand", nil},
		{"legal entity id prefix", adr.LegalEntityID()[:10], http.StatusSeeOther, "/console/adr?id=" + url.QueryEscape(adr.LegalEntityID()) + "&kind=legal_entity", nil},
		{"legal entity name", adr.LegalEntityName(), http.StatusOK, "", []string{"Legal entities", adr.LegalEntityID()}},
		{"jti", created.JTI, http.StatusSeeOther, event, nil},
		{"request id prefix", created.RequestID[:12], http.StatusSeeOther, event, nil},
		{"nothing", "zz-no-such-thing", http.StatusOK, "", []string{"Nothing matches"}},
		{"empty", "", http.StatusOK, "", []string{"whole or its start"}},
		{"too long", strings.Repeat("a", 201), http.StatusBadRequest, "", []string{"too long"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.console(http.MethodGet, "/console/search?q="+url.QueryEscape(tc.q), cookie, "")
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %.400s", r.status, tc.status, r.body)
			}
			if tc.location != "" && r.header.Get("Location") != tc.location {
				t.Errorf("jumps to %q, want %q", r.header.Get("Location"), tc.location)
			}
			for _, s := range tc.shows {
				if !strings.Contains(string(r.body), s) {
					t.Errorf("page lacks %q", s)
				}
			}
		})
	}
	t.Run("audit event id", func(t *testing.T) {
		r := h.console(http.MethodGet, "/console/search?q="+strconv.FormatInt(created.ID, 10), cookie, "")
		if r.header.Get("Location") != event && !strings.Contains(string(r.body), `href="`+event+`"`) {
			t.Errorf("event %d not found: %d %s %.300s", created.ID, r.status, r.header.Get("Location"), r.body)
		}
	})
	t.Run("every page has the search box", func(t *testing.T) {
		if body := clientsGet(t, h, "/console/clients", cookie); !strings.Contains(body, `action="/console/search"`) {
			t.Error("no search form in the header")
		}
	})
	t.Run("signed out", func(t *testing.T) {
		if r := h.console(http.MethodGet, "/console/search?q=x", "", ""); r.status != http.StatusSeeOther && r.status != http.StatusFound {
			t.Errorf("signed out: %d", r.status)
		}
	})
}
