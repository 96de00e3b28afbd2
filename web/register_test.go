package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

func TestRegisterSuccess(t *testing.T) {
	h := newHarness(t)
	p := h.eco.Products[0]
	r := h.register(h.validRequest(t))
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	j := r.json
	for _, f := range []string{"client_id", "client_id_issued_at", "client_name", "client_description", "client_uri",
		"legal_entity_id", "legal_entity_name", "org_id", "org_name", "logo_uri", "jwks_uri", "revocation_uri",
		"recipient_base_uri", "software_id", "software_roles", "redirect_uris", "token_endpoint_auth_method",
		"token_endpoint_auth_signing_alg", "grant_types", "response_types", "application_type",
		"id_token_signed_response_alg", "request_object_signing_alg", "authorization_signed_response_alg", "scope", "software_statement"} {
		if _, ok := j[f]; !ok {
			t.Errorf("201 body lacks %s", f)
		}
	}
	for _, f := range []string{"sector_identifier_uri", "id_token_encrypted_response_alg", "authorization_encrypted_response_alg"} {
		if _, ok := j[f]; ok {
			t.Errorf("201 body has empty field %s", f)
		}
	}
	if j["software_id"] != p.ID || j["client_name"] != p.Name {
		t.Errorf("SSA fields not copied: %v %v", j["software_id"], j["client_name"])
	}
	if rts, _ := j["response_types"].([]any); len(rts) != 1 || rts[0] != "code" {
		t.Errorf("response_types %v", j["response_types"])
	}
	// scope is the SSA's scope filtered to the holder's supported scopes.
	if s, _ := j["scope"].(string); !strings.Contains(s, "bank:accounts.basic:read") || strings.Contains(s, "admin:") {
		t.Errorf("scope %q", s)
	}
	clientID, _ := j["client_id"].(string)
	c, err := h.db.GetClient(t.Context(), clientID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != store.StatusActive || c.SoftwareID != p.ID || c.SoftwareStatement == "" || c.RequestJWT == "" || c.SSAKeyID != h.eco.Register.KeyID() {
		t.Errorf("stored client %+v", c)
	}
	ev := h.lastAudit(t)
	if ev.Type != "registration.create" || ev.Outcome != "success" || ev.ClientID != clientID || ev.SoftwareID != p.ID || ev.JTI == "" || ev.RemoteAddr != "192.0.2.10" {
		t.Errorf("audit event %+v", ev)
	}
}

func TestRegisterAcceptsStringResponseTypesAndES256(t *testing.T) {
	h := newHarness(t)
	jwt := h.requestFor(t, h.eco.ADRs[1], h.eco.Products[1], jwa.ES256, func(c map[string]any) {
		c["response_types"] = "code"
		c["aud"] = []any{"https://other.example", testIssuer}
		c["redirect_uris"] = []any{strings.ToUpper(h.eco.ADRs[1].RedirectURI(1)[:8]) + h.eco.ADRs[1].RedirectURI(1)[8:]}
	})
	r := h.register(jwt)
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if uris, _ := r.json["redirect_uris"].([]any); len(uris) != 1 || uris[0] != h.eco.ADRs[1].RedirectURI(1) {
		t.Errorf("redirect_uris %v (want the SSA's spelling)", r.json["redirect_uris"])
	}
}

type errCase struct {
	name   string
	status int
	code   string
	desc   string
	step   string
	// body builds the request; nil uses the valid request.
	body func(t *testing.T, h *harness) string
	// before changes the world first.
	before func(t *testing.T, h *harness)
}

func run(t *testing.T, cases []errCase, opts ...harnessOption) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, opts...)
			if tc.before != nil {
				tc.before(t, h)
			}
			clientsBefore := h.countClients(t)
			body := ""
			if tc.body != nil {
				body = tc.body(t, h)
			} else {
				body = h.validRequest(t)
			}
			r := h.register(body)
			if tc.status == 0 {
				tc.status = http.StatusBadRequest
			}
			// URLs known only once the harness runs
			desc := strings.NewReplacer("{jwks}", h.cfg.Register.JWKSURI, "{adrjwks}", h.eco.ADRs[0].JWKSURI()).Replace(tc.desc)
			if r.status != tc.status || r.json["error"] != tc.code || r.json["error_description"] != desc {
				t.Fatalf("got %d %s\nwant %d {%q %q}", r.status, r.body, tc.status, tc.code, desc)
			}
			if h.countClients(t) != clientsBefore {
				t.Fatalf("a rejected registration stored a client")
			}
			ev := h.lastAudit(t)
			if ev.Outcome != "rejected" || ev.ErrorCode != tc.code || ev.Step != tc.step || !strings.Contains(ev.Reason, desc) {
				t.Fatalf("audit event %+v, want step %s", ev, tc.step)
			}
		})
	}
}

