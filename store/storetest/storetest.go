// Package storetest lets tests outside store look into a database, or tamper
// with it, through a GORM handle of their own on the same file. The store
// itself exports no handle: production code reaches the database only through
// store methods.
package storetest

import (
	"net/url"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/dcrconsole/dcrconsole/store"
)

type key struct {
	t    testing.TB
	path string
}

var (
	mu      sync.Mutex
	handles = map[key]*gorm.DB{}
)

// Gorm is a read-write GORM handle on db's file for the test t, closed when t
// ends. It is a connection of its own: what it writes bypasses the store's
// single writer (as a tampering attacker would), and it sees what db committed.
func Gorm(t testing.TB, db *store.DB) *gorm.DB {
	t.Helper()
	k := key{t, db.Path()}
	mu.Lock()
	defer mu.Unlock()
	if g, ok := handles[k]; ok {
		return g
	}
	var dialector gorm.Dialector
	if db.Postgres() {
		dialector = postgres.Open(db.ConnString())
	} else {
		q := url.Values{}
		q.Set("_busy_timeout", "10000")
		q.Set("_foreign_keys", "on")
		dialector = sqlite.Open("file:" + db.Path() + "?" + q.Encode())
	}
	g, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard, NowFunc: func() time.Time { return time.Now().UTC() }})
	if err != nil {
		t.Fatalf("storetest: open %s: %v", db.Path(), err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	sqlDB.SetMaxOpenConns(1)
	handles[k] = g
	t.Cleanup(func() {
		mu.Lock()
		delete(handles, k)
		mu.Unlock()
		_ = sqlDB.Close()
	})
	return g
}
