package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/store"
)

// TestChangePasswordAcceptsEveryAllowedPassword drives the change-password form
// and the sign-in form with passwords at the policy's bounds: long and
// multi-byte ones work (over 72 bytes was a 500 with bcrypt), the others are a
// form error naming the rule.
func TestChangePasswordAcceptsEveryAllowedPassword(t *testing.T) {
	tests := []struct {
		name, password string
		status         int
		says           string // in the form error when refused
	}{
		{"12 characters", "twelve chars", http.StatusOK, ""},
		{"80 ASCII characters", strings.Repeat("abcdefgh1!", 8), http.StatusOK, ""},
		{"256 characters", strings.Repeat("z", 256), http.StatusOK, ""},
		{"multi-byte UTF-8 over 72 bytes", strings.Repeat("пароль🔑", 20), http.StatusOK, ""},
		{"11 characters", "eleven char", http.StatusBadRequest, "at least 12 characters"},
		{"257 characters", strings.Repeat("z", 257), http.StatusBadRequest, "at most 256 characters"},
		{"257 multi-byte characters", strings.Repeat("ü", 257), http.StatusBadRequest, "at most 256 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			cookie := h.operator(t, store.RoleViewer)
			form := url.Values{"current": {testPassword}, "new": {tt.password}, "confirm": {tt.password}}.Encode()
			r := h.console(http.MethodPost, "/console/account/password", cookie, form)
			if r.status != tt.status {
				t.Fatalf("change password: %d, want %d\n%s", r.status, tt.status, r.body)
			}
			if tt.status != http.StatusOK {
				if !strings.Contains(string(r.body), tt.says) {
					t.Fatalf("form error does not say %q", tt.says)
				}
				h.signIn(t, "viewer-user", testPassword) // unchanged
				return
			}
			h.signIn(t, "viewer-user", tt.password)
		})
	}
}
