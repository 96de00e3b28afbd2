package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store/pgtest"
)

// TestMain runs the suite on SQLite, then again on PostgreSQL.
func TestMain(m *testing.M) { os.Exit(pgtest.MainBothBackends(m)) }

// openTest opens a fresh database of the default test backend (sqlite, or
// $DCRCONSOLE_TEST_DATABASE).
func openTest(t testing.TB) *DB {
	t.Helper()
	return openBackend(t, pgtest.DefaultBackend())
}

// openBackend opens a fresh database on backend.
func openBackend(t testing.TB, backend string) *DB {
	t.Helper()
	db, err := Open(context.Background(), pgtest.DSN(t, backend, filepath.Join(t.TempDir(), "store.db")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testClient(id, softwareID string) *Client {
	sid := strings.ToLower(softwareID)
	now := time.Now().UTC()
	return &Client{ID: id, SoftwareID: softwareID, ActiveSoftwareID: &sid, Status: StatusActive, Source: SourceRegister,
		IssuedAt: now.Unix(), Registration: "{}", CreatedAt: now, UpdatedAt: now}
}

func TestOpenAppliesPragmasAndMigrations(t *testing.T) {
	db := openBackend(t, pgtest.SQLite) // SQLite's pragmas
	var mode, sync string
	var fk int
	db.w.Raw("PRAGMA journal_mode").Scan(&mode)
	db.w.Raw("PRAGMA synchronous").Scan(&sync)
	db.w.Raw("PRAGMA foreign_keys").Scan(&fk)
	if mode != "wal" || sync != "2" || fk != 1 {
		t.Fatalf("journal_mode=%s synchronous=%s foreign_keys=%d", mode, sync, fk)
	}
	var v int
	db.w.Raw("SELECT MAX(version) FROM schema_migrations").Scan(&v)
	if v != SchemaVersion() {
		t.Fatalf("schema version %d", v)
	}
	// Reopening applies nothing twice.
	path := db.Path()
	db.Close()
	db2, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db2.Close()
}

func TestRefusesNewerSchema(t *testing.T) {
	for _, backend := range pgtest.Backends() {
		t.Run(backend, func(t *testing.T) { testRefusesNewerSchema(t, backend) })
	}
}

func testRefusesNewerSchema(t *testing.T, backend string) {
	db := openBackend(t, backend)
	if err := db.w.Exec("INSERT INTO schema_migrations(version, name, applied_at) VALUES (999, 'future', ?)", time.Now().UTC()).Error; err != nil {
		t.Fatal(err)
	}
	path := db.ConnString()
	db.Close()
	if _, err := Open(context.Background(), path, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("want a refusal, got %v", err)
	}
}

func TestDuplicateRuleIsEnforcedByTheDatabase(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	const n = 30
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = db.Tx(ctx, func(tx *Tx) error {
				return CreateClient(tx, testClient(fmt.Sprintf("c%d", i), "SW-1"))
			})
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrDuplicate):
			t.Fatalf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d inserts succeeded", ok)
	}
	if has, _ := db.HasActiveClient(ctx, "sw-1"); !has {
		t.Fatal("HasActiveClient is not case-insensitive")
	}
	// A non-active client frees the slot.
	if err := db.w.Exec("UPDATE clients SET status = 'revoked', active_software_id = NULL").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Tx(ctx, func(tx *Tx) error { return CreateClient(tx, testClient("again", "SW-1")) }); err != nil {
		t.Fatal(err)
	}
}

// TestGroupCommitIsolatesFailures: in one batch, a failing or panicking
// transaction undoes only its own writes.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = db.Tx(ctx, func(tx *Tx) error {
				if err := ConsumeJTI(tx, JTIRegistrationRequest, fmt.Sprintf("j%d", i), time.Now().Add(time.Hour)); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return errors.New("refused")
				case 7:
					panic("boom")
				}
				return nil
			})
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		used, _ := db.JTIUsed(ctx, JTIRegistrationRequest, fmt.Sprintf("j%d", i))
		switch i % 10 {
		case 3, 7:
			if err == nil || used {
				t.Fatalf("tx %d: err=%v, jti kept=%v", i, err, used)
			}
		default:
			if err != nil || !used {
				t.Fatalf("tx %d: err=%v, jti kept=%v", i, err, used)
			}
		}
	}
}

