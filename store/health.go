package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// ErrUnavailable wraps an error that says the database cannot be reached (a
// replica lost PostgreSQL): the request is answered 503, not 500, and the
// replica recovers by itself when the database is back.
var ErrUnavailable = errors.New("store: database unavailable")

// IsUnavailable reports whether err says the database cannot be reached, as
// opposed to a statement that failed.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// connection_exception, admin/crash shutdown, cannot connect now, too many connections
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" ||
			pe.Code == "57P03" || pe.Code == "53300"
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed")
}

// health remembers whether the last statements reached the database.
type health struct {
	down      atomic.Bool
	mu        sync.Mutex
	lastProbe time.Time
}

func newHealth() *health { return &health{} }

// observe records the outcome of one statement.
func (h *health) observe(err error) {
	if h == nil {
		return
	}
	if err == nil {
		h.down.Store(false)
	} else if IsUnavailable(err) {
		h.down.Store(true)
	}
}

// registerHealthCallbacks lets every statement on g tell h whether it reached the database.
func registerHealthCallbacks(g *gorm.DB, h *health) {
	cb := g.Callback()
	record := func(d *gorm.DB) { h.observe(d.Error) }
	_ = cb.Create().After("gorm:create").Register("dcr:health", record)
	_ = cb.Query().After("gorm:query").Register("dcr:health", record)
	_ = cb.Update().After("gorm:update").Register("dcr:health", record)
	_ = cb.Delete().After("gorm:delete").Register("dcr:health", record)
	_ = cb.Row().After("gorm:row").Register("dcr:health", record)
	_ = cb.Raw().After("gorm:raw").Register("dcr:health", record)
}

// probeEvery bounds how often a replica that lost the database tries it again
// on behalf of Available.
const probeEvery = 500 * time.Millisecond

// Available reports whether the database answers. While it is known to be down
// a replica refuses requests at once (503) and probes it at most every
// probeEvery, so it recovers by itself when the database is back. SQLite is
// always available.
func (db *DB) Available(ctx context.Context) bool {
	h := db.health
	if h == nil || !h.down.Load() {
		return true
	}
	h.mu.Lock()
	if time.Since(h.lastProbe) < probeEvery {
		h.mu.Unlock()
		return false
	}
	h.lastProbe = time.Now()
	h.mu.Unlock()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return db.Ping(pctx) == nil
}
