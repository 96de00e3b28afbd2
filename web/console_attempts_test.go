package web

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/store"
)

var attemptLink = regexp.MustCompile(`href="/console/attempts/(\d+)"`)

// attemptsListed are the attempt ids a page links to, in page order.
func attemptsListed(body string) []string {
	var ids []string
	for _, m := range attemptLink.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// attemptsRejectRedirect posts a registration of the first product whose
// redirect_uri is not in its SSA, and returns its audit event.
func attemptsRejectRedirect(t *testing.T, h *harness) store.AuditEvent {
	t.Helper()
	jwt := h.requestFor(t, h.eco.ADRs[0], h.eco.Products[0], jwa.PS256, func(claims map[string]any) {
		claims["redirect_uris"] = []any{"https://evil.example/cb"}
	})
	if r := h.register(jwt); r.status != http.StatusBadRequest || r.json["error"] != "invalid_redirect_uri" {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	ev := h.lastAudit(t)
	if ev.Outcome != store.OutcomeRejected || ev.Step != "redirect_uris" {
		t.Fatalf("audit %+v", ev)
	}
	return ev
}

func TestAttemptsPageShowsRejectedRegistrations(t *testing.T) {
	h := newHarness(t)
	viewer := h.operator(t, store.RoleViewer)

	body := auditGet(t, h, "/console/attempts", viewer, http.StatusOK)
	if !strings.Contains(body, "No rejected registration attempts.") ||
		!strings.Contains(body, "When an ADR's registration fails it appears here with the reason.") {
		t.Fatal("no empty state")
	}

	rejected := attemptsRejectRedirect(t, h)
	if r := h.register("not a jwt"); r.status != http.StatusBadRequest {
		t.Fatalf("garbage: %d", r.status)
	}
	garbage := h.lastAudit(t)
	if r := h.register(h.validRequest(t)); r.status != http.StatusCreated {
		t.Fatalf("valid: %d %s", r.status, r.body)
	}
	success := h.lastAudit(t)

	body = auditGet(t, h, "/console/attempts", viewer, http.StatusOK)
	want := []string{fmt.Sprint(garbage.ID), fmt.Sprint(rejected.ID)}
	if got := attemptsListed(body); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("listed %v, want %v (not the successful %d)", got, want, success.ID)
	}
	for _, s := range []string{"invalid_redirect_uri", "Step 11: a redirect_uri is not in the SSA",
		"ERR-DCR-003: The redirect_uri 'https://evil.example/cb' is not valid", h.eco.Products[0].ID,
		"invalid_client_metadata", "Step 1: the body is empty or not a JWT"} {
		if !strings.Contains(body, s) {
			t.Errorf("attempts page lacks %q", s)
		}
	}

	softwareID := h.eco.Products[0].ID
	for query, want := range map[string][]int64{
		"software_id=" + softwareID:    {rejected.ID},
		"software_id=nobody":           nil,
		"code=invalid_redirect_uri":    {rejected.ID},
		"code=invalid_client_metadata": {garbage.ID},
		"step=request":                 {garbage.ID},
		"from=" + time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02"): {garbage.ID, rejected.ID},
		"from=" + time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02"):  nil,
		"to=" + time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02"):   nil,
		"to=" + time.Now().UTC().Format("2006-01-02"):                     {garbage.ID, rejected.ID},
	} {
		t.Run(query, func(t *testing.T) {
			body := auditGet(t, h, "/console/attempts?"+query, viewer, http.StatusOK)
			got := attemptsListed(body)
			if fmt.Sprint(got) != fmt.Sprint(attemptsIDs(want)) {
				t.Fatalf("listed %v, want %v", got, want)
			}
			if len(want) == 0 && !strings.Contains(body, "No rejected attempts match these filters") {
				t.Fatal("no empty state")
			}
		})
	}
	auditGet(t, h, "/console/attempts?from=soon", viewer, http.StatusBadRequest)
}

func attemptsIDs(in []int64) []string {
	out := []string{}
	for _, id := range in {
		out = append(out, fmt.Sprint(id))
	}
	return out
}

func TestAttemptDetailDecodesRequestAndSSA(t *testing.T) {
	h := newHarness(t)
	viewer := h.operator(t, store.RoleViewer)
	ev := attemptsRejectRedirect(t, h)

	body := auditGet(t, h, fmt.Sprintf("/console/attempts/%d", ev.ID), viewer, http.StatusOK)
	for _, s := range []string{
		"invalid_redirect_uri", "Step 11: a redirect_uri is not in the SSA", "ERR-DCR-003",
		"Registration request (decoded, not verified)", `"alg": "PS256"`, `"https://evil.example/cb"`,
		"Software statement (SSA, decoded, not verified)", `"iss": "cdr-register"`, `"software_id": "` + h.eco.Products[0].ID + `"`,
		"after the attempt", // exp in human form
		"What to tell the ADR", fmt.Sprintf("/console/audit/%d", ev.ID),
	} {
		if !strings.Contains(body, s) {
			t.Errorf("attempt page lacks %q", s)
		}
	}

	// iat is at or a moment before the attempt, in the display zone with UTC in the title.
	if !regexp.MustCompile(`title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d AE[DS]T</time> \((at the attempt|\d+ s before the attempt)\)`).MatchString(body) {
		t.Error("iat is not shown in human form")
	}

	if r := h.register("not a jwt"); r.status != http.StatusBadRequest {
		t.Fatal(r.status)
	}
	body = auditGet(t, h, fmt.Sprintf("/console/attempts/%d", h.lastAudit(t).ID), viewer, http.StatusOK)
	if !strings.Contains(body, "Request body as received") || !strings.Contains(body, "not a jwt") {
		t.Fatal("the body prefix is not shown")
	}

	if r := h.register(h.validRequest(t)); r.status != http.StatusCreated {
		t.Fatalf("valid: %d %s", r.status, r.body)
	}
	auditGet(t, h, fmt.Sprintf("/console/attempts/%d", h.lastAudit(t).ID), viewer, http.StatusNotFound)
	auditGet(t, h, "/console/attempts/999999", viewer, http.StatusNotFound)
	auditGet(t, h, "/console/attempts/x", viewer, http.StatusNotFound)
}

// TestAttemptsPaginationMergesTypesAndOutcomes pages through creates and
// updates, rejected and errors, interleaved with events that are not attempts.
func TestAttemptsPaginationMergesTypesAndOutcomes(t *testing.T) {
	h := newHarness(t)
	viewer := h.operator(t, store.RoleViewer)
	kinds := []struct {
		typ     store.EventType
		outcome store.Outcome
	}{
		{store.EventRegistrationCreate, store.OutcomeRejected}, {store.EventRegistrationUpdate, store.OutcomeError},
		{store.EventRegistrationCreate, store.OutcomeSuccess}, {store.EventRegistrationUpdate, store.OutcomeRejected},
		{store.EventTokenIssue, store.OutcomeRejected}, {store.EventRegistrationCreate, store.OutcomeError},
	}
	var want []string
	for i := range 120 {
		k := kinds[i%len(kinds)]
		e := &store.AuditEvent{Type: k.typ, Outcome: k.outcome, ErrorCode: "invalid_client_metadata", Step: "metadata", Reason: "d | x"}
		auditSeed(t, h, e)
		if audit.IsAttempt(e) {
			want = append([]string{fmt.Sprint(e.ID)}, want...)
		}
	}
	var got []string
	path := "/console/attempts"
	for pages := 0; path != "" && pages < 5; pages++ {
		body := auditGet(t, h, path, viewer, http.StatusOK)
		got = append(got, attemptsListed(body)...)
		path = ""
		if m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body); m != nil {
			path = m[1]
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paged\n%v\nwant\n%v", got, want)
	}
}