// edited returns a body builder for the first ADR's product with edited request claims.
func edited(edit func(c map[string]any)) func(t *testing.T, h *harness) string {
	return func(t *testing.T, h *harness) string {
		return h.requestFor(t, h.eco.ADRs[0], h.eco.Products[0], jwa.PS256, edit)
	}
}

// ssaEdited returns a body builder whose SSA has edited claims/header (re-signed by the Register).
func ssaEdited(edit func(claims, header map[string]any)) func(t *testing.T, h *harness) string {
	return func(t *testing.T, h *harness) string {
		adr, p := h.eco.ADRs[0], h.eco.Products[0]
		ssa, err := h.eco.Register.SignSSA(p, edit)
		if err != nil {
			t.Fatal(err)
		}
		jwt, err := adr.SignRequest(adr.RequestClaims(ssa, testIssuer, p.ID), jwa.PS256)
		if err != nil {
			t.Fatal(err)
		}
		return jwt
	}
}

// withSSA returns a body builder using a hand-made SSA.
func withSSA(makeSSA func(t *testing.T, h *harness) string) func(t *testing.T, h *harness) string {
	return func(t *testing.T, h *harness) string {
		adr, p := h.eco.ADRs[0], h.eco.Products[0]
		jwt, err := adr.SignRequest(adr.RequestClaims(makeSSA(t, h), testIssuer, p.ID), jwa.PS256)
		if err != nil {
			t.Fatal(err)
		}
		return jwt
	}
}

