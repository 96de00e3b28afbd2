package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// auditSeed appends events straight to the log (after whatever the harness wrote).
func auditSeed(t *testing.T, h *harness, events ...*store.AuditEvent) {
	t.Helper()
	for _, e := range events {
		if err := h.app.Audit.Record(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
}

// auditGet fetches a console page, fails unless it answers want, and returns
// the body with HTML entities decoded.
func auditGet(t *testing.T, h *harness, path, cookie string, want int) string {
	t.Helper()
	r := h.console(http.MethodGet, path, cookie, "")
	if r.status != want {
		t.Fatalf("GET %s: %d, want %d: %s", path, r.status, want, r.body)
	}
	return html.UnescapeString(string(r.body))
}

var auditIDLink = regexp.MustCompile(`href="/console/audit/(\d+)"`)

// auditListedIDs are the event ids a list page links to, in page order.
func auditListedIDs(body string) []string {
	var ids []string
	for _, m := range auditIDLink.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func auditDay(d, hour int) time.Time { return time.Date(2024, 3, d, hour, 0, 0, 0, time.UTC) }

// auditFixture seeds one event per filter dimension, each with a marker reason.
func auditFixture(t *testing.T, h *harness) {
	auditSeed(t, h,
		&store.AuditEvent{Time: auditDay(1, 10), Type: store.EventRegistrationCreate, Outcome: store.OutcomeRejected, ErrorCode: "invalid_redirect_uri",
			Actor: "software:sw-a", SoftwareID: "sw-a", Reason: "marker-create"},
		&store.AuditEvent{Time: auditDay(2, 10), Type: store.EventTokenIssue, Outcome: store.OutcomeSuccess, Actor: "client:c-1", ClientID: "c-1",
			SoftwareID: "sw-b", Reason: "marker-token"},
		&store.AuditEvent{Time: auditDay(3, 10), Type: "operator.block", Outcome: store.OutcomeSuccess, Actor: "user:alice", SoftwareID: "sw-c",
			Reason: "marker-block"},
		&store.AuditEvent{Time: auditDay(4, 10), Type: store.EventRegisterSync, Outcome: store.OutcomeError, Actor: "cdr-register", Reason: "marker-sync"},
	)
}

func TestAuditPageListsNewestFirstAndFilters(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)
	auditFixture(t, h)

	body := auditGet(t, h, "/console/audit", cookie, http.StatusOK)
	ids := auditListedIDs(body)
	if len(ids) < 4 {
		t.Fatalf("listed %v", ids)
	}
	for i := 1; i < len(ids); i++ {
		var a, b int
		fmt.Sscan(ids[i-1], &a)
		fmt.Sscan(ids[i], &b)
		if a <= b {
			t.Fatalf("not newest first: %v", ids)
		}
	}
	if strings.Index(body, "marker-sync") > strings.Index(body, "marker-create") {
		t.Fatal("the newest event is not first")
	}

	all := []string{"marker-create", "marker-token", "marker-block", "marker-sync"}
	for query, want := range map[string][]string{
		"type=token.issue":                       {"marker-token"},
		"type=operator.*":                        {"marker-block"},
		"outcome=rejected":                       {"marker-create"},
		"outcome=error":                          {"marker-sync"},
		"actor=user:alice":                       {"marker-block"},
		"client_id=c-1":                          {"marker-token"},
		"software_id=sw-a":                       {"marker-create"},
		"from=2024-03-02&to=2024-03-03":          {"marker-token", "marker-block"}, // a date as "to" is the whole day
		"from=2024-03-02T10:00:01":               {"marker-block", "marker-sync"},
		"to=2024-03-02T10:00":                    {"marker-create"},
		"type=registration.create&to=2024-03-01": {"marker-create"},
	} {
		t.Run(query, func(t *testing.T) {
			body := auditGet(t, h, "/console/audit?"+query, cookie, http.StatusOK)
			for _, m := range all {
				wanted := strings.Contains(strings.Join(want, " "), m)
				if strings.Contains(body, m) != wanted {
					t.Errorf("%s shown = %v, want %v", m, !wanted, wanted)
				}
			}
		})
	}

	body = auditGet(t, h, "/console/audit?type=nothing.here", cookie, http.StatusOK)
	if !strings.Contains(body, "No events match these filters") || !strings.Contains(body, "Clear") {
		t.Fatal("no empty state for a filter that matches nothing")
	}
	for _, bad := range []string{"outcome=maybe", "from=yesterday", "before=x", "from=2024-03-02&to=2024-03-01"} {
		auditGet(t, h, "/console/audit?"+bad, cookie, http.StatusBadRequest)
	}
}

func TestAuditPagination(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)
	for i := range 57 {
		auditSeed(t, h, &store.AuditEvent{Type: store.EventTokenIssue, Outcome: store.OutcomeSuccess, Reason: fmt.Sprintf("page-%d", i)})
	}
	seen := map[string]bool{}
	path, pages := "/console/audit?type=token.issue", 0
	for path != "" && pages < 5 {
		body := auditGet(t, h, path, cookie, http.StatusOK)
		for _, id := range auditListedIDs(body) {
			if seen[id] {
				t.Fatalf("event %s on two pages", id)
			}
			seen[id] = true
		}
		path = ""
		if m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body); m != nil {
			path = m[1]
			if !strings.Contains(path, "type=token.issue") || !strings.Contains(path, "before=") {
				t.Fatalf("next link %s loses the filter", path)
			}
		}
		pages++
	}
	if pages != 2 || len(seen) != 57 {
		t.Fatalf("%d pages, %d events", pages, len(seen))
	}
}

