package web

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/authlete"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/fetch"
)

// guardedADRHarness is the harness with the SSRF guard on (allow_private_networks
// = false) for the URLs an SSA names. The simulated Register lives on 127.0.0.1,
// which the guard refuses too, so the Register's keys and data come from the
// harness's own unguarded services, and only the ADR side is rewired.
func guardedADRHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	guarded, err := fetch.NewFetcher(fetch.Options{RootCAs: h.ca.Pool(), Timeout: 3 * time.Second, MaxBytes: h.cfg.Outbound.MaxResponseBytes})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	adrKeys := fetch.NewJWKSCache(guarded, time.Minute, log)
	cfg, a := h.cfg, h.app
	pipeline := dcr.NewPipeline(dcr.PipelineConfig{
		Issuer: cfg.Holder.Issuer, ScopesSupported: cfg.Holder.ScopesSupported,
		ResponseTypesSupported: cfg.Holder.ResponseTypesSupported, ClockSkew: cfg.Holder.ClockSkew.Duration,
		CheckStatus: cfg.Register.CheckStatus, RegisterJWKSURI: cfg.Register.JWKSURI,
	}, a.JWKS, adrKeys, a.RegisterData, h.db, h.db, guarded)
	registrar := dcr.NewRegistrar(pipeline, h.db, a.Audit, false, log)
	a.Engine, a.server, err = newEngine(Deps{Config: cfg, DB: h.db, Registrar: registrar, Tokens: a.Tokens, Access: a.Access,
		Keys: a.Keys, Auth: a.Auth, Register: a.RegisterData, JWKS: adrKeys, Audit: a.Audit, Log: log,
		API: authlete.NewService(registrar, h.db, cfg.Server.PublicURL, false)})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestRegisterRefusesJWKSURIOnNonPublicAddress: an SSA whose jwks_uri reaches
// a non-public address by any spelling is refused with the normal CDR error
// for an ADR JWKS that cannot be loaded, and the audit detail says why.
func TestRegisterRefusesJWKSURIOnNonPublicAddress(t *testing.T) {
	h := guardedADRHarness(t)
	adr, p := h.eco.ADRs[0], h.eco.Products[0]
	_, port, err := net.SplitHostPort(strings.Split(adr.JWKSURI(), "/")[2])
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, host string }{
		{"the ADR's own address (loopback)", "127.0.0.1"},
		{"IPv4-compatible loopback", "[::7f00:1]"},
		{"IPv4-mapped loopback", "[::ffff:127.0.0.1]"},
		{"local-use NAT64 of loopback", "[64:ff9b:1::7f00:1]"},
		{"well-known NAT64 of the metadata address", "[64:ff9b::a9fe:a9fe]"},
		{"6to4 of loopback", "[2002:7f00:1::1]"},
		{"site-local", "[fec0::1]"},
		{"a name resolving to loopback", "localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jwksURI := "https://" + tc.host + ":" + port + "/jwks"
			ssa, err := h.eco.Register.SignSSA(p, func(c, _ map[string]any) { c["jwks_uri"] = jwksURI })
			if err != nil {
				t.Fatal(err)
			}
			req, err := adr.SignRequest(adr.RequestClaims(ssa, testIssuer, p.ID), jwa.PS256)
			if err != nil {
				t.Fatal(err)
			}
			r := h.register(req)
			desc := "ERR-GEN-021: Could not load JWKS from Data Recipient endpoint: " + jwksURI
			if r.status != http.StatusBadRequest || r.json["error"] != "invalid_client_metadata" || r.json["error_description"] != desc {
				t.Fatalf("got %d %s, want 400 invalid_client_metadata %q", r.status, r.body, desc)
			}
			ev := h.lastAudit(t)
			if ev.Outcome != "rejected" || ev.Step != "adr_jwks" || !strings.Contains(ev.Reason, "not a public address") {
				t.Fatalf("audit event: %+v", ev)
			}
		})
	}
}
