package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestLoadgenSmallRun runs the whole command (build, Register and ADR, the four
// phases, kill -9 and its check) with 50 products and short phases, and checks
// the output: every phase answered without an error and nothing acknowledged was
// lost. No timing is asserted.
func TestLoadgenSmallRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server: skipped with -short")
	}
	var stdout, stderr bytes.Buffer
	args := []string{"-products", "50", "-c", "4", "-duration", "300ms", "-presign-rate", "1000", "-kill9"}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	t.Log("\n" + out)
	for _, name := range []string{"register", "token", "get", "put"} {
		line := phaseLine(t, out, name)
		if !strings.Contains(line, " errors=0 ") {
			t.Errorf("%s: errors: %s", name, line)
		}
		if n := field(t, line, "requests"); n < 1 {
			t.Errorf("%s: no requests: %s", name, line)
		}
		for _, key := range []string{"req/s=", "p50=", "p95=", "p99=", "server_cpu/req=", "peak_rss="} {
			if !strings.Contains(line, key) {
				t.Errorf("%s: no %s in %s", name, key, line)
			}
		}
	}
	for _, want := range []string{"start_to_readyz=", "idle_rss=", "kill -9 check:", " lost=0", "audit verify after the run: audit chain intact"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// phaseLine returns the output line of the named phase.
func phaseLine(t *testing.T, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, name+" ") {
			return line
		}
	}
	t.Fatalf("no %s line", name)
	return ""
}

// field returns the integer value of key=N in line.
func field(t *testing.T, line, key string) int {
	t.Helper()
	m := regexp.MustCompile(` ?` + regexp.QuoteMeta(key) + `=(\d+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no %s= in %s", key, line)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestFlagsRefused(t *testing.T) {
	for _, args := range [][]string{{"-products", "0"}, {"-c", "0"}, {"-n", "-1"}, {"-nope"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
