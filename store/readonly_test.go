package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func copyTo(t *testing.T, from, to string) {
	t.Helper()
	if err := copyFile(from, to); err != nil {
		t.Fatal(err)
	}
}

// TestReadOnlyOpenCreatesNothing: a read-only open reads every committed
// change (including one only in an un-checkpointed -wal), refuses writes, and
// leaves the directory as it found it, in each of its three modes.
func TestReadOnlyOpenCreatesNothing(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		mode string
		// prepare leaves a database with meta probe=yes at the returned path.
		prepare func(t *testing.T) string
	}{
		{"checkpointed copy in a read-only directory", ReadModeImmutable, func(t *testing.T) string {
			src := filepath.Join(t.TempDir(), "src.db")
			db, err := Open(ctx, src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.SetMeta(ctx, "probe", "yes"); err != nil {
				t.Fatal(err)
			}
			db.Close() // checkpoints and removes -wal and -shm
			dir := t.TempDir()
			copyTo(t, src, filepath.Join(dir, "copy.db"))
			readOnly(t, dir, "copy.db")
			return filepath.Join(dir, "copy.db")
		}},
		{"copy with an un-checkpointed -wal in a read-only directory", ReadModeWALCopy, func(t *testing.T) string {
			src := filepath.Join(t.TempDir(), "src.db")
			db, err := Open(ctx, src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.SetMeta(ctx, "probe", "yes"); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			copyTo(t, src, filepath.Join(dir, "copy.db"))
			copyTo(t, src+"-wal", filepath.Join(dir, "copy.db-wal"))
			readOnly(t, dir, "copy.db", "copy.db-wal")
			return filepath.Join(dir, "copy.db")
		}},
		{"database of a running server", ReadModeShared, func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "live.db")
			lock, err := AcquireLock(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { lock.Release() })
			db, err := Open(ctx, path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.SetMeta(ctx, "probe", "yes"); err != nil {
				t.Fatal(err)
			}
			return path
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.prepare(t)
			before := dirEntries(t, filepath.Dir(path))
			db, err := Open(ctx, path, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			if db.ReadMode() != tt.mode {
				t.Errorf("mode %q, want %q", db.ReadMode(), tt.mode)
			}
			var probe string
			if err := db.r.Raw("SELECT value FROM meta WHERE key = 'probe'").Scan(&probe).Error; err != nil || probe != "yes" {
				t.Errorf("committed change not read: %q %v", probe, err)
			}
			// Refused by SQLite itself, whoever runs the test (root ignores file modes).
			if err := db.r.Exec("INSERT INTO meta (key, value) VALUES ('w', 'x')").Error; err == nil {
				t.Error("a write through the read-only database succeeded")
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if after := dirEntries(t, filepath.Dir(path)); !slices.Equal(before, after) {
				t.Errorf("directory changed: before %v, after %v", before, after)
			}
		})
	}
}

// readOnly makes files and dir read-only, undone at cleanup so TempDir can go.
func readOnly(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		if err := os.Chmod(filepath.Join(dir, f), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
}

// TestSecondLockNamesTheHolder: while one lock is held, a second attempt is a
// LockedError naming this process; after release the lock can be taken again.
func TestSecondLockNamesTheHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "db.sqlite")
	first, err := AcquireLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if !lockHeld(path) {
		t.Fatal("lockHeld = false while held")
	}
	_, err = AcquireLock(path)
	var locked *LockedError
	if !errors.As(err, &locked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second lock: %v", err)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	if lockHeld(path) {
		t.Fatal("lockHeld = true after release")
	}
	again, err := AcquireLock(path)
	if err != nil {
		t.Fatal(err)
	}
	again.Release()
}
