package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/store"
)

// Operational edges: --help and --version, one server per database, read-only
// databases and audit verify on a read-only copy.

func TestHelpAndVersionExitZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		inStderr string
	}{
		{"--help", []string{"--help"}, 0, "usage:", ""},
		{"-h", []string{"-h"}, 0, "usage:", ""},
		{"help of a subcommand", []string{"audit", "verify", "--help"}, 0, "usage:", ""},
		{"help after a flag", []string{"--demo", "--help"}, 0, "usage:", ""},
		{"--version", []string{"--version"}, 0, "dcrconsole ", ""},
		{"unknown flag is still an error", []string{"--bogus"}, 2, "", "usage:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.inStderr) {
				t.Fatalf("exit code %d (want %d), stdout %q, stderr %q", code, tt.code, stdout, stderr)
			}
		})
	}
}

// TestVersionFromLinkerFlags builds the binary as a release would and checks
// that --version prints the version and commit given at link time.
func TestVersionFromLinkerFlags(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "dcrconsole")
	build := exec.Command("go", "build", "-o", bin, "-ldflags", "-X main.version=v9.8.7-test -X main.commit=0123456789abcdef", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.Contains(string(out), "dcrconsole v9.8.7-test (commit 0123456789abcdef)") {
		t.Fatalf("--version: %v %q", err, out)
	}
}

func TestVersionLine(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name            string
		version, commit string
		info            *debug.BuildInfo
		ok              bool
		want            string
	}{
		{"from build information", "", "", stamped, true, "dcrconsole v1.2.3 (commit abc123, with uncommitted changes) go1.26.0"},
		{"linker flags win", "v2.0.0", "def456", stamped, true, "dcrconsole v2.0.0 (commit def456, with uncommitted changes) go1.26.0"},
		{"devel build without VCS", "", "", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}}, true, "dcrconsole devel (commit unknown) go1.26.0"},
		{"no build information", "", "", nil, false, "dcrconsole devel (commit unknown)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionLine(tt.version, tt.commit, tt.info, tt.ok); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSecondServerRefusesBeforeTouchingDatabase starts a server (and a demo),
// then a second one on the same database: the second exits non-zero naming the
// first's pid, and the first's database is exactly as it was (a second --demo
// used to wipe it).
func TestSecondServerRefusesBeforeTouchingDatabase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		demo bool
	}{{"server", false}, {"demo", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := []string{"TMPDIR=" + t.TempDir()}
			e := newEcosystem(t, 0)
			cfg := writeConfig(t, e)
			args, verify := []string{}, []string{"audit", "verify", "--config", cfg.Path}
			if tt.demo {
				args, verify = []string{"--demo"}, []string{"audit", "verify", "--demo"}
			}
			first := startServer(t, cfg, env, args...)
			if tt.demo {
				first.waitLog(t, "registrations done", demoDeadline)
			}
			first.waitReady(t)
			if !tt.demo {
				registerAll(t, first, e, cfg.URL)
			}
			code, before, stderr := runCLI(t, env, verify...)
			if code != 0 {
				t.Fatalf("audit verify: %d %s", code, stderr)
			}

			code, stdout, stderr := runCLI(t, env, append([]string{"--config", cfg.Path}, args...)...)
			want := fmt.Sprintf("pid %d", first.cmd.Process.Pid)
			if code == 0 || !strings.Contains(stderr, "in use by another dcrconsole") || !strings.Contains(stderr, want) {
				t.Fatalf("second start: exit code %d, stdout %q, stderr %q; want non-zero naming %q", code, stdout, stderr, want)
			}
			if first.exited() {
				t.Fatal("the first server died")
			}
			first.waitReady(t)
			if _, after, _ := runCLI(t, env, verify...); after != before {
				t.Fatalf("the first server's database changed:\nbefore %q\nafter  %q", before, after)
			}
			if code := first.stop(t); code != 0 {
				t.Fatalf("first server: exit code %d", code)
			}
		})
	}
}

