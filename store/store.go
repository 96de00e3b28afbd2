// Package store owns dcrconsole's SQLite database: GORM models (one file per
// entity), versioned migrations and queries. It knows no HTTP and no protocol rules.
//
// Every SQL statement of dcrconsole is in this package (a test at the module
// root enforces it): no *gorm.DB leaves it, not even inside a transaction,
// where callers hold a *Tx that only store functions can use. Every write runs
// through DB.Tx, the single writer's group commit.
//
// How statements are written:
//   - GORM's builder for single-row CRUD and column updates (users, sessions,
//     API keys, blocks, meta, Register data).
//   - Hand-written SQL where it was measured hot: the per-registration inserts
//     (CreateClient, the search terms), ConsumeJTI and the audit insert, which
//     run once per request on the single writer, where GORM's reflection shows.
//   - Hand-written SQL where the query planner needs it: the client search and
//     the dashboard aggregates.
//   - Hand-written statements are portable SQL where they can be. Each SQLite-only
//     one (json_each, instr, unary + planner hints, rowid, COLLATE NOCASE,
//     WITHOUT ROWID, INSERT OR IGNORE, PRAGMA, the DSN, SAVEPOINT error codes) is
//     marked with a "// sqlite-only: why" comment, so a PostgreSQL dialect is
//     added by implementing exactly those.
//
// The audit vocabulary (EventType, Outcome) lives here, beside the row it
// types, so every package names events the same way; the audit package owns the
// hash chain over those rows.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DB is the database: one writer connection (SQLite allows one writer at a time,
// so queuing in Go is cheaper than spinning on SQLITE_BUSY) and a pool of readers.
type DB struct {
	// w is the single writer connection; every state change runs in a transaction on it.
	w *gorm.DB
	// r is the reader pool, for queries that change nothing.
	r    *gorm.DB
	path string
	// stats are the writer's totals (writestats.go).
	stats writeCounters

	writes     chan *writeRequest
	closing    chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once
	closeMu    sync.RWMutex
	closed     bool
	// cleanup removes what a read-only open made (a private copy), after Close.
	cleanup  func()
	readMode string
	// pg is the PostgreSQL dialect (postgres.go): w and r are one pool, and the
	// writer group-commits on it (pgwriter.go).
	pg bool
	// health tracks whether PostgreSQL answers (nil for SQLite).
	health *health
}

// Options tune Open.
type Options struct {
	// Synchronous is SQLite's synchronous pragma; FULL (the default) makes a
	// committed transaction durable before the call returns.
	Synchronous string
	// Readers is the size of the reader pool (default 4).
	Readers int
	// ReadOnly opens an existing database for reading only: no writer, no
	// migrations (an older schema is read as it is), nothing written beside
	// the file (see readonly.go). For audit verification.
	ReadOnly bool
	// MaxOpenConns bounds the PostgreSQL pool (default 20); SQLite ignores it.
	MaxOpenConns int
}

// Open opens (creating if needed) the SQLite file at path, or the PostgreSQL
// database when path is a postgres:// URL, and applies migrations.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if IsPostgresURL(path) {
		return openPostgres(ctx, path, opts)
	}
	if opts.Synchronous == "" {
		opts.Synchronous = "FULL"
	}
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	if opts.ReadOnly {
		return openReadOnly(ctx, path, opts)
	}
	if err := prepareFile(path); err != nil {
		return nil, err
	}
	gcfg := gormConfig()
	w, err := openWriter(path, opts.Synchronous, gcfg)
	if err != nil {
		return nil, err
	}
	r, err := openReaders(path, opts.Readers, gcfg)
	if err != nil {
		closeGorm(w)
		return nil, err
	}
	db := &DB{w: w, r: r, path: path,
		writes: make(chan *writeRequest, maxBatch), closing: make(chan struct{}), writerDone: make(chan struct{})}
	go db.writer()
	if err := db.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// prepareFile creates the database's directory and checks that the file can be
// written, so a read-only location is reported as such before SQLite opens it.
func prepareFile(path string) error {
	if err := createDir(path); err != nil {
		return err
	}
	return checkWritable(path)
}