func mustRSA(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustEC(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const (
	descEmpty     = "ERR-DCR-002: Registration request is empty"
	descSSAEmpty  = "ERR-DCR-006: The software_statement is empty or invalid"
	descSSA       = "ERR-DCR-005: SSA validation failed."
	descJWKSURI   = "ERR-GEN-020: Invalid jwks_uri in SSA"
	descRequest   = "ERR-DCR-004: Client Registration Request validation failed."
	descSector    = "ERR-DCR-007: Invalid sector_identifier_uri"
	descDuplicate = "ERR-DCR-001: Duplicate registrations for a given software_id are not valid."
)

func TestRegisterTransportAndParsing(t *testing.T) {
	h := newHarness(t)
	for _, ct := range []string{"", "application/json", "text/plain", "application/jwt-bogus", "application/x-www-form-urlencoded"} {
		r := h.do(http.MethodPost, "/register", ct, h.validRequest(t), nil)
		if r.status != http.StatusUnsupportedMediaType || r.json["error"] != "invalid_request" {
			t.Errorf("Content-Type %q: %d %s", ct, r.status, r.body)
		}
	}
	r := h.do(http.MethodPost, "/register", "application/jwt; charset=utf-8", h.validRequest(t), nil)
	if r.status != http.StatusCreated {
		t.Errorf("parameters on application/jwt must be accepted: %d %s", r.status, r.body)
	}
	big := strings.Repeat("a", 64<<10+1)
	r = h.register(big)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d %s", r.status, r.body)
	}
	ev := h.lastAudit(t)
	if ev.Step != "transport" || ev.Outcome != "rejected" {
		t.Errorf("oversized body not audited: %+v", ev)
	}
}

func TestRegisterRejections(t *testing.T) {
	const badReq, badSSA, unapproved, badURI = "invalid_client_metadata", "invalid_software_statement", "unapproved_software_statement", "invalid_redirect_uri"
	cases := []errCase{
		// 1
		{name: "empty body", code: badReq, desc: descEmpty, step: "request", body: func(*testing.T, *harness) string { return "" }},
		{name: "not a JWT", code: badReq, desc: descEmpty, step: "request", body: func(*testing.T, *harness) string { return "hello" }},
		{name: "JSON body", code: badReq, desc: descEmpty, step: "request", body: func(*testing.T, *harness) string { return `{"software_statement":"x"}` }},
		{name: "truncated JWT", code: badReq, desc: descEmpty, step: "request", body: func(t *testing.T, h *harness) string { s := h.validRequest(t); return s[:strings.LastIndex(s, ".")] }},
		{name: "payload not JSON", code: badReq, desc: descEmpty, step: "request", body: func(*testing.T, *harness) string { return "eyJhbGciOiJQUzI1NiJ9.bm90IGpzb24.c2ln" }},
		{name: "payload JSON array", code: badReq, desc: descEmpty, step: "request", body: func(*testing.T, *harness) string { return "eyJhbGciOiJQUzI1NiJ9.WzEsMl0.c2ln" }},
		{name: "four segments", code: badReq, desc: descEmpty, step: "request", body: func(t *testing.T, h *harness) string { return h.validRequest(t) + ".x" }},
		// 2
		{name: "software_statement missing", code: badSSA, desc: descSSAEmpty, step: "software_statement", body: edited(func(c map[string]any) { delete(c, "software_statement") })},
		{name: "software_statement not a JWT", code: badSSA, desc: descSSAEmpty, step: "software_statement", body: edited(func(c map[string]any) { c["software_statement"] = "not-a-jwt" })},
		{name: "software_statement a number", code: badSSA, desc: descSSAEmpty, step: "software_statement", body: edited(func(c map[string]any) { c["software_statement"] = 42 })},
		// 3
		{name: "Register JWKS down, nothing cached", code: badSSA, step: "register_jwks",
			before: func(t *testing.T, h *harness) { h.eco.Register.SetDown(true) },
			desc:   "ERR-GEN-022: Could not load SSA JWKS from Register endpoint: {jwks}"},
		// 4
		{name: "SSA signed by an unknown key", code: badSSA, desc: descSSA, step: "ssa", body: withSSA(func(t *testing.T, h *harness) string {
			s, err := h.eco.Register.SignSSAWith(jwa.PS256, mustRSA(t), h.eco.Register.SSAClaims(h.eco.Products[0]), map[string]any{"kid": h.eco.Register.KeyID()})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})},
		{name: "SSA kid unknown", code: badSSA, desc: descSSA, step: "ssa", body: ssaEdited(func(_, hd map[string]any) { hd["kid"] = "nope" })},
		{name: "SSA alg none", code: badSSA, desc: descSSA, step: "ssa", body: withSSA(func(t *testing.T, h *harness) string {
			s, err := h.eco.Register.SignSSAWith(jwa.NoSignature, nil, h.eco.Register.SSAClaims(h.eco.Products[0]), map[string]any{"kid": h.eco.Register.KeyID()})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})},
		{name: "SSA HS256 with the Register's public key", code: badSSA, desc: descSSA, step: "ssa", body: withSSA(func(t *testing.T, h *harness) string {
			s, err := h.eco.Register.SignSSAWith(jwa.HS256, publicKeyPEM(t, h), h.eco.Register.SSAClaims(h.eco.Products[0]), map[string]any{"kid": h.eco.Register.KeyID()})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})},
		{name: "SSA iss wrong", code: badSSA, desc: descSSA, step: "ssa", body: ssaEdited(func(c, _ map[string]any) { c["iss"] = "someone" })},
		{name: "SSA expired", code: badSSA, desc: descSSA, step: "ssa", body: ssaEdited(func(c, _ map[string]any) {
			c["iat"] = time.Now().Add(-time.Hour).Unix()
			c["exp"] = time.Now().Add(-50 * time.Minute).Unix()
		})},
		{name: "SSA not yet valid", code: badSSA, desc: descSSA, step: "ssa", body: ssaEdited(func(c, _ map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() })},
		{name: "SSA exp missing", code: badSSA, desc: descSSA, step: "ssa", body: ssaEdited(func(c, _ map[string]any) { delete(c, "exp") })},
		{name: "SSA exp a string", code: badSSA, desc: descSSA, step: "ssa", body: ssaEdited(func(c, _ map[string]any) { c["exp"] = "tomorrow" })},
		{name: "SSA client_name missing", code: badSSA, desc: descSSA, step: "ssa", body: ssaEdited(func(c, _ map[string]any) { delete(c, "client_name") })},
		{name: "SSA software_id missing", code: badSSA, desc: descSSA, step: "ssa", body: ssaEdited(func(c, _ map[string]any) { delete(c, "software_id") })},
		{name: "SSA software_roles wrong", code: badSSA, desc: descSSA, step: "ssa", body: ssaEdited(func(c, _ map[string]any) { c["software_roles"] = "data-holder" })},
		{name: "SSA redirect_uris empty", code: badSSA, desc: descSSA, step: "ssa", body: ssaEdited(func(c, _ map[string]any) { c["redirect_uris"] = []any{} })},
		{name: "SSA scope a number", code: badSSA, desc: descSSA, step: "ssa", body: ssaEdited(func(c, _ map[string]any) { c["scope"] = 7 })},
		// 5
		{name: "product INACTIVE", code: unapproved, desc: "ERR-GEN-002: Software product status is INACTIVE", step: "register_status",
			before: func(t *testing.T, h *harness) {
				setStatus(t, h, func() error { return h.eco.Register.SetProductStatus(h.eco.Products[0].ID, "INACTIVE") })
			}},
		{name: "product REMOVED", code: unapproved, desc: "ERR-GEN-002: Software product status is REMOVED", step: "register_status",
			before: func(t *testing.T, h *harness) {
				setStatus(t, h, func() error { return h.eco.Register.SetProductStatus(h.eco.Products[0].ID, "REMOVED") })
			}},
		{name: "brand INACTIVE", code: unapproved, desc: "ERR-GEN-002: Software product status is INACTIVE", step: "register_status",
			before: func(t *testing.T, h *harness) {
				setStatus(t, h, func() error { return h.eco.Register.SetBrandStatus(h.eco.ADRs[0].BrandID(), "INACTIVE") })
			}},
		{name: "legal entity SUSPENDED", code: unapproved, desc: "ERR-GEN-002: Software product status is SUSPENDED", step: "register_status",
			before: func(t *testing.T, h *harness) {
				setStatus(t, h, func() error {
					return h.eco.Register.SetLegalEntityStatus(h.eco.ADRs[0].LegalEntityID(), "SUSPENDED")
				})
			}},
		{name: "product unknown to the Register", code: unapproved, desc: "ERR-GEN-001: Software product not found", step: "register_status",
			before: func(t *testing.T, h *harness) {
				setStatus(t, h, func() error { h.eco.Register.RemoveProduct(h.eco.Products[0].ID); return nil })
			}},
		{name: "product never in the Register (forced refresh finds nothing)", code: unapproved, desc: "ERR-GEN-001: Software product not found", step: "register_status",
			body: func(t *testing.T, h *harness) string {
				p := h.eco.ADRs[0].NewProduct("7e3a2b1c-0000-4000-8000-000000000bad", "Never registered")
				return h.requestFor(t, h.eco.ADRs[0], p, jwa.PS256, nil)
			}},
		// 6
		{name: "SSA jwks_uri missing", code: badReq, desc: descJWKSURI, step: "jwks_uri", body: ssaEdited(func(c, _ map[string]any) { delete(c, "jwks_uri") })},
		{name: "SSA jwks_uri http", code: badReq, desc: descJWKSURI, step: "jwks_uri", body: ssaEdited(func(c, _ map[string]any) { c["jwks_uri"] = "http://adr.example/jwks" })},
		{name: "SSA jwks_uri relative", code: badReq, desc: descJWKSURI, step: "jwks_uri", body: ssaEdited(func(c, _ map[string]any) { c["jwks_uri"] = "/jwks" })},
		// 7
		{name: "ADR JWKS down", code: badReq, step: "adr_jwks", desc: "ERR-GEN-021: Could not load JWKS from Data Recipient endpoint: {adrjwks}",
			before: func(t *testing.T, h *harness) { h.eco.ADRs[0].SetJWKSDown(true) }},
		{name: "ADR JWKS empty", code: badReq, step: "adr_jwks", desc: "ERR-GEN-021: Could not load JWKS from Data Recipient endpoint: {adrjwks}",
			before: func(t *testing.T, h *harness) { h.eco.ADRs[0].SetJWKSEmpty(true) }},
		// 8
		{name: "request signed by an unknown key", code: badReq, desc: descRequest, step: "request_signature", body: func(t *testing.T, h *harness) string {
			adr, p := h.eco.ADRs[0], h.eco.Products[0]
			ssa, _ := h.eco.Register.SignSSA(p)
			s, err := adr.SignWith(jwa.ES256, mustEC(t), "rogue", adr.RequestClaims(ssa, testIssuer, p.ID))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{name: "request alg none", code: badReq, desc: descRequest, step: "request_signature", body: func(t *testing.T, h *harness) string {
			adr, p := h.eco.ADRs[0], h.eco.Products[0]
			ssa, _ := h.eco.Register.SignSSA(p)
			s, err := adr.SignWith(jwa.NoSignature, nil, "", adr.RequestClaims(ssa, testIssuer, p.ID))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{name: "request RS256", code: badReq, desc: descRequest, step: "request_signature", body: func(t *testing.T, h *harness) string {
			adr, p := h.eco.ADRs[0], h.eco.Products[0]
			ssa, _ := h.eco.Register.SignSSA(p)
			s, err := adr.SignWith(jwa.RS256, mustRSA(t), "", adr.RequestClaims(ssa, testIssuer, p.ID))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{name: "request expired", code: badReq, desc: descRequest, step: "request_signature", body: edited(func(c map[string]any) {
			c["iat"] = time.Now().Add(-time.Hour).Unix()
			c["exp"] = time.Now().Add(-10 * time.Minute).Unix()
		})},
		{name: "request not yet valid", code: badReq, desc: descRequest, step: "request_signature", body: edited(func(c map[string]any) { c["nbf"] = time.Now().Add(10 * time.Minute).Unix() })},
		{name: "request issued in the future", code: badReq, desc: descRequest, step: "request_signature", body: edited(func(c map[string]any) { c["iat"] = time.Now().Add(10 * time.Minute).Unix() })},
		{name: "request iss is not the software_id", code: badReq, desc: descRequest, step: "request_signature", body: edited(func(c map[string]any) { c["iss"] = "someone-else" })},
		{name: "request jti a number (would escape single use)", code: badReq, desc: descRequest, step: "request_signature", body: edited(func(c map[string]any) { c["jti"] = 12345 })},
		{name: "request jti an object", code: badReq, desc: descRequest, step: "request_signature", body: edited(func(c map[string]any) { c["jti"] = map[string]any{} })},
		{name: "request aud is not the issuer", code: badReq, desc: descRequest, step: "request_signature", body: edited(func(c map[string]any) { c["aud"] = "https://other-holder.example" })},
		{name: "request aud array without the issuer", code: badReq, desc: descRequest, step: "request_signature", body: edited(func(c map[string]any) { c["aud"] = []any{"https://a.example"} })},
		{name: "replayed jti", code: badReq, desc: descRequest, step: "request_signature",
			before: func(t *testing.T, h *harness) {
				// the same jti was used by an earlier (failed) attempt whose signature verified
				h.register(h.requestFor(t, h.eco.ADRs[0], h.eco.Products[0], jwa.PS256, func(c map[string]any) {
					c["jti"] = "reused-jti"
					c["application_type"] = "native"
				}))
			},
			body: edited(func(c map[string]any) { c["jti"] = "reused-jti" })},
		// 9
		{name: "sector_identifier_uri answers 404", code: badReq, desc: descSector, step: "sector_identifier",
			before: func(t *testing.T, h *harness) { h.eco.ADRs[0].SetSectorStatus(http.StatusNotFound) },
			body: ssaEdited(func(c, _ map[string]any) {
				c["sector_identifier_uri"] = c["jwks_uri"].(string)[:len(c["jwks_uri"].(string))-len("/jwks")] + "/sector-identifier"
			})},
		// 10/12
		{name: "metadata: iat missing", code: badReq, desc: "The 'iat' claim is missing.", step: "metadata", body: edited(func(c map[string]any) { delete(c, "iat") })},
		{name: "metadata: jti missing", code: badReq, desc: "The 'jti' claim is missing.", step: "metadata", body: edited(func(c map[string]any) { delete(c, "jti") })},
		{name: "metadata: exp missing", code: badReq, desc: "The 'exp' claim is missing.", step: "metadata", body: edited(func(c map[string]any) { delete(c, "exp") })},
		{name: "metadata: aud missing", code: badReq, desc: "The 'aud' claim is missing.", step: "metadata", body: edited(func(c map[string]any) { delete(c, "aud") })},
		{name: "metadata: iss missing", code: badReq, desc: "The 'iss' claim is missing.", step: "metadata", body: edited(func(c map[string]any) { delete(c, "iss") })},
		{name: "metadata: signing alg", code: badReq, desc: "The 'token_endpoint_auth_signing_alg' claim value must be one of 'PS256,ES256'.", step: "metadata",
			body: edited(func(c map[string]any) { c["token_endpoint_auth_signing_alg"] = "RS256" })},
		{name: "metadata: auth method", code: badReq, desc: "The 'token_endpoint_auth_method' claim value must be one of 'private_key_jwt'.", step: "metadata",
			body: edited(func(c map[string]any) { c["token_endpoint_auth_method"] = "client_secret_post" })},
		{name: "metadata: id token alg missing", code: badReq, desc: "The 'id_token_signed_response_alg' claim is missing.", step: "metadata",
			body: edited(func(c map[string]any) { delete(c, "id_token_signed_response_alg") })},
		{name: "metadata: grant types", code: badReq, desc: "The 'grant_types' claim value must contain the 'authorization_code' value.", step: "metadata",
			body: edited(func(c map[string]any) { c["grant_types"] = []any{"client_credentials"} })},
		{name: "metadata: request object alg", code: badReq, desc: "The 'request_object_signing_alg' claim value must be one of 'PS256,ES256'.", step: "metadata",
			body: edited(func(c map[string]any) { c["request_object_signing_alg"] = "none" })},
		{name: "metadata: response types", code: badReq, desc: "The 'response_types' claim value must be one of 'code'.", step: "metadata",
			body: edited(func(c map[string]any) { c["response_types"] = []any{"code id_token"} })},
		{name: "metadata: authorization signed alg", code: badReq, desc: "The 'authorization_signed_response_alg' claim is missing.", step: "metadata",
			body: edited(func(c map[string]any) { delete(c, "authorization_signed_response_alg") })},
		{name: "metadata: application type", code: badReq, desc: "The 'application_type' claim value must be set to 'web'.", step: "metadata",
			body: edited(func(c map[string]any) { c["application_type"] = "native" })},
		// 11
		{name: "redirect_uri not in SSA", code: badURI, step: "redirect_uris",
			desc: "ERR-DCR-003: The redirect_uri 'https://evil.example/cb' is not valid as it is not included in the software_statement",
			body: edited(func(c map[string]any) { c["redirect_uris"] = []any{"https://evil.example/cb"} })},
		{name: "redirect_uri wins over metadata errors", code: badURI, step: "redirect_uris",
			desc: "ERR-DCR-003: The redirect_uri 'https://evil.example/cb' is not valid as it is not included in the software_statement",
			body: edited(func(c map[string]any) {
				c["redirect_uris"] = []any{"https://evil.example/cb"}
				c["application_type"] = "native"
			})},
		// 13
		{name: "duplicate", code: badReq, desc: descDuplicate, step: "duplicate",
			before: func(t *testing.T, h *harness) {
				if r := h.register(h.validRequest(t)); r.status != http.StatusCreated {
					t.Fatalf("first registration: %d %s", r.status, r.body)
				}
			}},
	}
	run(t, cases)
}

// setStatus changes the simulated Register and lets a sync run, as the poller would.
func setStatus(t *testing.T, h *harness, change func() error) {
	t.Helper()
	if err := change(); err != nil {
		t.Fatal(err)
	}
	if err := h.app.RegisterData.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterProductAddedAfterSyncIsFoundByForcedRefresh(t *testing.T) {
	h := newHarness(t)
	adr := h.eco.ADRs[0]
	p := adr.NewProduct("0d5b1f8e-1111-4222-8333-944455556666", "Late Arrival")
	h.eco.Register.AddLegalEntity(cdrsim.LegalEntity{ID: "le-late", Name: "Late Pty", Status: "ACTIVE",
		Brands: []*cdrsim.Brand{{ID: "brand-late", Name: "Late", Status: "ACTIVE", Products: []*cdrsim.Product{p}}}})
	r := h.register(h.requestFor(t, adr, p, jwa.PS256, nil))
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
}

func TestRegisterStatusChecksOff(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Register.CheckStatus = false })
	h.eco.Register.RemoveProduct(h.eco.Products[0].ID)
	if r := h.register(h.validRequest(t)); r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
}

func TestRegisterAllowDuplicates(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Holder.AllowDuplicateRegistrations = true })
	for i := 0; i < 2; i++ {
		if r := h.register(h.validRequest(t)); r.status != http.StatusCreated {
			t.Fatalf("registration %d: %d %s", i, r.status, r.body)
		}
	}
}

func TestRegisterConcurrentDuplicates(t *testing.T) {
	h := newHarness(t)
	const n = 20
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = h.validRequest(t)
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses[i] = h.register(bodies[i]).status
		}(i)
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusBadRequest:
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	if created != 1 || h.countClients(t) != 1 {
		t.Fatalf("%d created, %d stored; want exactly one", created, h.countClients(t))
	}
	var rejected int64
	storetest.Gorm(t, h.db).Model(&store.AuditEvent{}).Where("type = ? AND error_code = ?", "registration.create", "invalid_client_metadata").Count(&rejected)
	if rejected != n-1 {
		t.Fatalf("%d duplicate rejections audited, want %d", rejected, n-1)
	}
}

func TestRegisterReplayOfSuccessfulRequest(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Holder.AllowDuplicateRegistrations = true })
	body := h.validRequest(t)
	if r := h.register(body); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r := h.register(body)
	if r.status != 400 || r.json["error_description"] != descRequest {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
}

// publicKeyPEM is the Register's public key as PEM bytes: what an attacker would
// use as the HMAC secret in an alg-confusion attack.
func publicKeyPEM(t *testing.T, h *harness) []byte {
	der, err := x509.MarshalPKIXPublicKey(&h.eco.Register.SigningKey().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
