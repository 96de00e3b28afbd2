package web

import (
	"encoding/csv"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/console"
	"github.com/dcrconsole/dcrconsole/store"
)

var clientsProductNames = []string{"Alpha Budget", "Bravo Savings", "Charlie Tracker"}

// clientsThree registers one client per simulated ADR, named after names
// (clientsProductNames when nil), in that order; it returns their client_ids.
func clientsThree(t *testing.T, h *harness, names []string) []string {
	t.Helper()
	if names == nil {
		names = clientsProductNames
	}
	var ids []string
	for i, name := range names {
		h.eco.Products[i].Name = name // the SSA's client_name
		r := h.register(h.requestFor(t, h.eco.ADRs[i], h.eco.Products[i], jwa.PS256, nil))
		if r.status != http.StatusCreated {
			t.Fatalf("register %s: %d %s", name, r.status, r.body)
		}
		ids = append(ids, r.json["client_id"].(string))
	}
	return ids
}

// clientsGet fetches a console page and fails unless it answers 200.
func clientsGet(t *testing.T, h *harness, path, cookie string) string {
	t.Helper()
	r := h.console(http.MethodGet, path, cookie, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	return string(r.body)
}

// clientsShows checks which of clientsProductNames a page lists.
func clientsShows(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, name := range clientsProductNames {
		shown, wanted := strings.Contains(body, name), false
		for _, w := range want {
			wanted = wanted || w == name
		}
		if shown != wanted {
			t.Errorf("%s shown=%v, want %v", name, shown, wanted)
		}
	}
}

func TestConsoleClientsListSearchAndFilters(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)
	if body := clientsGet(t, h, "/console/clients", cookie); !strings.Contains(body, "No client has registered yet") {
		t.Fatal("no empty state")
	}
	ids := clientsThree(t, h, nil)

	body := clientsGet(t, h, "/console/clients", cookie)
	clientsShows(t, body, clientsProductNames...)
	if !strings.Contains(body, "(3)") || !strings.Contains(body, h.eco.Products[0].ID) {
		t.Error("count or software_id missing")
	}
	cases := []struct {
		name, query string
		want        []string
	}{
		{"name word prefix", "q=alph", []string{"Alpha Budget"}},
		{"second name word", "q=SAV", []string{"Bravo Savings"}},
		{"brand name", "q=simulated+adr", clientsProductNames},
		{"legal entity", "q=pty", clientsProductNames},
		{"two words", "q=charlie+track", []string{"Charlie Tracker"}},
		{"software_id prefix", "q=" + h.eco.Products[1].ID[:8], []string{"Bravo Savings"}},
		{"client_id", "q=" + ids[2], []string{"Charlie Tracker"}},
		{"no match", "q=zzz", nil},
		{"status active", "status=active", clientsProductNames},
		{"status revoked", "status=revoked", nil},
		{"source register", "source=register", clientsProductNames},
		{"source api", "source=api", nil},
		{"unknown status ignored", "status=bogus", clientsProductNames},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := clientsGet(t, h, "/console/clients?"+tc.query, cookie)
			clientsShows(t, body, tc.want...)
			if len(tc.want) == 0 && !strings.Contains(body, "No clients match") {
				t.Error("no empty state for a filtered list")
			}
		})
	}

	// Register status: the Register makes Charlie's product INACTIVE.
	if err := h.eco.Register.SetProductStatus(h.eco.Products[2].ID, cdrsim.StatusInactive); err != nil {
		t.Fatal(err)
	}
	if err := h.app.RegisterData.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	body = clientsGet(t, h, "/console/clients?reg=INACTIVE", cookie)
	clientsShows(t, body, "Charlie Tracker")
	if !strings.Contains(body, "(1)") || !strings.Contains(body, ">INACTIVE<") {
		t.Error("INACTIVE count or badge missing")
	}
	clientsShows(t, clientsGet(t, h, "/console/clients?reg=ACTIVE", cookie), "Alpha Budget", "Bravo Savings")
	clientsShows(t, clientsGet(t, h, "/console/clients?reg=REMOVED", cookie))
	clientsShows(t, clientsGet(t, h, "/console/clients?reg=unknown", cookie))
	// A product gone from the Register is "unknown" (its clients may be marked removed).
	h.eco.Register.RemoveProduct(h.eco.Products[1].ID)
	if err := h.app.RegisterData.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	clientsShows(t, clientsGet(t, h, "/console/clients?reg=unknown", cookie), "Bravo Savings")
	clientsShows(t, clientsGet(t, h, "/console/clients?reg=ACTIVE", cookie), "Alpha Budget")

	if r := h.console(http.MethodGet, "/console/clients?after=garbage", cookie, ""); r.status != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", r.status)
	}
}