func TestJTIReplayAndPrune(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	exp := time.Now().Add(-time.Minute)
	if err := db.Tx(ctx, func(tx *Tx) error { return ConsumeJTI(tx, JTIClientAssertion, "a", exp) }); err != nil {
		t.Fatal(err)
	}
	err := db.Tx(ctx, func(tx *Tx) error { return ConsumeJTI(tx, JTIClientAssertion, "a", exp) })
	if !errors.Is(err, ErrReplay) {
		t.Fatalf("replay: %v", err)
	}
	// Same jti, other kind: independent.
	if err := db.Tx(ctx, func(tx *Tx) error { return ConsumeJTI(tx, JTIRegistrationRequest, "a", exp) }); err != nil {
		t.Fatal(err)
	}
	if n, err := db.PruneJTIs(ctx, time.Now()); err != nil || n != 2 {
		t.Fatalf("pruned %d, %v", n, err)
	}
}

func TestTxAfterClose(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := db.Tx(context.Background(), func(*Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v", err)
	}
}

func TestMeta(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	if v, err := db.GetMeta(ctx, MetaDemo); err != nil || v != "" {
		t.Fatalf("%q %v", v, err)
	}
	if err := db.SetMeta(ctx, MetaDemo, "true"); err != nil {
		t.Fatal(err)
	}
	if v, _ := db.GetMeta(ctx, MetaDemo); v != "true" {
		t.Fatalf("got %q", v)
	}
}

// TestCloseWhileWriting: transactions racing with Close either commit or get
// ErrClosed; none hangs.
func TestCloseWhileWriting(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := db.Tx(context.Background(), func(tx *Tx) error {
				return ConsumeJTI(tx, JTIClientAssertion, fmt.Sprint(i), time.Now())
			})
			if err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("tx %d: %v", i, err)
			}
		}(i)
	}
	db.Close()
	wg.Wait()
}

// TestGroupCommitNeverAcknowledgesLostWork: when a member fails in a way that may
// roll back the whole SQLite transaction, every member of its batch is told it
// failed; whoever is told it succeeded finds its writes on disk.
func TestGroupCommitNeverAcknowledgesLostWork(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	const n = 120
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = db.Tx(ctx, func(tx *Tx) error {
				if err := ConsumeJTI(tx, JTIClientAssertion, fmt.Sprintf("g%d", i), time.Now().Add(time.Hour)); err != nil {
					return err
				}
				if i%17 == 5 { // a database error, not an application one
					return tx.g.Exec("INSERT INTO no_such_table VALUES (1)").Error
				}
				return nil
			})
		}(i)
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		used, _ := db.JTIUsed(ctx, JTIClientAssertion, fmt.Sprintf("g%d", i))
		if (err == nil) != used {
			t.Fatalf("tx %d: err=%v but committed=%v", i, err, used)
		}
		if err != nil {
			failed++
		}
	}
	if failed < n/17 {
		t.Fatalf("only %d failures", failed)
	}
}

// TestBlockIgnoresCase: a block holds whatever case the SSA spells the software_id in.
func TestBlockIgnoresCase(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *Tx) error {
		return BlockSoftware(tx, &BlockedSoftware{SoftwareID: "ABC-123", Reason: "r", BlockedBy: "t", CreatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	if b, err := db.SoftwareBlock(ctx, "abc-123"); err != nil || b == nil {
		t.Fatalf("lower-case lookup: %v %v", b, err)
	}
	if err := db.Tx(ctx, func(tx *Tx) error { return UnblockSoftware(tx, "Abc-123") }); err != nil {
		t.Fatalf("mixed-case unblock: %v", err)
	}
}
