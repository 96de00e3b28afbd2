package config

import (
	"strings"
	"testing"
)

func TestDisplayTimezone(t *testing.T) {
	for _, tc := range []struct {
		name, value, wantErr string
	}{
		{"default", "", ""},
		{"utc", "UTC", ""},
		{"perth", "Australia/Perth", ""},
		{"unknown zone", "Australia/Atlantis", "console.display_timezone"},
		{"empty", `""`, "console.display_timezone"},
		{"local is not a zone", `"Local"`, "console.display_timezone"},
		{"path traversal", `"../../etc/passwd"`, "console.display_timezone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := ""
			switch {
			case strings.HasPrefix(tc.value, `"`):
				src = "[console]\ndisplay_timezone = " + tc.value
			case tc.value != "":
				src = "[console]\ndisplay_timezone = \"" + tc.value + "\""
			}
			c, err := Parse(src, "test.toml")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v does not name %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.value
			if want == "" {
				want = DefaultDisplayTimezone
			}
			if got := c.Console.Location().String(); got != want {
				t.Errorf("location %s, want %s", got, want)
			}
		})
	}
}
