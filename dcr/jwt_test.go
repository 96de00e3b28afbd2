package dcr

import (
	"errors"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/jsonlimit"
)

// TestParseJWTBoundsNesting: a header or payload nesting deeper than
// jsonlimit.MaxDepth is refused before it is decoded; the claims object counts
// as the first level.
func TestParseJWTBoundsNesting(t *testing.T) {
	arrays := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, tc := range []struct {
		name, header, payload string
		wantErr               string
	}{
		{"32 levels in the payload", `{"alg":"PS256"}`, `{"x":` + arrays(31) + `}`, ""},
		{"33 levels in the payload", `{"alg":"PS256"}`, `{"x":` + arrays(32) + `}`, "payload: nesting deeper than 32 levels"},
		{"9,000 levels in the payload", `{"alg":"PS256"}`, `{"x":` + arrays(9000) + `}`, "payload: nesting deeper than 32 levels"},
		{"brackets in strings do not count", `{"alg":"PS256"}`, `{"x":"` + strings.Repeat("[", 100) + `"}`, ""},
		{"33 levels in the header", `{"alg":"PS256","x":` + arrays(32) + `}`, `{}`, "header: nesting deeper than 32 levels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := ParseJWT(b64(tc.header) + "." + b64(tc.payload) + ".c2ln")
			if tc.wantErr == "" {
				if err != nil || tok == nil {
					t.Fatalf("ParseJWT: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr || !errors.Is(err, jsonlimit.ErrTooDeep) {
				t.Fatalf("ParseJWT error %v, want %q wrapping ErrTooDeep", err, tc.wantErr)
			}
		})
	}
}

func TestSplitJWT(t *testing.T) {
	for _, tc := range []struct {
		name, raw, header, payload, wantErr string
	}{
		{"three segments", b64(`{"a":1}`) + "." + b64("[[[") + ".c2ln", `{"a":1}`, "[[[", ""},
		{"two segments", "a.b", "", "", "not a compact JWS: want exactly three segments"},
		{"no dot", "abc", "", "", "not a compact JWS: no '.'"},
		{"empty payload", "a..c", "", "", "not a compact JWS: empty header or payload"},
		{"bad base64", "a!.b.c", "", "", "header is not base64url: illegal base64 data at input byte 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, p, err := SplitJWT(tc.raw)
			if got := errText(err); got != tc.wantErr || string(h) != tc.header || string(p) != tc.payload {
				t.Fatalf("SplitJWT = %q, %q, %q", h, p, got)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
