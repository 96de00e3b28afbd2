package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestApplyMemoryLimit: server.memory_limit_bytes becomes the runtime's soft
// limit, 0 means none, and an operator's GOMEMLIMIT is left as it is.
func TestApplyMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	cases := []struct {
		name       string
		configured int64
		fromEnv    bool
		envLimit   int64
		want       int64
	}{
		{"configured", 32 << 20, false, 0, 32 << 20},
		{"zero is no limit", 0, false, 0, math.MaxInt64},
		{"GOMEMLIMIT wins", 32 << 20, true, 100 << 20, 100 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fromEnv {
				debug.SetMemoryLimit(tc.envLimit) // what the runtime did with GOMEMLIMIT at start
			}
			if got := applyMemoryLimit(tc.configured, tc.fromEnv); got != tc.want {
				t.Fatalf("limit = %d, want %d", got, tc.want)
			}
		})
	}
}
