package web

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// statusRegister registers product p of adr and returns its client_id.
func statusRegister(t *testing.T, h *harness, adr *cdrsim.ADR, p *cdrsim.Product) string {
	t.Helper()
	r := h.register(h.requestFor(t, adr, p, jwa.PS256, nil))
	if r.status != http.StatusCreated {
		t.Fatalf("registration: %d %s", r.status, r.body)
	}
	id, _ := r.json["client_id"].(string)
	return id
}

// statusToken calls POST /token with a fresh client assertion of adr for clientID.
func statusToken(t *testing.T, h *harness, adr *cdrsim.ADR, clientID string) response {
	t.Helper()
	a, err := adr.ClientAssertion(clientID, testIssuer, jwa.ES256)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {a},
	}
	return h.do(http.MethodPost, "/token", "application/x-www-form-urlencoded", form.Encode(), nil)
}

// statusAccessToken is a token that must be issued.
func statusAccessToken(t *testing.T, h *harness, adr *cdrsim.ADR, clientID string) string {
	t.Helper()
	r := statusToken(t, h, adr, clientID)
	if r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	tok, _ := r.json["access_token"].(string)
	return tok
}

func statusWantBody(t *testing.T, what string, r response, status int, body string) {
	t.Helper()
	if r.status != status || !bytes.Equal(bytes.TrimSpace(r.body), []byte(body)) {
		t.Fatalf("%s: got %d %s\nwant %d %s", what, r.status, r.body, status, body)
	}
}

func statusOf(t *testing.T, h *harness, clientID string) string {
	t.Helper()
	c, err := h.db.GetClient(t.Context(), clientID)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func statusEvents(t *testing.T, h *harness, clientID string) []store.AuditEvent {
	t.Helper()
	var evs []store.AuditEvent
	if err := storetest.Gorm(t, h.db).Where("type = ? AND client_id = ?", "client.status", clientID).Order("id").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	return evs
}

// statusChange changes the first ADR's product, brand or legal entity at the Register.
type statusChange func(h *harness) error

func statusProductTo(status string) statusChange {
	return func(h *harness) error { return h.eco.Register.SetProductStatus(h.eco.Products[0].ID, status) }
}

func statusBrandTo(status string) statusChange {
	return func(h *harness) error { return h.eco.Register.SetBrandStatus(h.eco.ADRs[0].BrandID(), status) }
}

func statusLegalEntityTo(status string) statusChange {
	return func(h *harness) error {
		return h.eco.Register.SetLegalEntityStatus(h.eco.ADRs[0].LegalEntityID(), status)
	}
}

// TestStatusNotActiveRefusesTokens: INACTIVE and SUSPENDED keep the registration
// but refuse tokens until the Register says ACTIVE again.
func TestStatusNotActiveRefusesTokens(t *testing.T) {
	cases := []struct {
		name           string
		set, restore   statusChange
		reportedStatus string
	}{
		{"product INACTIVE", statusProductTo(cdrsim.StatusInactive), statusProductTo(cdrsim.StatusActive), "INACTIVE"},
		{"brand INACTIVE", statusBrandTo(cdrsim.StatusInactive), statusBrandTo(cdrsim.StatusActive), "INACTIVE"},
		{"legal entity SUSPENDED", statusLegalEntityTo(cdrsim.StatusSuspended), statusLegalEntityTo(cdrsim.StatusActive), "SUSPENDED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			adr := h.eco.ADRs[0]
			id := statusRegister(t, h, adr, h.eco.Products[0])
			statusAccessToken(t, h, adr, id)

			setStatus(t, h, func() error { return tc.set(h) })
			want := `{"error":"urn:au-cds:error:cds-all:Authorisation/AdrStatusNotActive","error_description":"ERR-GEN-002: Software product status is ` + tc.reportedStatus + `"}`
			statusWantBody(t, "POST /token", statusToken(t, h, adr, id), http.StatusForbidden, want)
			if ev := h.lastAudit(t); ev.Type != "token.issue" || ev.Outcome != "rejected" || ev.ClientID != id ||
				ev.ErrorCode != "urn:au-cds:error:cds-all:Authorisation/AdrStatusNotActive" {
				t.Errorf("audit of the refusal %+v", ev)
			}
			if s := statusOf(t, h, id); s != store.StatusActive {
				t.Fatalf("client status %q, want it kept active", s)
			}
			if evs := statusEvents(t, h, id); len(evs) != 0 {
				t.Fatalf("status events for a registration that stays: %+v", evs)
			}
			// Another ADR's product is not affected.
			other := statusRegister(t, h, h.eco.ADRs[1], h.eco.Products[1])
			statusAccessToken(t, h, h.eco.ADRs[1], other)

			setStatus(t, h, func() error { return tc.restore(h) })
			statusAccessToken(t, h, adr, id)
		})
	}
}