var clientsNextLink = regexp.MustCompile(`href="(/console/clients\?[^"]*)" rel="next"`)

func TestConsoleClientsSortAndPagination(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)
	clientsThree(t, h, nil)

	order := func(body string, names ...string) {
		t.Helper()
		last := -1
		for _, n := range names {
			i := strings.Index(body, n)
			if i < last {
				t.Errorf("%s out of order in %v", n, names)
			}
			last = i
		}
	}
	order(clientsGet(t, h, "/console/clients", cookie), "Charlie Tracker", "Bravo Savings", "Alpha Budget") // newest first
	order(clientsGet(t, h, "/console/clients?sort=created&dir=asc", cookie), "Alpha Budget", "Bravo Savings", "Charlie Tracker")
	order(clientsGet(t, h, "/console/clients?sort=name&dir=desc", cookie), "Charlie Tracker", "Bravo Savings", "Alpha Budget")
	order(clientsGet(t, h, "/console/clients?sort=org&dir=asc", cookie), "Alpha Budget", "Bravo Savings", "Charlie Tracker")

	// Newest first, one per page, following the next links to the end.
	var seen []string
	for next := "/console/clients?limit=1"; next != ""; {
		body := clientsGet(t, h, next, cookie)
		for _, n := range clientsProductNames {
			if strings.Contains(body, n) {
				seen = append(seen, n)
			}
		}
		next = ""
		if m := clientsNextLink.FindStringSubmatch(body); m != nil {
			next = html.UnescapeString(m[1])
		}
	}
	if strings.Join(seen, ",") != "Charlie Tracker,Bravo Savings,Alpha Budget" {
		t.Errorf("pages by creation: %v", seen)
	}

	page1 := clientsGet(t, h, "/console/clients?sort=name&dir=asc&limit=2&q=simulated", cookie)
	clientsShows(t, page1, "Alpha Budget", "Bravo Savings")
	if !strings.Contains(page1, "(3)") || strings.Contains(page1, "First page") {
		t.Error("page 1: total or a first-page link")
	}
	m := clientsNextLink.FindStringSubmatch(page1)
	if m == nil {
		t.Fatal("no next link")
	}
	next := html.UnescapeString(m[1])
	u, _ := url.Parse(next)
	if q := u.Query(); q.Get("sort") != "name" || q.Get("dir") != "asc" || q.Get("limit") != "2" || q.Get("q") != "simulated" || q.Get("after") == "" {
		t.Fatalf("next link lost the filters: %s", next)
	}
	page2 := clientsGet(t, h, next, cookie)
	clientsShows(t, page2, "Charlie Tracker")
	if clientsNextLink.MatchString(page2) || !strings.Contains(page2, "First page") {
		t.Error("page 2: a next link, or no first-page link")
	}
	if !strings.Contains(page2, `href="/console/clients?dir=asc&amp;limit=2&amp;q=simulated&amp;sort=name"`) {
		t.Error("first-page link does not keep the filters")
	}
}

func TestConsoleClientsCSVExport(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)
	names := append([]string{}, clientsProductNames[:2]...)
	ids := clientsThree(t, h, append(names, `=HYPERLINK("https://evil.example")`))

	r := h.console(http.MethodGet, "/console/clients.csv?sort=created&dir=asc&status=active", cookie, "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("%d %v", r.status, r.header)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(console.ClientsCSVHeader, ",") {
		t.Fatalf("rows: %v", rows)
	}
	for i, id := range ids[:2] {
		row := rows[i+1]
		if row[0] != id || row[1] != clientsProductNames[i] || row[2] != h.eco.Products[i].ID || row[7] != "active" ||
			row[8] != "register" || row[9] != "ACTIVE" || row[10] == "" {
			t.Errorf("row %d: %v", i, row)
		}
	}
	if rows[3][1] != `'=HYPERLINK("https://evil.example")` {
		t.Errorf("formula not defused: %q", rows[3][1])
	}
	ev := h.lastAudit(t)
	if ev.Type != "operator.export" || ev.Actor != "user:viewer-user" || !strings.Contains(ev.Reason, "status=active") {
		t.Errorf("audit: %+v", ev)
	}

	r = h.console(http.MethodGet, "/console/clients.csv?q=alpha", cookie, "")
	if rows, _ := csv.NewReader(strings.NewReader(string(r.body))).ReadAll(); len(rows) != 2 || rows[1][0] != ids[0] {
		t.Errorf("filtered export: %v", rows)
	}
}
