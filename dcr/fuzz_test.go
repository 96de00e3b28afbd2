package dcr

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// FuzzParseJWT feeds arbitrary bodies to the parser that reads registration
// requests and SSAs before anything is verified. It must never panic, and what it
// accepts must be a three-segment token with object header and payload.
func FuzzParseJWT(f *testing.F) {
	f.Add("")
	f.Add("a.b.c")
	f.Add(b64(`{"alg":"PS256","kid":"k"}`) + "." + b64(`{"iss":"x","software_statement":"a.b.c"}`) + ".c2ln")
	f.Add(b64(`{"alg":"none"}`) + "." + b64(`{}`) + ".")
	f.Add(b64(`{"alg":1}`) + "." + b64(`[]`) + ".x")
	f.Add(b64(`{"alg":"ES256"}`) + "." + b64(`{"a":1} trailing`) + ".x")
	f.Add("...")
	f.Add(b64(`{"alg":"PS256"}`) + "." + b64(`{"x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`) + ".x")
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := ParseJWT(raw)
		if err != nil {
			return
		}
		if tok.Header == nil || tok.Claims == nil || tok.Alg() == "" && tok.Header["alg"] == nil {
			t.Fatalf("accepted a token without header/claims: %q", raw)
		}
		_ = tok.KeyID()
		_, _ = tok.String("software_statement")
	})
}

// FuzzSSAClaims runs the SSA completeness check and metadata extraction over
// arbitrary JSON objects (the claims of a verified SSA are still attacker-shaped).
func FuzzSSAClaims(f *testing.F) {
	f.Add(`{"iss":"cdr-register","software_id":"x","redirect_uris":["https://a/cb"],"software_roles":"data-recipient-software-product"}`)
	f.Add(`{"redirect_uris":"https://a/cb","scope":7}`)
	f.Add(`{"redirect_uris":[1,null,{}],"jwks_uri":["x"]}`)
	f.Fuzz(func(t *testing.T, js string) {
		var c map[string]any
		if json.Unmarshal([]byte(js), &c) != nil {
			return
		}
		s := ssaClaims(c)
		_ = s.complete()
		var m Metadata
		s.fill(&m)
		_, _ = ssaJWKSURI(s)
		_ = s.stringList("redirect_uris")
	})
}

// FuzzMetadataRules runs steps 10 and 11 over arbitrary request claims.
func FuzzMetadataRules(f *testing.F) {
	seed, _ := json.Marshal(validRequestClaims())
	f.Add(string(seed))
	f.Add(`{"response_types":{"a":1},"grant_types":[null],"redirect_uris":[["x"]]}`)
	f.Add(`{"response_types":"","grant_types":"","application_type":7}`)
	rules := metadataRules{responseTypesSupported: []string{"code", "code id_token"}, jarmEncryption: true}
	f.Fuzz(func(t *testing.T, js string) {
		var c map[string]any
		if json.Unmarshal([]byte(js), &c) != nil {
			return
		}
		var m Metadata
		errs := rules.apply(claimSource(c), testSoftwareID, true, &m)
		for _, e := range errs {
			if e == "" {
				t.Fatal("empty error description")
			}
		}
		_, _, _ = checkRedirectURIs(claimSource(c), []string{"https://a.example/cb"})
	})
}
