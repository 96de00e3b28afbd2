package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/dcr"
)

// TestKidlessJWT: a client assertion or registration request without a kid
// (what openid-client, oauth4webapi and authlib send by default) is verified
// with each of the ADR's keys that fit its alg. The ADR publishes an RSA and an
// EC key of its own, then extra keys per case.
func TestKidlessJWT(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Holder.AllowDuplicateRegistrations = true })
	adr, p := h.eco.ADRs[0], h.eco.Products[0]
	clientID := h.registered(t)
	ssa, err := h.eco.Register.SignSSA(p)
	if err != nil {
		t.Fatal(err)
	}
	second := testRSAKey(t, 2048) // a second RSA key, published after the ADR's own
	stranger := testRSAKey(t, 3072)
	nineRSA := make([]json.RawMessage, 8) // with the ADR's own: 9 RSA keys fit PS256
	for i := range nineRSA {
		if nineRSA[i], err = cdrsim.FakeRSAJWK("", 2048); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		extra      []json.RawMessage
		alg        jwa.SignatureAlgorithm
		key        any // nil: the ADR's own key for alg
		wantOK     bool
		wantReason string
	}{
		{"EC key, second in the set", nil, jwa.ES256, nil, true, ""},
		{"RSA key of the ADR", nil, jwa.PS256, nil, true, ""},
		{"second RSA key", []json.RawMessage{publicJWK(t, &second.PublicKey, "", "PS256")}, jwa.PS256, second, true, ""},
		{"second RSA key with a kid", []json.RawMessage{publicJWK(t, &second.PublicKey, "other", "")}, jwa.PS256, second, true, ""},
		{"key not in the set", nil, jwa.PS256, stranger, false, "the signature verifies with none of the 1 keys"},
		{"key whose alg differs", []json.RawMessage{publicJWK(t, &second.PublicKey, "", "RS256")}, jwa.PS256, second, false, "verifies with none of the 1 keys"},
		{"more than 8 candidates", nineRSA, jwa.PS256, nil, false, "9 keys at " + adr.JWKSURI() + " fit PS256, more than the 8 tried"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			adr.SetExtraJWKs(tc.extra...)
			if err := h.app.JWKS.Refresh(t.Context(), adr.JWKSURI()); err != nil {
				t.Fatal(err)
			}
			assertion, err := adr.SignWith(tc.alg, tc.key, "", adr.AssertionClaims(clientID, testIssuer))
			if err != nil {
				t.Fatal(err)
			}
			request, err := adr.SignWith(tc.alg, tc.key, "", adr.RequestClaims(ssa, testIssuer, p.ID))
			if err != nil {
				t.Fatal(err)
			}
			r := h.token(tokenForm(assertion, nil))
			wantKidless(t, h, "token", r, tc.wantOK, tc.wantReason, http.StatusOK, "invalid_client", "The client assertion could not be verified")
			r = h.register(request)
			wantKidless(t, h, "register", r, tc.wantOK, tc.wantReason, http.StatusCreated, "invalid_client_metadata", dcr.DescRequestInvalid)
		})
	}
}

func wantKidless(t *testing.T, h *harness, what string, r response, wantOK bool, wantReason string, okStatus int, code, desc string) {
	t.Helper()
	if wantOK {
		if r.status != okStatus {
			t.Errorf("%s: %d %s, want %d", what, r.status, r.body, okStatus)
		}
		return
	}
	if r.status != http.StatusBadRequest || r.json["error"] != code || r.json["error_description"] != desc {
		t.Errorf("%s: %d %s, want 400 %s %q", what, r.status, r.body, code, desc)
	}
	if ev := h.lastAudit(t); !strings.Contains(ev.Reason, wantReason) {
		t.Errorf("%s: audit reason %q does not say %q", what, ev.Reason, wantReason)
	}
}
