package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
)

// TestUnknownConsoleURLGetsConsoleNotFound: an unknown /console/... URL is
// answered by the console, not by the API's JSON 404: a signed-out visitor is
// sent to sign in (and back), a signed-in one gets the HTML error page in the
// console layout with status 404. URLs outside the console keep the JSON 404,
// and so does /console/... when the console is off.
func TestUnknownConsoleURLGetsConsoleNotFound(t *testing.T) {
	h := newHarness(t)

	r := h.console(http.MethodGet, "/console/no-such-page", "", "")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/login?next=%2Fconsole%2Fno-such-page" {
		t.Fatalf("signed out: %d %q", r.status, r.header.Get("Location"))
	}

	viewer := h.operator(t, store.RoleViewer)
	for _, path := range []string{"/console/no-such-page", "/console/clients/x/y/z", "/console/audit/1/more"} {
		r = h.console(http.MethodGet, path, viewer, "")
		body := string(r.body)
		if r.status != http.StatusNotFound || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s signed in: %d %q %s", path, r.status, r.header.Get("Content-Type"), body)
		}
		if r.json != nil || !strings.Contains(body, "Page not found") || !strings.Contains(body, `<nav aria-label="Main">`) ||
			!strings.Contains(body, "viewer-user") {
			t.Fatalf("%s: not the console's page in its layout: %s", path, body)
		}
		if r.header.Get("X-Frame-Options") != "DENY" || r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: console headers missing: %v", path, r.header)
		}
	}

	if r = h.do(http.MethodGet, "/no-such-endpoint", "", "", nil); r.status != http.StatusNotFound || r.json["error"] != "not_found" {
		t.Fatalf("outside the console: %d %s", r.status, r.body)
	}

	off := newHarness(t, func(c *config.Config) { c.Console.Enabled = false })
	if r = off.do(http.MethodGet, "/console/no-such-page", "", "", nil); r.status != http.StatusNotFound || r.json["error"] != "not_found" {
		t.Fatalf("console off: %d %s", r.status, r.body)
	}
}
