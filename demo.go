package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/config"
)

// demoEnv is the simulated ecosystem of demo mode: a CDR Register and ADRs on
// 127.0.0.1 over TLS, with a CA that only this process trusts.
type demoEnv struct {
	ca  *cdrsim.CA
	eco *cdrsim.Ecosystem
	// inactive is a product whose Register status is INACTIVE, to show ERR-GEN-002.
	inactive *cdrsim.Product
}

func demoDatabasePath() string {
	return filepath.Join(os.TempDir(), "dcrconsole-demo", "demo.db")
}

// startDemo starts the simulated Register and ADRs and points cfg at them. The
// database is always a fresh file of its own: demo mode never touches the
// configured database.
func startDemo(cfg *config.Config, log *slog.Logger) (*demoEnv, error) {
	ca, err := cdrsim.NewCA()
	if err != nil {
		return nil, err
	}
	eco, err := cdrsim.NewEcosystem(ca, 3)
	if err != nil {
		return nil, err
	}
	inactive := eco.ADRs[2].NewProduct("9f3c2a51-7d4e-4f0a-9b7c-2e1d5a6b8c90", "Budget Buddy (paused)")
	inactive.Status = "INACTIVE"
	eco.Register.AddLegalEntity(cdrsim.LegalEntity{
		ID: "c1f1b2a3-0000-4000-8000-00000000d3a0", Name: "Paused Pty Ltd", Status: "ACTIVE",
		Brands: []*cdrsim.Brand{{ID: "c1f1b2a3-0000-4000-8000-00000000b3a0", Name: "Paused Brand", Status: "ACTIVE", Products: []*cdrsim.Product{inactive}}},
	})

	path := demoDatabasePath()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
			eco.Close()
			return nil, fmt.Errorf("demo: remove old demo database: %w", err)
		}
	}
	cfg.Database.Driver, cfg.Database.Path = config.DriverSQLite, path // the demo is one process on its own file
	cfg.Register.JWKSURI = eco.Register.JWKSURI()
	cfg.Register.BaseURI = eco.Register.BaseURI()
	cfg.Outbound.AllowPrivateNetworks = true
	log.Warn("=================================================================")
	log.Warn("DEMO MODE: simulated CDR Register and ADRs on 127.0.0.1, throwaway database; never use for real data",
		"database", path, "register", eco.Register.URL())
	log.Warn("=================================================================")
	return &demoEnv{ca: ca, eco: eco, inactive: inactive}, nil
}

// RootCAs trusts the simulated servers' CA only.
func (d *demoEnv) RootCAs() *x509.CertPool { return d.ca.Pool() }

// Close stops the simulated servers.
func (d *demoEnv) Close() { d.eco.Close() }

// demoCase is one registration the demo makes through the public endpoint.
type demoCase struct {
	name    string
	adr     *cdrsim.ADR
	product *cdrsim.Product
	alg     jwa.SignatureAlgorithm
	edit    func(claims map[string]any)
}

// Run makes real registrations against the running server, some valid and some
// rejected, and logs what the server answered.
func (d *demoEnv) Run(ctx context.Context, cfg config.Config, log *slog.Logger) {
	e := d.eco
	cases := []demoCase{
		{name: "valid registration (PS256)", adr: e.ADRs[0], product: e.Products[0], alg: jwa.PS256},
		{name: "valid registration (ES256)", adr: e.ADRs[1], product: e.Products[1], alg: jwa.ES256},
		{name: "duplicate of the first", adr: e.ADRs[0], product: e.Products[0], alg: jwa.PS256},
		{name: "redirect URI not in the SSA", adr: e.ADRs[2], product: e.Products[2], alg: jwa.PS256,
			edit: func(c map[string]any) { c["redirect_uris"] = []any{"https://evil.example/callback"} }},
		{name: "expired request", adr: e.ADRs[2], product: e.Products[2], alg: jwa.PS256,
			edit: func(c map[string]any) {
				c["exp"] = time.Now().Add(-time.Hour).Unix()
				c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
			}},
		{name: "missing token_endpoint_auth_method", adr: e.ADRs[2], product: e.Products[2], alg: jwa.PS256,
			edit: func(c map[string]any) { delete(c, "token_endpoint_auth_method") }},
		{name: "software product INACTIVE at the Register", adr: e.ADRs[2], product: d.inactive, alg: jwa.PS256},
		{name: "valid registration (third ADR)", adr: e.ADRs[2], product: e.Products[2], alg: jwa.ES256},
	}
	client := &http.Client{Timeout: 30 * time.Second}
	time.Sleep(200 * time.Millisecond)
	for _, tc := range cases {
		if ctx.Err() != nil {
			return
		}
		status, body, err := d.register(ctx, client, cfg, tc)
		if err != nil {
			log.Error("demo registration could not be sent", "case", tc.name, "error", err)
			continue
		}
		log.Info("DEMO registration", "case", tc.name, "status", status, "response", body)
	}
	log.Warn("DEMO: registrations done; verify the audit chain with: go run . audit verify --demo")
}

func (d *demoEnv) register(ctx context.Context, client *http.Client, cfg config.Config, tc demoCase) (int, string, error) {
	ssa, err := d.eco.Register.SignSSA(tc.product)
	if err != nil {
		return 0, "", err
	}
	claims := tc.adr.RequestClaims(ssa, cfg.Holder.Issuer, tc.product.ID)
	if tc.edit != nil {
		tc.edit(claims)
	}
	jwt, err := tc.adr.SignRequest(claims, tc.alg)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Server.PublicURL+"/register", strings.NewReader(jwt))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/jwt")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var out map[string]any
	if json.Unmarshal(raw, &out) == nil {
		if resp.StatusCode == http.StatusCreated {
			return resp.StatusCode, fmt.Sprintf("client_id=%v client_name=%v", out["client_id"], out["client_name"]), nil
		}
		return resp.StatusCode, fmt.Sprintf("%v: %v", out["error"], out["error_description"]), nil
	}
	return resp.StatusCode, string(bytes.TrimSpace(raw)), nil
}