func TestAuditEventPage(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)
	e := &store.AuditEvent{Type: store.EventRegistrationCreate, Outcome: store.OutcomeRejected, ErrorCode: "invalid_client_metadata",
		Step: "metadata", Reason: "desc | <script>alert(1)</script>", ClientID: "c-9", SoftwareID: "sw-9", Data: `{"source_bytes":3,"body_prefix":"abc"}`}
	auditSeed(t, h, e)
	r := h.console(http.MethodGet, fmt.Sprintf("/console/audit/%d", e.ID), cookie, "")
	if r.status != http.StatusOK || bytes.Contains(r.body, []byte("<script>alert")) {
		t.Fatalf("%d, or the reason was not escaped", r.status)
	}
	body := html.UnescapeString(string(r.body))
	for _, want := range []string{e.Hash, e.PrevHash, "<script>alert(1)</script>", `"body_prefix": "abc"`, "Step 10/12",
		fmt.Sprintf("/console/attempts/%d", e.ID), "/console/clients/c-9"} {
		if !strings.Contains(body, want) {
			t.Errorf("event page lacks %q", want)
		}
	}
	auditGet(t, h, "/console/audit/999999", cookie, http.StatusNotFound)
	auditGet(t, h, "/console/audit/abc", cookie, http.StatusNotFound)
}

func TestAuditExports(t *testing.T) {
	h := newHarness(t)
	cookie := h.operator(t, store.RoleViewer)
	auditFixture(t, h)
	auditSeed(t, h, &store.AuditEvent{Type: store.EventTokenIssue, Outcome: store.OutcomeRejected, Reason: "=cmd|' /C calc'!A0", ErrorCode: "@x"})

	r := h.console(http.MethodGet, "/console/audit.csv?type=token.issue", cookie, "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("csv: %d %v", r.status, r.header)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "id" || rows[0][7] != "reason" {
		t.Fatalf("csv rows %v", rows)
	}
	if rows[1][7] != "'=cmd|' /C calc'!A0" || rows[1][5] != "'@x" || rows[2][7] != "marker-token" {
		t.Fatalf("csv not escaped or not filtered: %v", rows[1:])
	}
	exp := h.lastAudit(t)
	if exp.Type != "operator.export" || exp.Actor != "user:viewer-user" || !strings.Contains(exp.Reason, "csv") ||
		!strings.Contains(exp.Reason, "type=token.issue") {
		t.Fatalf("export not audited: %+v", exp)
	}

	r = h.console(http.MethodGet, "/console/audit.json?outcome=rejected&from=2024-03-01", cookie, "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") ||
		!strings.Contains(r.header.Get("Content-Disposition"), ".json") {
		t.Fatalf("json: %d %v", r.status, r.header)
	}
	var events []map[string]any
	if err := json.Unmarshal(r.body, &events); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	// The two rejected events, newest first; the logins and the CSV export succeeded.
	if len(events) != 2 || events[0]["reason"] != "=cmd|' /C calc'!A0" || events[1]["reason"] != "marker-create" {
		t.Fatalf("json export %v", events)
	}
	if exp := h.lastAudit(t); exp.Type != "operator.export" || !strings.Contains(exp.Reason, "json") || !strings.Contains(exp.Reason, "outcome=rejected") {
		t.Fatalf("json export not audited: %+v", exp)
	}

	if r := h.console(http.MethodGet, "/console/audit.csv?outcome=nope", cookie, ""); r.status != http.StatusBadRequest {
		t.Fatalf("bad filter export: %d", r.status)
	}
}

