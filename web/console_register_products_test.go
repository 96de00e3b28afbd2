package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/store"
)

// TestConsoleRegisterProducts: the Register page filters products by name or
// id and effective status; each product's page has its status history and
// links to its clients and attempts.
func TestConsoleRegisterProducts(t *testing.T) {
	h := newHarness(t)
	viewer := h.operator(t, store.RoleViewer)
	for i, name := range []string{"Alpha Budget", "Bravo Savings", "Charlie Tracker"} {
		h.eco.Products[i].Name = name
	}
	if err := h.eco.Register.SetProductStatus(h.eco.Products[1].ID, cdrsim.StatusInactive); err != nil {
		t.Fatal(err)
	}
	if err := h.app.RegisterData.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	p1 := h.eco.Products[1]
	cases := []struct {
		name, query string
		status      int
		shows, not  []string
	}{
		{"no filter", "", http.StatusOK, []string{p1.ID, h.eco.Products[0].ID, h.eco.Products[2].ID}, nil},
		{"software_id part", "q=" + p1.ID[4:14], http.StatusOK, []string{p1.ID}, []string{h.eco.Products[0].ID}},
		{"brand name, any case", "q=" + url.QueryEscape(strings.ToUpper(h.eco.ADRs[2].Name())), http.StatusOK, []string{h.eco.Products[2].ID}, []string{p1.ID}},
		{"status", "status=inactive", http.StatusOK, []string{p1.ID, "1 of 3 software products"}, []string{h.eco.Products[0].ID}},
		{"status and name that do not meet", "status=ACTIVE&q=" + p1.ID, http.StatusOK, []string{"No software product matches"}, []string{p1.ID + "<"}},
		{"too long", "q=" + strings.Repeat("x", 300), http.StatusBadRequest, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.console(http.MethodGet, "/console/register?"+tc.query, viewer, "")
			if r.status != tc.status {
				t.Fatalf("%d, want %d", r.status, tc.status)
			}
			body := html.UnescapeString(string(r.body))
			for _, s := range tc.shows {
				if !strings.Contains(body, s) {
					t.Errorf("lacks %q", s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(body, s) {
					t.Errorf("shows %q", s)
				}
			}
		})
	}

	page := html.UnescapeString(clientsGet(t, h, "/console/register/products/"+p1.ID, viewer))
	for _, want := range []string{"Status history", "effective status ACTIVE → INACTIVE", "product ACTIVE → INACTIVE",
		"first seen, effective status ACTIVE", "/console/clients?q=" + p1.ID, "/console/attempts?software_id=" + p1.ID,
		"/console/adr?id=" + h.eco.ADRs[1].BrandID() + "&kind=brand"} {
		if !strings.Contains(page, want) {
			t.Errorf("product page lacks %q", want)
		}
	}
	if r := h.console(http.MethodGet, "/console/register/products/no-such-product", viewer, ""); r.status != http.StatusNotFound {
		t.Errorf("unknown product: %d", r.status)
	}
}
