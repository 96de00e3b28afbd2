package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// The PostgreSQL dialect. Several dcrconsole replicas share one database, so
// nothing may rest on a single Go writer:
//   - DB.Tx group-commits per replica (pgwriter.go): one writer goroutine runs
//     the transactions waiting, each in a SAVEPOINT of one READ COMMITTED
//     transaction, and commits them together; the batch runs again whole on a
//     serialization failure, a deadlock or a connection lost before COMMIT;
//   - the duplicate rule is the same UNIQUE index, single-use jtis are
//     INSERT ... ON CONFLICT DO NOTHING counted by rows affected;
//   - audit appends are serialised across replicas by a transaction-scoped
//     advisory lock that each batch takes when it begins (see pgwriter.go for
//     why then), so replicas' batches take turns;
//   - migrations run under a session advisory lock: one replica migrates, the
//     others wait and then find nothing to do.

// IsPostgresURL reports whether dsn names a PostgreSQL database rather than an SQLite file.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Advisory lock keys (one 64-bit space per database): arbitrary constants, "DCR" in ASCII.
const (
	lockKeyMigrate = 0x444352_0001
	lockKeyAudit   = 0x444352_0002
	lockKeyLeader  = 0x444352_0003
)

// openPostgres opens the pool behind both w and r.
func openPostgres(ctx context.Context, dsn string, opts Options) (*DB, error) {
	dsn = withDefaultParams(dsn, opts.ReadOnly)
	gcfg := gormConfig()
	// pgx caches prepared statements per connection itself.
	gcfg.PrepareStmt = false
	g, err := gorm.Open(postgres.Open(dsn), gcfg)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres %s: %w", redactURL(dsn), err)
	}
	sqlDB, _ := g.DB()
	n := opts.MaxOpenConns
	if n <= 0 {
		n = 20
	}
	sqlDB.SetMaxOpenConns(n)
	sqlDB.SetMaxIdleConns(n)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	h := newHealth()
	registerHealthCallbacks(g, h)
	db := &DB{w: g, r: g, path: dsn, pg: true, health: h}
	if !opts.ReadOnly {
		db.writes = make(chan *writeRequest, maxBatch)
		db.closing, db.writerDone = make(chan struct{}), make(chan struct{})
		go db.writer()
	}
	if opts.ReadOnly {
		db.readMode = "PostgreSQL, read-only transactions"
		if err := db.checkSchemaVersion(ctx); err != nil {
			_ = db.Close()
			return nil, err
		}
		return db, nil
	}
	if err := db.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// withDefaultParams bounds connecting (a lost database is reported, not waited
// for forever) and names the application, unless the URL says otherwise.
func withDefaultParams(dsn string, readOnly bool) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "5")
	}
	if q.Get("application_name") == "" {
		q.Set("application_name", "dcrconsole")
	}
	if readOnly {
		q.Set("default_transaction_read_only", "on")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func redactURL(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return "(unparsable url)"
}

// checkSchemaVersion refuses a database that a newer binary migrated.
func (db *DB) checkSchemaVersion(ctx context.Context) error {
	var current int
	if err := db.r.WithContext(ctx).Raw(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current).Error; err != nil {
		return fmt.Errorf("store: not a dcrconsole database: %w", err)
	}
	if current > SchemaVersion() {
		return fmt.Errorf("store: database schema version %d is newer than this binary's %d", current, SchemaVersion())
	}
	return nil
}

// maxTxAttempts bounds how often a transaction that PostgreSQL aborted for a
// serialization failure or a deadlock is run again.
const maxTxAttempts = 8

// retryable reports a transaction PostgreSQL aborted so that it may be run again:
// serialization_failure (40001) or deadlock_detected (40P01).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// isPgUniqueViolation reports SQLSTATE 23505.
func isPgUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// savepoint runs fn in a savepoint on PostgreSQL, where a failed statement
// aborts the whole transaction: a refused constraint then undoes only fn, as on
// SQLite, and the caller's transaction can go on (to record the refusal).
func savepoint(tx *Tx, fn func(tx *Tx) error) error {
	if !tx.pg {
		return fn(tx)
	}
	return tx.g.Transaction(func(g *gorm.DB) error { return fn(&Tx{g: g, pg: true, batch: tx.batch}) })
}

// lockAuditChain takes the transaction-scoped lock that serialises audit
// appends across replicas; it is released by the commit or rollback. A batch
// takes it once (when it begins): its members' appends find it held.
func lockAuditChain(tx *Tx) error {
	if !tx.pg {
		return nil // the single writer serialises appends already
	}
	if tx.batch != nil && tx.batch.chainLocked {
		return nil
	}
	if err := tx.g.Exec(`SELECT pg_advisory_xact_lock(?)`, int64(lockKeyAudit)).Error; err != nil {
		return err
	}
	if tx.batch != nil {
		tx.batch.chainLocked = true
	}
	return nil
}
