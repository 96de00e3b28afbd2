package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
)

// growRegister publishes n more legal entities, each with one brand and one
// ACTIVE product whose description is descBytes long: the Register's answers
// grow as the ecosystem does.
func growRegister(r *cdrsim.Register, n, descBytes int) {
	desc := strings.Repeat("d", descBytes)
	for i := range n {
		id := fmt.Sprintf("grow-%05d", i)
		r.AddLegalEntity(cdrsim.LegalEntity{ID: "le-" + id, Name: "Legal entity " + id, Status: cdrsim.StatusActive,
			AccreditationNumber: "ADR" + id, AccreditationLevel: "UNRESTRICTED", LogoURI: "https://" + id + ".example/logo.svg",
			Brands: []*cdrsim.Brand{{ID: "brand-" + id, Name: "Brand " + id, Status: cdrsim.StatusActive, LogoURI: "https://" + id + ".example/brand.svg",
				Products: []*cdrsim.Product{{ID: "sp-" + id, Name: "Product " + id, Description: desc, Status: cdrsim.StatusActive,
					LogoURI: "https://" + id + ".example/sp.svg"}}}}})
	}
}

// TestRegisterAnswerOverLimitIsTheSyncError: a Register answer over
// register.max_response_bytes fails the sync, whether the poller or an
// operator ran it, and the console's dashboard and Register page show why,
// naming the key and the limit; the last good data stays in use.
func TestRegisterAnswerOverLimitIsTheSyncError(t *testing.T) {
	const limit = 64 << 10
	want := "data-recipients: the answer exceeded register.max_response_bytes (65536 bytes)"
	for _, tc := range []struct {
		name  string
		sync  func(t *testing.T, h *harness, op string) string // returns the flash shown, if any
		flash string
	}{
		{"the poller's sync", func(t *testing.T, h *harness, _ string) string {
			if err := h.app.RegisterData.Sync(t.Context()); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("sync error %v, want it to contain %q", err, want)
			}
			return ""
		}, ""},
		{"Sync now", func(t *testing.T, h *harness, op string) string {
			r := h.console(http.MethodPost, "/console/register/sync", op, "")
			if r.status != http.StatusSeeOther {
				t.Fatalf("sync: %d", r.status)
			}
			return registerFollowFlash(t, h, r, op)
		}, "Register sync failed; the last good data stays in use: register sync: " + want},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *config.Config) { c.Register.MaxResponseBytes = limit })
			op := h.operator(t, store.RoleOperator)
			growRegister(h.eco.Register, 1, limit) // one product description is enough
			if flashed := tc.sync(t, h, op); !strings.Contains(flashed, tc.flash) {
				t.Errorf("flash lacks %q", tc.flash)
			}
			for _, page := range []string{"/console/", "/console/register"} {
				body := dashboardGet(t, h, page, op)
				if !strings.Contains(body, `<span class="mono">`+want+`</span>`) {
					t.Errorf("%s does not show the sync error %q", page, want)
				}
				if !strings.Contains(body, "3 software products") {
					t.Errorf("%s: the last good data is not in use", page)
				}
			}
			if got := h.app.RegisterData.Health(); got.ConsecutiveFails != 1 || got.LastError != want {
				t.Errorf("health %+v", got)
			}
		})
	}
}

// TestRegisterAnswersAboveTheADRLimit: Register answers bigger than
// outbound.max_response_bytes (which bounds URLs an ADR controls) are
// accepted under register.max_response_bytes.
func TestRegisterAnswersAboveTheADRLimit(t *testing.T) {
	t.Run("2 MiB of Register data with the default limits", func(t *testing.T) {
		h := newHarness(t)
		if h.cfg.Outbound.MaxResponseBytes != 1<<20 || h.cfg.Register.MaxResponseBytes != 32<<20 {
			t.Fatalf("defaults changed: outbound %d, register %d", h.cfg.Outbound.MaxResponseBytes, h.cfg.Register.MaxResponseBytes)
		}
		const n = 2500
		growRegister(h.eco.Register, n, 600)
		size := h.registerAnswerSize(t, h.eco.Register.DataRecipientsURI("all"))
		if size <= 2<<20 || size >= 32<<20 {
			t.Fatalf("data-recipients is %d bytes, want between 2 MiB and 32 MiB", size)
		}
		if err := h.app.RegisterData.Sync(t.Context()); err != nil {
			t.Fatalf("sync of %d bytes: %v", size, err)
		}
		body := dashboardGet(t, h, "/console/", h.operator(t, store.RoleViewer))
		if !strings.Contains(body, strconv.Itoa(n+3)+" software products") {
			t.Error("the dashboard does not count the grown Register")
		}
	})
	t.Run("Register JWKS bigger than the ADR limit", func(t *testing.T) {
		h := newHarness(t, func(c *config.Config) { c.Outbound.MaxResponseBytes = 4096 })
		var extra []json.RawMessage
		for i := range 16 {
			k, err := cdrsim.FakeRSAJWK("pad-"+strconv.Itoa(i), 2048)
			if err != nil {
				t.Fatal(err)
			}
			extra = append(extra, k)
		}
		h.eco.Register.SetExtraJWKs(extra...)
		if size := h.registerAnswerSize(t, h.eco.Register.JWKSURI()); size <= 4096 {
			t.Fatalf("Register JWKS is only %d bytes", size)
		}
		if r := h.register(h.validRequest(t)); r.status != http.StatusCreated {
			t.Fatalf("register: %d %s", r.status, r.body)
		}
	})
}

// registerAnswerSize is the size of the simulated Register's answer at uri.
func (h *harness) registerAnswerSize(t *testing.T, uri string) int {
	t.Helper()
	resp, err := h.ca.Client().Get(uri)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", uri, resp.StatusCode, err)
	}
	return int(n)
}
