package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
)

// pageBody GETs a console page and fails on anything but 200.
func pageBody(t *testing.T, h *harness, path, cookie string) string {
	t.Helper()
	r := h.console(http.MethodGet, path, cookie, "")
	if r.status != http.StatusOK {
		t.Fatalf("%s: %d %.300s", path, r.status, r.body)
	}
	return string(r.body)
}

var nextHref = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

// followNext follows the page's "Next page" link.
func followNext(t *testing.T, h *harness, body, cookie string) string {
	t.Helper()
	m := nextHref.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no next page link")
	}
	return pageBody(t, h, strings.ReplaceAll(m[1], "&amp;", "&"), cookie)
}

func TestConsoleListsShowPositionAndPageSize(t *testing.T) {
	h := newHarness(t)
	seedRealData(t, h) // 131 clients, 15 rejected attempts
	cookie := h.operator(t, store.RoleViewer)

	for _, tc := range []struct {
		name, path, first, second string
	}{
		{"clients", "/console/clients", "1–50 of 131", "51–100 of 131"},
		{"clients by 25", "/console/clients?limit=25", "1–25 of 131", "26–50 of 131"},
		{"clients sorted by name", "/console/clients?sort=name&dir=asc&limit=100", "1–100 of 131", "101–131 of 131"},
		{"attempts by 10 is not a choice", "/console/attempts?limit=10", "1–15 of 15", ""},
		{"attempts by 25", "/console/attempts?limit=25", "1–15 of 15", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := pageBody(t, h, tc.path, cookie)
			if !strings.Contains(body, tc.first) {
				t.Fatalf("first page lacks %q", tc.first)
			}
			if tc.second == "" {
				if nextHref.MatchString(body) {
					t.Error("a next page link on the only page")
				}
				return
			}
			if next := followNext(t, h, body, cookie); !strings.Contains(next, tc.second) {
				t.Errorf("second page lacks %q", tc.second)
			}
		})
	}

	// The audit log counts its events; the page size links keep the filter.
	body := pageBody(t, h, "/console/audit?outcome=rejected&limit=25", cookie)
	if !regexp.MustCompile(`1–15 of 15`).MatchString(body) {
		t.Error("audit position missing")
	}
	if !strings.Contains(body, `href="/console/audit?limit=100&amp;outcome=rejected"`) ||
		!strings.Contains(body, `aria-current="true" class="current">25</a>`) {
		t.Error("page size choice does not keep the filter or mark the current size")
	}
}

func TestConsoleClientsSortableColumns(t *testing.T) {
	h := newHarness(t)
	seedRealData(t, h)
	cookie := h.operator(t, store.RoleViewer)

	body := pageBody(t, h, "/console/clients", cookie)
	// Newest first by default; the name and brand headers sort A to Z.
	for _, want := range []string{
		`<th scope="col" aria-sort="descending"><a href="/console/clients?dir=asc&amp;sort=created" class="sort current">Created`,
		`<th scope="col"><a href="/console/clients?dir=asc&amp;sort=name" class="sort">Client name</a></th>`,
		`<th scope="col"><a href="/console/clients?dir=asc&amp;sort=org" class="sort">Brand / org</a></th>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("clients page lacks %s", want)
		}
	}
	// Columns no index orders (status, source, software_id) do not sort.
	if strings.Contains(body, "sort=status") || strings.Contains(body, "sort=software") {
		t.Error("a column without an index sorts")
	}
	body = pageBody(t, h, "/console/clients?sort=name&dir=asc", cookie)
	if !strings.Contains(body, `aria-sort="ascending"><a href="/console/clients?dir=desc&amp;sort=name"`) {
		t.Error("the current sort's header does not reverse it")
	}
	// A filter applied from the form keeps the sort.
	if !strings.Contains(body, `<input type="hidden" name="sort" value="name">`) {
		t.Error("the filter form drops the sort")
	}
}

func TestConsoleTimesInDisplayZone(t *testing.T) {
	for _, tc := range []struct{ zone, abbrev string }{
		{"", "AE[DS]T"}, // the default, Australia/Sydney
		{"UTC", "UTC"},
		{"Australia/Perth", "AWST"},
	} {
		t.Run(tc.zone, func(t *testing.T) {
			h := newHarness(t, func(c *config.Config) {
				if tc.zone != "" {
					c.Console.DisplayTimezone = tc.zone
				}
			})
			h.registered(t)
			cookie := h.operator(t, store.RoleViewer)
			body := pageBody(t, h, "/console/clients", cookie)
			re := regexp.MustCompile(`<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ` + tc.abbrev + `</time>`)
			if !re.MatchString(body) {
				t.Errorf("no time in %s with UTC on hover", tc.abbrev)
			}
			// The export stays in UTC.
			csv := h.console(http.MethodGet, "/console/clients.csv", cookie, "")
			if !regexp.MustCompile(`,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\r?\n`).Match(csv.body) {
				t.Errorf("export times are not UTC:\n%s", csv.body)
			}
		})
	}
}

func TestConsoleReasonsInTwoLabelledParts(t *testing.T) {
	h := newHarness(t)
	seedRealData(t, h)
	cookie := h.operator(t, store.RoleViewer)
	for _, path := range []string{"/console/attempts", "/console/audit?outcome=rejected"} {
		body := pageBody(t, h, path, cookie)
		if !strings.Contains(body, `<span class="part-label">Told the client:</span>`) || !strings.Contains(body, `<span class="part-label">Internal detail:</span>`) {
			t.Errorf("%s: reasons are not in two labelled parts", path)
		}
		if strings.Contains(body, " | ") {
			t.Errorf("%s: a reason is shown as one run-on string", path)
		}
	}
	// A long reason is clamped with an expander.
	body := pageBody(t, h, "/console/audit?type=client.status", cookie)
	if !strings.Contains(body, `<details class="clamp"><summary>`) {
		t.Error("a long operator reason is not clamped with an expander")
	}
}