// TestStatusRemovalRemovesRegistrations: REMOVED products and brands and REVOKED
// or SURRENDERED legal entities end the registrations, audited as the Register's doing.
func TestStatusRemovalRemovesRegistrations(t *testing.T) {
	cases := []struct {
		name         string
		set, restore statusChange
		reason       func(h *harness) string
	}{
		{"product REMOVED", statusProductTo(cdrsim.StatusRemoved), statusProductTo(cdrsim.StatusActive),
			func(h *harness) string { return "software product is REMOVED" }},
		{"brand REMOVED", statusBrandTo(cdrsim.StatusRemoved), statusBrandTo(cdrsim.StatusActive),
			func(h *harness) string { return "brand " + h.eco.ADRs[0].BrandID() + " is REMOVED" }},
		{"legal entity REVOKED", statusLegalEntityTo(cdrsim.StatusRevoked), statusLegalEntityTo(cdrsim.StatusActive),
			func(h *harness) string { return "legal entity " + h.eco.ADRs[0].LegalEntityID() + " is REVOKED" }},
		{"legal entity SURRENDERED", statusLegalEntityTo(cdrsim.StatusSurrendered), statusLegalEntityTo(cdrsim.StatusActive),
			func(h *harness) string { return "legal entity " + h.eco.ADRs[0].LegalEntityID() + " is SURRENDERED" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			adr, p := h.eco.ADRs[0], h.eco.Products[0]
			id := statusRegister(t, h, adr, p)
			accessToken := statusAccessToken(t, h, adr, id)
			other := statusRegister(t, h, h.eco.ADRs[1], h.eco.Products[1])

			setStatus(t, h, func() error { return tc.set(h) })
			c, err := h.db.GetClient(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if c.Status != store.StatusRemoved || c.StatusChangedAt == nil || !bytes.Contains([]byte(c.StatusReason), []byte(tc.reason(h))) {
				t.Fatalf("client after sync: status %q reason %q changed %v", c.Status, c.StatusReason, c.StatusChangedAt)
			}
			evs := statusEvents(t, h, id)
			if len(evs) != 1 || evs[0].Actor != "cdr-register" || evs[0].Outcome != "success" || evs[0].SoftwareID != p.ID {
				t.Fatalf("client.status events %+v", evs)
			}
			if s := statusOf(t, h, other); s != store.StatusActive {
				t.Fatalf("another ADR's client is %q", s)
			}

			statusWantBody(t, "POST /token", statusToken(t, h, adr, id), http.StatusBadRequest,
				`{"error":"invalid_client","error_description":"The client is unknown"}`)
			r := h.do(http.MethodGet, "/register/"+id, "", "", map[string]string{"Authorization": "Bearer " + accessToken})
			statusWantBody(t, "GET /register/{id} with an earlier token", r, http.StatusUnauthorized,
				`{"error":"invalid_request","error_description":"The client is unknown"}`)
			if got, want := r.header.Get("WWW-Authenticate"), `Bearer error="invalid_request", error_description="The client is unknown"`; got != want {
				t.Fatalf("WWW-Authenticate %q, want %q", got, want)
			}

			// A second sync with nothing new changes nothing.
			setStatus(t, h, func() error { return nil })
			if evs := statusEvents(t, h, id); len(evs) != 1 {
				t.Fatalf("client.status events after a quiet sync: %+v", evs)
			}

			// Re-registering is refused while the Register says so, then the slot is free.
			if r := h.register(h.requestFor(t, adr, p, jwa.PS256, nil)); r.status != http.StatusBadRequest {
				t.Fatalf("re-registration while not active: %d %s", r.status, r.body)
			}
			setStatus(t, h, func() error { return tc.restore(h) })
			again := statusRegister(t, h, adr, p)
			if again == id {
				t.Fatalf("re-registration reused client_id %s", id)
			}
			statusAccessToken(t, h, adr, again)
			if s := statusOf(t, h, id); s != store.StatusRemoved {
				t.Fatalf("removed client came back as %q", s)
			}
		})
	}
}

// TestStatusProductMissingFromRegister: a product absent from the Register's
// answer (a glitch, or a product not yet published) keeps its registration, but
// gets no tokens while it is missing.
func TestStatusProductMissingFromRegister(t *testing.T) {
	h := newHarness(t)
	adr, p := h.eco.ADRs[0], h.eco.Products[0]
	id := statusRegister(t, h, adr, p)
	accessToken := statusAccessToken(t, h, adr, id)

	setStatus(t, h, func() error { h.eco.Register.RemoveProduct(p.ID); return nil })
	if _, found := h.app.RegisterData.Product(p.ID); found {
		t.Fatal("the product is still in the Register data after the sync")
	}
	if s := statusOf(t, h, id); s != store.StatusActive {
		t.Fatalf("client status %q, want it kept active", s)
	}
	if evs := statusEvents(t, h, id); len(evs) != 0 {
		t.Fatalf("status events for a product that only went missing: %+v", evs)
	}
	statusWantBody(t, "POST /token", statusToken(t, h, adr, id), http.StatusForbidden,
		`{"error":"invalid_client","error_description":"ERR-GEN-001: Software product not found"}`)
	if r := h.do(http.MethodGet, "/register/"+id, "", "", map[string]string{"Authorization": "Bearer " + accessToken}); r.status != http.StatusOK {
		t.Fatalf("GET /register/{id} with an earlier token: %d %s", r.status, r.body)
	}

	// Published again: tokens flow again, with the same registration.
	setStatus(t, h, func() error { h.eco.Register.AddLegalEntity(adr.NewLegalEntity(p)); return nil })
	statusAccessToken(t, h, adr, id)
}
