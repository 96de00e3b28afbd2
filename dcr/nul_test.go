package dcr

import (
	"fmt"
	"strings"
	"testing"
)

// TestRefuseNUL: a NUL anywhere in a string of the claims (values, list items,
// nested members, member names) is refused as invalid_client_metadata /
// ERR-DCR-004, with the claim's path in the detail; text without one passes.
func TestRefuseNUL(t *testing.T) {
	cases := []struct {
		name   string
		claims map[string]any
		path   string // "" = passes
	}{
		{"clean", validRequestClaims(), ""},
		{"other control characters pass", map[string]any{"client_name": "tab\there\u0001"}, ""},
		{"value", map[string]any{"client_name": "a\x00b"}, "client_name"},
		{"list item", map[string]any{"redirect_uris": []any{"https://a", "https://b\x00"}}, "redirect_uris[1]"},
		{"nested", map[string]any{"x": map[string]any{"y": []any{map[string]any{"z": "\x00"}}}}, "x.y[0].z"},
		{"member name", map[string]any{"a\x00": "v"}, "a\x00"},
		{"string list", map[string]any{"l": []string{"ok", "\x00"}}, "l[1]"},
		{"numbers and booleans pass", map[string]any{"n": 1.0, "b": true, "nil": nil}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			derr := refuseNUL(StepRequest, "request", tc.claims)
			if tc.path == "" {
				if derr != nil {
					t.Fatalf("refused: %v", derr)
				}
				return
			}
			if derr == nil || derr.Code != CodeInvalidClientMetadata || derr.Description != DescRequestInvalid || derr.Step != StepRequest {
				t.Fatalf("got %+v", derr)
			}
			if want := fmt.Sprintf("request claim %q", tc.path); !strings.Contains(derr.Detail, want) {
				t.Fatalf("detail %q does not name %s", derr.Detail, want)
			}
		})
	}
}

// BenchmarkRefuseNUL is the check on a typical registration request's claims.
func BenchmarkRefuseNUL(b *testing.B) {
	claims := validRequestClaims()
	claims["redirect_uris"] = []any{"https://adr.example/cb/1", "https://adr.example/cb/2"}
	claims["software_statement"] = strings.Repeat("a", 1500)
	for b.Loop() {
		if refuseNUL(StepRequest, "request", claims) != nil {
			b.Fatal("refused")
		}
	}
}
