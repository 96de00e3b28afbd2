package jose

import (
	"encoding/base64"
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