// auditAwaitVerify polls the verification page until no run is going.
func auditAwaitVerify(t *testing.T, h *harness, cookie string) string {
	t.Helper()
	for range 400 {
		body := auditGet(t, h, "/console/audit/verify", cookie, http.StatusOK)
		if !strings.Contains(body, `http-equiv="refresh"`) {
			return body
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("verification still running after 10 s")
	return ""
}

func TestAuditVerify(t *testing.T) {
	h := newHarness(t)
	viewer := h.operator(t, store.RoleViewer)
	operator := h.operator(t, store.RoleOperator)

	body := auditGet(t, h, "/console/audit/verify", viewer, http.StatusOK)
	if strings.Contains(body, "Verify now") || !strings.Contains(body, "No verification since the server started") {
		t.Fatal("a viewer is offered the button, or there is no empty state")
	}
	if r := h.console(http.MethodPost, "/console/audit/verify", viewer, ""); r.status != http.StatusForbidden {
		t.Fatalf("viewer POST: %d", r.status)
	}
	cross := h.do(http.MethodPost, "/console/audit/verify", "application/x-www-form-urlencoded", "",
		map[string]string{"Cookie": operator, "Sec-Fetch-Site": "cross-site"})
	if cross.status != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", cross.status)
	}

	before := h.lastAudit(t).ID
	r := h.console(http.MethodPost, "/console/audit/verify", operator, "")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/audit/verify" {
		t.Fatalf("operator POST: %d %v", r.status, r.header)
	}
	body = auditAwaitVerify(t, h, operator)
	ev := h.lastAudit(t)
	if ev.Type != store.EventOperatorVerify || ev.Actor != "user:operator-user" || ev.Outcome != store.OutcomeSuccess {
		t.Fatalf("verification not audited: %+v", ev)
	}
	var data struct{ Events int64 }
	_ = json.Unmarshal([]byte(ev.Data), &data)
	if data.Events < before || !strings.Contains(body, fmt.Sprintf("All %d events are intact", data.Events)) ||
		!strings.Contains(body, "operator-user") {
		t.Fatalf("verify page after a clean run (%d events):\n%s", data.Events, body)
	}

	if err := storetest.Gorm(t, h.db).Exec("UPDATE audit_events SET reason='x' WHERE id=2").Error; err != nil {
		t.Fatal(err)
	}
	if r := h.console(http.MethodPost, "/console/audit/verify", operator, ""); r.status != http.StatusSeeOther {
		t.Fatalf("second POST: %d", r.status)
	}
	body = auditAwaitVerify(t, h, viewer)
	if !strings.Contains(body, `href="/console/audit/2"`) || !strings.Contains(body, "event 2: hash does not match its content") {
		t.Fatalf("verify page does not name event 2:\n%s", body)
	}
	if ev := h.lastAudit(t); ev.Type != store.EventOperatorVerify || !strings.Contains(ev.Reason, "broken at event 2") {
		t.Fatalf("broken result not audited: %+v", ev)
	}
}