// createDir creates the directory of the database at path, reporting a
// read-only location as a *ReadOnlyError.
func createDir(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		if isReadOnly(err) {
			return &ReadOnlyError{Path: dir, Err: err}
		}
		return fmt.Errorf("store: create directory: %w", err)
	}
	return nil
}

// gormConfig is the GORM configuration of both pools.
func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
}

// openWriter opens the single writer connection.
func openWriter(path, synchronous string, gcfg *gorm.Config) (*gorm.DB, error) {
	q := url.Values{}
	// sqlite-only: the DSN pragmas (busy_timeout, WAL, foreign_keys, synchronous, _txlock=immediate) are mattn/go-sqlite3's; a PostgreSQL dialect opens a pool with its own DSN.
	q.Set("_busy_timeout", "10000")
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", synchronous)
	q.Set("_txlock", "immediate")
	q.Set("cache", "private")
	dsn := sqliteURI(path, q)
	// The writer runs every statement inside a (group) transaction, where GORM's
	// prepared-statement cache re-prepares per transaction: preparing directly is
	// cheaper. Readers keep the cache, their statements live on pooled connections.
	wcfg := *gcfg
	wcfg.PrepareStmt = false
	w, err := gorm.Open(sqlite.Open(dsn), &wcfg)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	wsql, _ := w.DB()
	wsql.SetMaxOpenConns(1)
	wsql.SetMaxIdleConns(1)
	wsql.SetConnMaxLifetime(0)
	// Statement journals (each statement inside a savepoint may need one) live in
	// memory rather than in temporary files: group commit runs every transaction
	// in a savepoint. The writer keeps its one connection, so this holds.
	// sqlite-only: PRAGMA.
	if err := w.Exec("PRAGMA temp_store = MEMORY").Error; err != nil {
		_ = wsql.Close()
		return nil, fmt.Errorf("store: temp_store: %w", err)
	}
	return w, nil
}

// openReaders opens the pool of query-only reader connections.
func openReaders(path string, readers int, gcfg *gorm.Config) (*gorm.DB, error) {
	rq := url.Values{}
	rq.Set("_busy_timeout", "10000")
	rq.Set("_foreign_keys", "on")
	rq.Set("_query_only", "true")
	rq.Set("cache", "private")
	r, err := gorm.Open(sqlite.Open(sqliteURI(path, rq)), gcfg)
	if err != nil {
		return nil, fmt.Errorf("store: open readers %s: %w", path, err)
	}
	rsql, _ := r.DB()
	rsql.SetMaxOpenConns(readers)
	rsql.SetMaxIdleConns(readers)
	return r, nil
}

// sqliteURI is path as an SQLite URI filename with the given query: the
// characters SQLite would read as the query or fragment are escaped, so any
// path opens the file it names.
func sqliteURI(path string, q url.Values) string {
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped + "?" + q.Encode()
}

// closeGorm closes the connections behind g.
func closeGorm(g *gorm.DB) {
	if s, err := g.DB(); err == nil {
		_ = s.Close()
	}
}

// Path is the file the database lives in; for PostgreSQL, its URL without the password.
func (db *DB) Path() string {
	if db.pg {
		return redactURL(db.path)
	}
	return db.path
}

// ConnString is what Open was given: the SQLite path or the PostgreSQL URL,
// password included. For tools and tests that open a connection of their own.
func (db *DB) ConnString() string { return db.path }

// Postgres reports whether db is PostgreSQL.
func (db *DB) Postgres() bool { return db.pg }

// Close stops the writer (pending transactions finish first) and closes both pools.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		if db.writes == nil { // read-only: no writer
			db.closeMu.Lock()
			db.closed = true
			db.closeMu.Unlock()
			return
		}
		db.closeMu.Lock()
		db.closed = true
		db.closeMu.Unlock()
		close(db.closing)
		<-db.writerDone
	})
	var errs []error
	for i, g := range []*gorm.DB{db.r, db.w} {
		if g == nil || (i == 1 && db.pg) { // one pool on PostgreSQL
			continue
		}
		if s, err := g.DB(); err == nil {
			errs = append(errs, s.Close())
		}
	}
	if db.cleanup != nil {
		db.cleanup()
		db.cleanup = nil
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	err := db.r.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error
	db.health.observe(err)
	return err
}
