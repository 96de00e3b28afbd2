// Package store owns dcrconsole's SQLite database: GORM models (one file per
// entity), versioned migrations and queries. It knows no HTTP and no protocol rules.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DB is the database: one writer connection (SQLite allows one writer at a time,
// so queuing in Go is cheaper than spinning on SQLITE_BUSY) and a pool of readers.
type DB struct {
	// W is the single writer connection; every state change runs in a transaction on it.
	W *gorm.DB
	// R is the reader pool, for queries that change nothing.
	R    *gorm.DB
	path string

	writes     chan *writeRequest
	closing    chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once
	closeMu    sync.RWMutex
	closed     bool
	// cleanup removes what a read-only open made (a private copy), after Close.
	cleanup  func()
	readMode string
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
}

// Open opens (creating if needed) the SQLite file at path and applies migrations.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.Synchronous == "" {
		opts.Synchronous = "FULL"
	}
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	if opts.ReadOnly {
		return openReadOnly(ctx, path, opts)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			if isReadOnly(err) {
				return nil, &ReadOnlyError{Path: dir, Err: err}
			}
			return nil, fmt.Errorf("store: create directory: %w", err)
		}
	}
	if err := checkWritable(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", opts.Synchronous)
	q.Set("_txlock", "immediate")
	q.Set("cache", "private")
	dsn := "file:" + path + "?" + q.Encode()
	gcfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
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
	if err := w.Exec("PRAGMA temp_store = MEMORY").Error; err != nil {
		_ = wsql.Close()
		return nil, fmt.Errorf("store: temp_store: %w", err)
	}

	rq := url.Values{}
	rq.Set("_busy_timeout", "10000")
	rq.Set("_foreign_keys", "on")
	rq.Set("_query_only", "true")
	rq.Set("cache", "private")
	r, err := gorm.Open(sqlite.Open("file:"+path+"?"+rq.Encode()), gcfg)
	if err != nil {
		_ = wsql.Close()
		return nil, fmt.Errorf("store: open readers %s: %w", path, err)
	}
	rsql, _ := r.DB()
	rsql.SetMaxOpenConns(opts.Readers)
	rsql.SetMaxIdleConns(opts.Readers)

	db := &DB{W: w, R: r, path: path,
		writes: make(chan *writeRequest, maxBatch), closing: make(chan struct{}), writerDone: make(chan struct{})}
	go db.writer()
	if err := db.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// Path is the file the database lives in.
func (db *DB) Path() string { return db.path }

// Close stops the writer (pending transactions finish first) and closes both pools.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		if db.writes == nil { // read-only: no writer
			return
		}
		db.closeMu.Lock()
		db.closed = true
		db.closeMu.Unlock()
		close(db.closing)
		<-db.writerDone
	})
	var errs []error
	for _, g := range []*gorm.DB{db.R, db.W} {
		if g == nil {
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
	return db.R.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error
}
