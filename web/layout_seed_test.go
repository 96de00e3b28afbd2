package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store"
)

// realData is what seedRealData put in the harness's database: ids of the
// pages whose layout suffers most from real content.
type realData struct {
	ClientID  string // a client with a long name, brand and legal entity
	AttemptID int64  // a rejected attempt with a long reason
	EventID   int64  // an operator event with a long reason
	RequestJW string // a registration request the inspector dry-runs
}

// Long, real-looking values: what overflowed the console before.
const (
	longClientName = "Household Budgeting, Savings Goals and Energy Comparison Assistant for Families (Production)"
	longBrand      = "Acme Consumer Data Recipient Brand With An Unusually Long Trading Name"
	longEntity     = "Acme Financial Technology Holdings International Proprietary Limited"
	longReason     = "The ADR reported that the private key behind its jwks_uri was exposed in a misconfigured " +
		"deployment pipeline on the morning of the incident; revoking until it confirms rotation, per incident INC-2026-00412 " +
		"and the on-call runbook section 4.2 (compromised ADR credentials), after a call with their security team."
)

// seedRealData registers real clients, adds 130 more with long names, rejected
// attempts through the real API, operator actions with long reasons, a block,
// and a finished chain verification.
func seedRealData(t *testing.T, h *harness) realData {
	t.Helper()
	ctx := context.Background()
	var d realData
	template, err := h.db.GetClient(ctx, h.registered(t))
	if err != nil {
		t.Fatal(err)
	}
	err = h.db.Tx(ctx, func(tx *store.Tx) error {
		for i := range 130 {
			c := *template
			c.ID = fmt.Sprintf("%08x-7a1c-4e0b-9f3d-%012x", i, 0x5eed0000+i)
			c.SoftwareID = fmt.Sprintf("%08x-50f7-4a2e-8c1b-%012x", i, 0xab0000+i)
			c.ActiveSoftwareID = nil
			c.Status = []string{store.StatusActive, store.StatusRevoked, store.StatusDeleted}[i%3]
			if c.Status == store.StatusActive {
				sid := c.SoftwareID
				c.ActiveSoftwareID = &sid
			}
			c.ClientName = longClientName + " " + strconv.Itoa(i)
			c.OrgName, c.LegalEntityName = longBrand+" "+strconv.Itoa(i%7), longEntity
			c.CreatedAt = time.Now().Add(-time.Duration(i) * time.Hour).UTC()
			c.UpdatedAt = c.CreatedAt
			if err := store.CreateClient(tx, &c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	d.ClientID = fmt.Sprintf("%08x-7a1c-4e0b-9f3d-%012x", 0, 0x5eed0000)
	seedRejections(t, h)
	d.AttemptID = h.lastAudit(t).ID
	act := dcr.OperatorAction{Actor: "user:operator-with-a-rather-long-username@example.com.au", RemoteAddr: "192.0.2.10", Reason: longReason}
	if err := h.app.Registrar.Revoke(ctx, d.ClientID, d.ClientID, act); err != nil {
		t.Fatal(err)
	}
	d.EventID = h.lastAudit(t).ID
	if err := h.app.Registrar.Block(ctx, template.SoftwareID, act); err != nil {
		t.Fatal(err)
	}
	d.RequestJW = h.requestFor(t, h.eco.ADRs[1], h.eco.Products[1], jwa.PS256, nil)
	return d
}

// seedRejections sends registrations the pipeline refuses for different
// reasons, each recorded as a rejected attempt with its real reason.
func seedRejections(t *testing.T, h *harness) {
	t.Helper()
	edits := []func(map[string]any){
		func(c map[string]any) {
			c["aud"] = "https://another-holder.example.com.au/a/very/long/path/that/is/not/ours"
		},
		func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() },
		func(c map[string]any) {
			c["redirect_uris"] = []string{"https://not-in-the-ssa.example.com/callback/" + strings.Repeat("x", 120)}
		},
		func(c map[string]any) { c["token_endpoint_auth_method"] = "client_secret_basic" },
	}
	for round := range 15 {
		e := edits[round%len(edits)]
		r := h.register(h.requestFor(t, h.eco.ADRs[2], h.eco.Products[2], jwa.PS256, e))
		if r.status == http.StatusCreated {
			t.Fatalf("seeded rejection %d was accepted", round)
		}
	}
}
