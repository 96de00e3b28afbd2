package dcr

import (
	"fmt"
	"reflect"
	"testing"
)

const testSoftwareID = "6f7d7e42-4d0c-4b2a-9a7f-2a3f8b1c0d11"

func validRequestClaims() map[string]any {
	return map[string]any{
		"iss": testSoftwareID, "aud": "https://dh.example", "iat": 1.0, "exp": 2.0, "jti": "j-1",
		"token_endpoint_auth_method":        "private_key_jwt",
		"token_endpoint_auth_signing_alg":   "PS256",
		"id_token_signed_response_alg":      "PS256",
		"grant_types":                       []any{"client_credentials", "authorization_code", "refresh_token"},
		"response_types":                    []any{"code"},
		"authorization_signed_response_alg": "PS256",
		"request_object_signing_alg":        "PS256",
		"application_type":                  "web",
	}
}

// metadataRuleCase edits a valid request and names the first error it must cause.
type metadataRuleCase struct {
	name  string
	rules metadataRules
	edit  func(c map[string]any)
	want  string // first error; "" = valid
}

// metadataRuleCases has one case per rule of step 10 and per error description.
func metadataRuleCases() []metadataRuleCase {
	codeOnly := metadataRules{responseTypesSupported: []string{"code"}}
	hybrid := metadataRules{responseTypesSupported: []string{"code", "code id_token"}}
	jarm := metadataRules{responseTypesSupported: []string{"code"}, jarmEncryption: true}
	return []metadataRuleCase{
		{"valid", codeOnly, func(map[string]any) {}, ""},
		{"iss missing", codeOnly, func(c map[string]any) { delete(c, "iss") }, "The 'iss' claim is missing."},
		{"iss empty", codeOnly, func(c map[string]any) { c["iss"] = "" }, "The 'iss' claim is missing."},
		{"iat missing", codeOnly, func(c map[string]any) { delete(c, "iat") }, "The 'iat' claim is missing."},
		{"exp missing", codeOnly, func(c map[string]any) { delete(c, "exp") }, "The 'exp' claim is missing."},
		{"jti missing", codeOnly, func(c map[string]any) { delete(c, "jti") }, "The 'jti' claim is missing."},
		{"aud missing", codeOnly, func(c map[string]any) { delete(c, "aud") }, "The 'aud' claim is missing."},
		{"jti a number", codeOnly, func(c map[string]any) { c["jti"] = 12345.0 }, "The 'jti' claim is missing."},
		{"iss a list", codeOnly, func(c map[string]any) { c["iss"] = []any{testSoftwareID} }, "The 'iss' claim is missing."},
		{"aud a number", codeOnly, func(c map[string]any) { c["aud"] = 7.0 }, "The 'aud' claim is missing."},
		{"aud an empty list", codeOnly, func(c map[string]any) { c["aud"] = []any{} }, "The 'aud' claim is missing."},
		{"iss value", codeOnly, func(c map[string]any) { c["iss"] = "other" }, "The 'iss' claim value must be set to '" + testSoftwareID + "'."},
		{"iss value other case ok", codeOnly, func(c map[string]any) { c["iss"] = "6F7D7E42-4D0C-4B2A-9A7F-2A3F8B1C0D11" }, ""},
		{"signing alg missing", codeOnly, func(c map[string]any) { delete(c, "token_endpoint_auth_signing_alg") }, "The 'token_endpoint_auth_signing_alg' claim is missing."},
		{"signing alg RS256", codeOnly, func(c map[string]any) { c["token_endpoint_auth_signing_alg"] = "RS256" }, "The 'token_endpoint_auth_signing_alg' claim value must be one of 'PS256,ES256'."},
		{"signing alg number", codeOnly, func(c map[string]any) { c["token_endpoint_auth_signing_alg"] = 256.0 }, "The 'token_endpoint_auth_signing_alg' claim value must be one of 'PS256,ES256'."},
		{"signing alg lower case ok", codeOnly, func(c map[string]any) { c["token_endpoint_auth_signing_alg"] = "es256" }, ""},
		{"auth method missing", codeOnly, func(c map[string]any) { delete(c, "token_endpoint_auth_method") }, "The 'token_endpoint_auth_method' claim is missing."},
		{"auth method secret", codeOnly, func(c map[string]any) { c["token_endpoint_auth_method"] = "client_secret_basic" }, "The 'token_endpoint_auth_method' claim value must be one of 'private_key_jwt'."},
		{"id token alg missing", codeOnly, func(c map[string]any) { delete(c, "id_token_signed_response_alg") }, "The 'id_token_signed_response_alg' claim is missing."},
		{"id token alg none", codeOnly, func(c map[string]any) { c["id_token_signed_response_alg"] = "none" }, "The 'id_token_signed_response_alg' claim value must be one of 'PS256,ES256'."},
		{"grant types missing", codeOnly, func(c map[string]any) { delete(c, "grant_types") }, "The 'grant_types' claim is missing."},
		{"grant types without code", codeOnly, func(c map[string]any) { c["grant_types"] = []any{"client_credentials"} }, "The 'grant_types' claim value must contain the 'authorization_code' value."},
		{"grant types unknown value", codeOnly, func(c map[string]any) { c["grant_types"] = []any{"authorization_code", "implicit"} }, "The 'grant_types' claim value must be one of 'client_credentials,authorization_code,refresh_token'."},
		{"grant types as string", codeOnly, func(c map[string]any) { c["grant_types"] = "authorization_code" }, ""},
		{"request object alg bad", codeOnly, func(c map[string]any) { c["request_object_signing_alg"] = "HS256" }, "The 'request_object_signing_alg' claim value must be one of 'PS256,ES256'."},
		{"request object alg absent ok", codeOnly, func(c map[string]any) { delete(c, "request_object_signing_alg") }, ""},
		{"response types missing", codeOnly, func(c map[string]any) { delete(c, "response_types") }, "The 'response_types' claim is missing."},
		{"response types as string", codeOnly, func(c map[string]any) { c["response_types"] = "code" }, ""},
		{"response types token", codeOnly, func(c map[string]any) { c["response_types"] = []any{"token"} }, "The 'response_types' claim value must be one of 'code'."},
		{"response types hybrid not enabled", codeOnly, func(c map[string]any) { c["response_types"] = "code id_token" }, "The 'response_types' claim value must be one of 'code'."},
		{"response types object", codeOnly, func(c map[string]any) { c["response_types"] = map[string]any{"a": 1.0} }, "The 'response_types' claim value must be one of 'code'."},
		{"auth signed alg missing", codeOnly, func(c map[string]any) { delete(c, "authorization_signed_response_alg") }, "The 'authorization_signed_response_alg' claim is missing."},
		{"auth signed alg bad", codeOnly, func(c map[string]any) { c["authorization_signed_response_alg"] = "RS256" }, "The 'authorization_signed_response_alg' claim value must be one of 'PS256,ES256'."},
		{"jarm alg bad", jarm, func(c map[string]any) { c["authorization_encrypted_response_alg"] = "RSA1_5" }, "The 'authorization_encrypted_response_alg' claim value must be one of 'RSA-OAEP,RSA-OAEP-256'."},
		{"jarm enc without alg", jarm, func(c map[string]any) { c["authorization_encrypted_response_enc"] = "A256GCM" }, "The 'authorization_encrypted_response_alg' claim is missing."},
		{"jarm enc bad", jarm, func(c map[string]any) {
			c["authorization_encrypted_response_alg"] = "RSA-OAEP"
			c["authorization_encrypted_response_enc"] = "A128GCM"
		}, "The 'authorization_encrypted_response_enc' claim value must be one of 'A128CBC-HS256,A256GCM'."},
		{"jarm alg bad when disabled", codeOnly, func(c map[string]any) { c["authorization_encrypted_response_alg"] = "RSA1_5" }, "The 'authorization_encrypted_response_alg' claim value must be one of 'RSA-OAEP,RSA-OAEP-256'."},
		{"jarm enc without alg when disabled", codeOnly, func(c map[string]any) { c["authorization_encrypted_response_enc"] = "A256GCM" }, "The 'authorization_encrypted_response_alg' claim is missing."},
		{"jarm valid when disabled", codeOnly, func(c map[string]any) { c["authorization_encrypted_response_alg"] = "RSA-OAEP" }, ""},
		{"hybrid needs id token enc alg", hybrid, func(c map[string]any) { c["response_types"] = []any{"code id_token"} }, "The 'id_token_encrypted_response_alg' claim is missing."},
		{"hybrid id token enc alg bad", hybrid, func(c map[string]any) {
			c["response_types"] = []any{"code id_token"}
			c["id_token_encrypted_response_alg"] = "dir"
			c["id_token_encrypted_response_enc"] = "A256GCM"
		}, "The 'id_token_encrypted_response_alg' claim value must be one of 'RSA-OAEP,RSA-OAEP-256'."},
		{"hybrid id token enc bad", hybrid, func(c map[string]any) {
			c["response_types"] = []any{"code id_token"}
			c["id_token_encrypted_response_alg"] = "RSA-OAEP"
			c["id_token_encrypted_response_enc"] = "A192GCM"
		}, "The 'id_token_encrypted_response_enc' claim value must be one of 'A128CBC-HS256,A256GCM'."},
		{"hybrid id token enc missing", hybrid, func(c map[string]any) {
			c["response_types"] = []any{"code id_token"}
			c["id_token_encrypted_response_alg"] = "RSA-OAEP"
		}, "The 'id_token_encrypted_response_enc' claim is missing."},
		{"hybrid valid", hybrid, func(c map[string]any) {
			c["response_types"] = []any{"code id_token", "code"}
			c["id_token_encrypted_response_alg"] = "RSA-OAEP-256"
			c["id_token_encrypted_response_enc"] = "A128CBC-HS256"
		}, ""},
		{"application type native", codeOnly, func(c map[string]any) { c["application_type"] = "native" }, "The 'application_type' claim value must be set to 'web'."},
		{"application type absent ok", codeOnly, func(c map[string]any) { delete(c, "application_type") }, ""},
		{"order: first rule wins", codeOnly, func(c map[string]any) {
			c["application_type"] = "native"
			c["token_endpoint_auth_signing_alg"] = "RS256"
		}, "The 'token_endpoint_auth_signing_alg' claim value must be one of 'PS256,ES256'."},
	}
}

