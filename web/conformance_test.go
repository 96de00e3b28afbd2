package web

import (
	"context"
	"net/http"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/config"
)

// TestJARMEncryptionClaims: authorization_encrypted_response_alg/_enc are
// validated whether or not JARM encryption is enabled, and are stored and
// returned (201 body and GET) only when it is. POST /register, the processing
// API and the JWT inspector's dry run answer every case the same way.
func TestJARMEncryptionClaims(t *testing.T) {
	const (
		algKey  = "authorization_encrypted_response_alg"
		encKey  = "authorization_encrypted_response_enc"
		algDesc = "The 'authorization_encrypted_response_alg' claim value must be one of 'RSA-OAEP,RSA-OAEP-256'."
		encDesc = "The 'authorization_encrypted_response_enc' claim value must be one of 'A128CBC-HS256,A256GCM'."
		algMiss = "The 'authorization_encrypted_response_alg' claim is missing."
	)
	cases := []struct {
		name    string
		claims  map[string]any
		desc    string // "" = registered
		wantAlg string // stored and returned when JARM encryption is enabled
		wantEnc string
	}{
		{name: "absent", claims: nil},
		{name: "alg only, enc defaults", claims: map[string]any{algKey: "RSA-OAEP"}, wantAlg: "RSA-OAEP", wantEnc: "A128CBC-HS256"},
		{name: "alg and enc", claims: map[string]any{algKey: "RSA-OAEP-256", encKey: "A256GCM"}, wantAlg: "RSA-OAEP-256", wantEnc: "A256GCM"},
		{name: "canonical spelling", claims: map[string]any{algKey: "rsa-oaep", encKey: "a128cbc-hs256"}, wantAlg: "RSA-OAEP", wantEnc: "A128CBC-HS256"},
		{name: "enc without alg", claims: map[string]any{encKey: "A256GCM"}, desc: algMiss},
		{name: "alg RSA1_5", claims: map[string]any{algKey: "RSA1_5"}, desc: algDesc},
		{name: "alg dir", claims: map[string]any{algKey: "dir", encKey: "A256GCM"}, desc: algDesc},
		{name: "alg not a string", claims: map[string]any{algKey: 1.0}, desc: algDesc},
		{name: "enc A128GCM", claims: map[string]any{algKey: "RSA-OAEP", encKey: "A128GCM"}, desc: encDesc},
		{name: "enc A192CBC-HS384", claims: map[string]any{algKey: "RSA-OAEP-256", encKey: "A192CBC-HS384"}, desc: encDesc},
	}
	for _, jarm := range []bool{true, false} {
		name := "jarm encryption disabled"
		if jarm {
			name = "jarm encryption enabled"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, func(c *config.Config) {
				c.Holder.JARMEncryption = jarm
				c.Holder.AllowDuplicateRegistrations = true
				c.API.Enabled, c.API.ServiceID = true, "svc-1"
			})
			key, err := h.app.Auth.NewAPIKey(context.Background(), "test", "as-1", "")
			if err != nil {
				t.Fatal(err)
			}
			adr, p := h.eco.ADRs[0], h.eco.Products[0]
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					sign := func() string {
						return h.requestFor(t, adr, p, jwa.PS256, func(c map[string]any) {
							for k, v := range tc.claims {
								c[k] = v
							}
						})
					}
					wantAlg, wantEnc := tc.wantAlg, tc.wantEnc
					if !jarm {
						wantAlg, wantEnc = "", ""
					}

					// The JWT inspector's dry run.
					res := h.app.Registrar.DryRun(context.Background(), []byte(sign()))
					switch {
					case tc.desc == "" && res.Err != nil:
						t.Errorf("dry run refused: %v", res.Err)
					case tc.desc != "" && (res.Err == nil || res.Err.Description != tc.desc):
						t.Errorf("dry run: %v, want %q", res.Err, tc.desc)
					}

					// The processing API, given the same kind of request JWT.
					_, resp, content := h.api(t, key, apiBase, map[string]string{"json": sign()})
					if tc.desc != "" {
						if resp.Action != "BAD_REQUEST" || content["error"] != "invalid_client_metadata" || content["error_description"] != tc.desc {
							t.Errorf("API: %+v", resp)
						}
					} else if resp.Action != "CREATED" {
						t.Errorf("API: %+v", resp)
					} else {
						checkJARMFields(t, "API", content, wantAlg, wantEnc)
					}

					// POST /register, then GET of what was stored.
					r := h.register(sign())
					if tc.desc != "" {
						if r.status != http.StatusBadRequest || r.json["error"] != "invalid_client_metadata" || r.json["error_description"] != tc.desc {
							t.Fatalf("POST: %d %s", r.status, r.body)
						}
						return
					}
					if r.status != http.StatusCreated {
						t.Fatalf("POST: %d %s", r.status, r.body)
					}
					checkJARMFields(t, "POST 201", r.json, wantAlg, wantEnc)
					id := r.json["client_id"].(string)
					g := h.do(http.MethodGet, "/register/"+id, "", "", bearer(h.accessToken(t, id)))
					if g.status != http.StatusOK {
						t.Fatalf("GET: %d %s", g.status, g.body)
					}
					checkJARMFields(t, "GET", g.json, wantAlg, wantEnc)
				})
			}
		})
	}
}