// otherUser runs cmd as nobody when the test runs as root (root ignores file
// modes), making the paths it needs reachable; otherwise cmd runs as is.
func otherUser(t *testing.T, cmd *exec.Cmd, reachable ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	for _, p := range append(reachable, filepath.Dir(binPath)) {
		for d := p; d != "/" && d != "." && d != os.TempDir(); d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() && fi.Mode().Perm()&0o005 != 0o005 {
				if err := os.Chmod(d, fi.Mode().Perm()|0o005); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// runAs runs the binary as a user who cannot write what readOnly made read-only.
func runAs(t *testing.T, reachable []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	otherUser(t, cmd, reachable...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("dcrconsole %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// chmodAll sets modes, restored at cleanup so the temporary directory can go.
func chmodAll(t *testing.T, modes map[string]os.FileMode) {
	t.Helper()
	for p, m := range modes {
		if err := os.Chmod(p, m); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for p := range modes {
			os.Chmod(p, 0o755)
		}
	})
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestAuditVerifyOnReadOnlyCopy copies a database (checkpointed, and with an
// un-checkpointed -wal as a copy of a running server's files has) into a
// read-only directory and verifies it as a user who cannot write there: it
// succeeds, counts every event, and leaves no -wal or -shm behind.
func TestAuditVerifyOnReadOnlyCopy(t *testing.T) {
	t.Parallel()
	const events = 5
	ctx := context.Background()
	for _, withWAL := range []bool{false, true} {
		t.Run("wal="+strconv.FormatBool(withWAL), func(t *testing.T) {
			t.Parallel()
			src := filepath.Join(t.TempDir(), "src.db")
			db, err := store.Open(ctx, src, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range events {
				if err := audit.New(db).Record(ctx, &store.AuditEvent{Type: "test.event", Actor: "test", Outcome: "success", Reason: strconv.Itoa(i)}); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			copy := filepath.Join(dir, "copy.db")
			files := []string{""}
			if withWAL {
				files = append(files, "-wal") // copied while open: the events are in the -wal
			} else if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			modes := map[string]os.FileMode{dir: 0o555}
			for _, suffix := range files {
				raw, err := os.ReadFile(src + suffix)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(copy+suffix, raw, 0o644); err != nil {
					t.Fatal(err)
				}
				modes[copy+suffix] = 0o444
			}
			db.Close()
			chmodAll(t, modes)
			before := names(t, dir)

			code, stdout, stderr := runAs(t, []string{dir}, "audit", "verify", "--db", copy)
			if want := fmt.Sprintf("audit chain intact: %d events", events); code != 0 || !strings.Contains(stdout, want) {
				t.Fatalf("exit code %d, stdout %q, stderr %q; want 0 and %q", code, stdout, stderr, want)
			}
			if after := names(t, dir); !slices.Equal(before, after) {
				t.Fatalf("verify left files behind: before %v, after %v", before, after)
			}
		})
	}
}

// TestReadOnlyDatabaseIsReportedAsReadOnly: a server on a database it cannot
// write stops with "read-only" and the path, not SQLite's "no such file".
func TestReadOnlyDatabaseIsReportedAsReadOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		dirMode os.FileMode
		dbMode  os.FileMode
		names   func(cfg testConfig) string
	}{
		{"read-only directory", 0o555, 0o644, func(c testConfig) string { return filepath.Dir(c.DBPath) + " is read-only" }},
		{"read-only database file", 0o777, 0o444, func(c testConfig) string { return c.DBPath + " is read-only" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := writeConfig(t, nil)
			existingDatabase(t, cfg.DBPath)
			dir := filepath.Dir(cfg.DBPath)
			chmodAll(t, map[string]os.FileMode{cfg.Path: 0o644, cfg.DBPath: tt.dbMode, dir: tt.dirMode})
			before := names(t, dir)
			code, stdout, stderr := runAs(t, []string{dir}, "--config", cfg.Path)
			if want := tt.names(cfg); code != 1 || !strings.Contains(stderr, want) || strings.Contains(stderr, "no such file") {
				t.Fatalf("exit code %d, stdout %q, stderr %q; want 1 and %q", code, stdout, stderr, want)
			}
			if after := names(t, dir); tt.dirMode == 0o555 && !slices.Equal(before, after) {
				t.Fatalf("files appeared: before %v, after %v", before, after)
			}
		})
	}
}