// TestMetadataRules runs every case through the rules.
func TestMetadataRules(t *testing.T) {
	for _, tc := range metadataRuleCases() {
		t.Run(tc.name, func(t *testing.T) {
			c := validRequestClaims()
			tc.edit(c)
			var m Metadata
			errs := tc.rules.apply(claimSource(c), testSoftwareID, true, &m)
			got := ""
			if len(errs) > 0 {
				got = errs[0]
			}
			if got != tc.want {
				t.Fatalf("first error\n got %q\nwant %q\n(all: %v)", got, tc.want, errs)
			}
		})
	}
}

// TestEveryMetadataRuleHasAFailingCase replays the failing cases rule by rule and
// requires each row of both rule tables to be the first to fail in at least one.
func TestEveryMetadataRuleHasAFailingCase(t *testing.T) {
	tables := map[string][]metadataRule{"requestClaimRules": requestClaimRules, "metadataClaimRules": metadataClaimRules}
	covered := map[string]bool{}
	for _, tc := range metadataRuleCases() {
		if tc.want == "" {
			continue
		}
		c := validRequestClaims()
		tc.edit(c)
		r := ruleRun{metadataRules: tc.rules, c: claimSource(c), softwareID: testSoftwareID, m: &Metadata{}}
	replay:
		for _, name := range []string{"requestClaimRules", "metadataClaimRules"} {
			for i, rule := range tables[name] {
				rule.check(&r, rule.claim)
				if len(r.errs) > 0 {
					covered[fmt.Sprint(name, i)] = true
					break replay
				}
			}
		}
	}
	for name, table := range tables {
		for i, rule := range table {
			if !covered[fmt.Sprint(name, i)] {
				t.Errorf("%s[%d] (%s) has no case in metadataRuleCases that it fails first", name, i, rule.claim)
			}
		}
	}
}