// checkJARMFields asserts the JARM encryption members of a registration: the
// wanted values, or absent when want is empty.
func checkJARMFields(t *testing.T, where string, body map[string]any, wantAlg, wantEnc string) {
	t.Helper()
	for k, want := range map[string]string{"authorization_encrypted_response_alg": wantAlg, "authorization_encrypted_response_enc": wantEnc} {
		got, present := body[k]
		if want == "" && present {
			t.Errorf("%s: %s = %v, want absent", where, k, got)
		}
		if want != "" && got != want {
			t.Errorf("%s: %s = %v, want %q", where, k, got, want)
		}
	}
}

// TestRegisterClaimWording has one row per row of cdr-dcr.md step 10's "which
// form each claim uses" table, through POST /register with hybrid enabled (so
// the id_token encryption rows apply and response_types lists both values).
func TestRegisterClaimWording(t *testing.T) {
	const bad = "invalid_client_metadata"
	hybrid := func(edit func(c map[string]any)) func(t *testing.T, h *harness) string {
		return edited(func(c map[string]any) {
			c["response_types"] = []any{"code id_token"}
			c["id_token_encrypted_response_alg"] = "RSA-OAEP"
			c["id_token_encrypted_response_enc"] = "A256GCM"
			edit(c)
		})
	}
	set := func(k string, v any) func(t *testing.T, h *harness) string {
		return edited(func(c map[string]any) { c[k] = v })
	}
	cases := []errCase{
		{name: "token_endpoint_auth_signing_alg", code: bad, step: "metadata", body: set("token_endpoint_auth_signing_alg", "RS256"),
			desc: "The 'token_endpoint_auth_signing_alg' claim value must be one of 'PS256,ES256'."},
		{name: "id_token_signed_response_alg", code: bad, step: "metadata", body: set("id_token_signed_response_alg", "HS256"),
			desc: "The 'id_token_signed_response_alg' claim value must be one of 'PS256,ES256'."},
		{name: "request_object_signing_alg", code: bad, step: "metadata", body: set("request_object_signing_alg", "none"),
			desc: "The 'request_object_signing_alg' claim value must be one of 'PS256,ES256'."},
		{name: "authorization_signed_response_alg", code: bad, step: "metadata", body: set("authorization_signed_response_alg", "RS256"),
			desc: "The 'authorization_signed_response_alg' claim value must be one of 'PS256,ES256'."},
		{name: "token_endpoint_auth_method", code: bad, step: "metadata", body: set("token_endpoint_auth_method", "client_secret_jwt"),
			desc: "The 'token_endpoint_auth_method' claim value must be one of 'private_key_jwt'."},
		{name: "token_endpoint_auth_method not a string", code: bad, step: "metadata", body: set("token_endpoint_auth_method", []any{"private_key_jwt"}),
			desc: "The 'token_endpoint_auth_method' claim value must be one of 'private_key_jwt'."},
		{name: "response_types with hybrid on", code: bad, step: "metadata", body: set("response_types", []any{"token"}),
			desc: "The 'response_types' claim value must be one of 'code,code id_token'."},
		{name: "authorization_encrypted_response_alg", code: bad, step: "metadata", body: set("authorization_encrypted_response_alg", "RSA1_5"),
			desc: "The 'authorization_encrypted_response_alg' claim value must be one of 'RSA-OAEP,RSA-OAEP-256'."},
		{name: "id_token_encrypted_response_alg", code: bad, step: "metadata", body: hybrid(func(c map[string]any) { c["id_token_encrypted_response_alg"] = "RSA1_5" }),
			desc: "The 'id_token_encrypted_response_alg' claim value must be one of 'RSA-OAEP,RSA-OAEP-256'."},
		{name: "id_token_encrypted_response_enc", code: bad, step: "metadata", body: hybrid(func(c map[string]any) { c["id_token_encrypted_response_enc"] = "A128GCM" }),
			desc: "The 'id_token_encrypted_response_enc' claim value must be one of 'A128CBC-HS256,A256GCM'."},
		{name: "application_type", code: bad, step: "metadata", body: set("application_type", "native"),
			desc: "The 'application_type' claim value must be set to 'web'."},
		{name: "grant_types", code: bad, step: "metadata", body: set("grant_types", []any{"client_credentials"}),
			desc: "The 'grant_types' claim value must contain the 'authorization_code' value."},
	}
	run(t, cases, func(c *config.Config) { c.Holder.ResponseTypesSupported = []string{"code", "code id_token"} })
}
