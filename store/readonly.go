package store

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Opening for reading only (audit verify) must work on a read-only copy, as a
// user who cannot write the directory, and leave no -wal or -shm behind. SQLite
// in WAL mode creates -shm (and -wal) even for a read-only connection unless
// the file is opened immutable, and immutable ignores the -wal. So:
//
//   - a live server holds the database's lock: open mode=ro in place, sharing
//     the server's -wal and -shm, which exist already (nothing new is made);
//   - no live server and no (or an empty) -wal: every committed change is in
//     the main file, which nothing is changing: open mode=ro&immutable=1, which
//     takes no locks and creates no file;
//   - no live server but a non-empty -wal (a crash, or a copy taken while the
//     server ran): its transactions are committed and must be verified too, and
//     reading it needs an -shm. Copy the file and its -wal into a private
//     temporary directory and read the copy; the copy is removed at Close.
//
// The mode chosen is in the returned DB's ReadMode.

// Read-only modes, as reported by DB.ReadMode.
const (
	ReadModeShared    = "shared with the running server (mode=ro)"
	ReadModeImmutable = "immutable (mode=ro&immutable=1)"
	ReadModeWALCopy   = "private copy of the database and its un-checkpointed -wal"
)

// ReadMode is how a read-only DB was opened ("" for a read-write one).
func (db *DB) ReadMode() string { return db.readMode }

func openReadOnly(ctx context.Context, path string, opts Options) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("mode", "ro")
	q.Set("_query_only", "true")
	open, mode, cleanup := path, ReadModeImmutable, func() {}
	switch {
	case lockHeld(path):
		mode = ReadModeShared
	case nonEmpty(path + "-wal"):
		dir, err := os.MkdirTemp("", "dcrconsole-verify-")
		if err != nil {
			return nil, fmt.Errorf("store: %s-wal holds un-checkpointed changes and no private copy could be made: %w", path, err)
		}
		cleanup = func() { os.RemoveAll(dir) }
		open, mode = filepath.Join(dir, "copy.db"), ReadModeWALCopy
		for _, suffix := range []string{"", "-wal"} {
			if err := copyFile(path+suffix, open+suffix); err != nil {
				cleanup()
				return nil, fmt.Errorf("store: copy %s%s to read its un-checkpointed changes: %w", path, suffix, err)
			}
		}
	default:
		q.Set("immutable", "1")
	}
	r, err := gorm.Open(sqlite.Open(sqliteURI(open, q)), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	rsql, _ := r.DB()
	rsql.SetMaxOpenConns(opts.Readers)
	db := &DB{r: r, path: path, readMode: mode, cleanup: cleanup}
	var current int
	if err := r.WithContext(ctx).Raw(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current).Error; err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s is not a dcrconsole database: %w", path, err)
	}
	if current > SchemaVersion() {
		db.Close()
		return nil, fmt.Errorf("store: database schema version %d is newer than this binary's %d", current, SchemaVersion())
	}
	return db, nil
}

func nonEmpty(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Size() > 0
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