// TestMetadataRulesCollectAll pins the whole list, which the audit detail carries:
// every violation, in the tables' order, not only the first.
func TestMetadataRulesCollectAll(t *testing.T) {
	c := claimSource{"iss": "other", "jti": 5.0, "aud": []any{},
		"token_endpoint_auth_signing_alg": "RS256", "token_endpoint_auth_method": "client_secret_basic",
		"grant_types": []any{"client_credentials"}, "request_object_signing_alg": "HS256",
		"response_types": "code id_token", "authorization_encrypted_response_enc": "A128GCM",
		"id_token_encrypted_response_enc": "x", "application_type": "native"}
	rules := metadataRules{responseTypesSupported: []string{"code", "code id_token"}}
	want := []string{
		"The 'iat' claim is missing.",
		"The 'exp' claim is missing.",
		"The 'jti' claim is missing.",
		"The 'aud' claim is missing.",
		"The 'iss' claim value must be set to '" + testSoftwareID + "'.",
		"The 'token_endpoint_auth_signing_alg' claim value must be one of 'PS256,ES256'.",
		"The 'token_endpoint_auth_method' claim value must be one of 'private_key_jwt'.",
		"The 'id_token_signed_response_alg' claim is missing.",
		"The 'grant_types' claim value must contain the 'authorization_code' value.",
		"The 'request_object_signing_alg' claim value must be one of 'PS256,ES256'.",
		"The 'authorization_encrypted_response_alg' claim is missing.",
		"The 'authorization_encrypted_response_enc' claim value must be one of 'A128CBC-HS256,A256GCM'.",
		"The 'id_token_encrypted_response_alg' claim is missing.",
		"The 'id_token_encrypted_response_enc' claim value must be one of 'A128CBC-HS256,A256GCM'.",
		"The 'application_type' claim value must be set to 'web'.",
	}
	if got := rules.apply(c, testSoftwareID, true, &Metadata{}); !reflect.DeepEqual([]string(got), want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

func TestMetadataCanonicalValues(t *testing.T) {
	c := validRequestClaims()
	c["token_endpoint_auth_signing_alg"] = "es256"
	c["grant_types"] = []any{"AUTHORIZATION_CODE", "authorization_code"}
	c["response_types"] = "CODE"
	delete(c, "request_object_signing_alg")
	delete(c, "application_type")
	var m Metadata
	if errs := (metadataRules{responseTypesSupported: []string{"code"}}).apply(claimSource(c), testSoftwareID, true, &m); len(errs) > 0 {
		t.Fatal(errs)
	}
	if m.TokenEndpointAuthSigningAlg != "ES256" || !reflect.DeepEqual(m.GrantTypes, []string{"authorization_code"}) ||
		!reflect.DeepEqual(m.ResponseTypes, []string{"code"}) || m.RequestObjectSigningAlg != "PS256" || m.ApplicationType != "web" {
		t.Fatalf("not canonical: %+v", m)
	}
}

func TestRedirectURIs(t *testing.T) {
	ssa := []string{"https://adr.example/callback", "https://adr.example/Other"}
	tests := []struct {
		name     string
		value    any
		want     []string
		wantBad  string
		wantFail bool
	}{
		{"omitted uses the SSA list", nil, ssa, "", false},
		{"subset", []any{"https://adr.example/callback"}, []string{"https://adr.example/callback"}, "", false},
		{"case-insensitive, SSA spelling kept", []any{"HTTPS://ADR.EXAMPLE/other"}, []string{"https://adr.example/Other"}, "", false},
		{"string form", "https://adr.example/callback", []string{"https://adr.example/callback"}, "", false},
		{"not in SSA", []any{"https://adr.example/callback", "https://evil.example/cb"}, nil, "https://evil.example/cb", true},
		{"Kelvin sign is not k", []any{"https://adr.example/callbac\u212a"}, nil, "https://adr.example/callbac\u212a", true},
		{"dotless i is not i", []any{"https://adr.example/callback?\u0131"}, nil, "https://adr.example/callback?\u0131", true},
		{"trailing slash differs", []any{"https://adr.example/callback/"}, nil, "https://adr.example/callback/", true},
		{"number", []any{42.0}, nil, "42", true},
		{"object", map[string]any{}, nil, "map[]", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := claimSource{}
			if tc.value != nil {
				c["redirect_uris"] = tc.value
			}
			got, bad, ok := checkRedirectURIs(c, ssa)
			if ok == tc.wantFail || bad != tc.wantBad || (!tc.wantFail && !reflect.DeepEqual(got, tc.want)) {
				t.Fatalf("got %v %q %v", got, bad, ok)
			}
		})
	}
}

func TestFilterScope(t *testing.T) {
	supported := map[string]bool{"openid": true, "cdr:registration": true, "bank:accounts.basic:read": true}
	got := filterScope("openid bank:accounts.basic:read admin:metrics.basic:read cdr:registration openid", supported)
	if got != "openid bank:accounts.basic:read cdr:registration" {
		t.Fatalf("got %q", got)
	}
}

// BenchmarkMetadataRules is step 10 alone over a valid request.
//
//	go test ./dcr -run '^$' -bench MetadataRules -benchmem
func BenchmarkMetadataRules(b *testing.B) {
	c := claimSource(validRequestClaims())
	rules := metadataRules{responseTypesSupported: []string{"code"}}
	b.ReportAllocs()
	for b.Loop() {
		var m Metadata
		if errs := rules.apply(c, testSoftwareID, true, &m); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
