package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// RequireEnv, set to 1, makes a PostgreSQL that cannot start fail the tests
// that need it instead of skipping them (CI sets it).
const RequireEnv = "DCRCONSOLE_REQUIRE_POSTGRES"

var (
	shared     *Cluster
	sharedErr  error
	sharedOnce sync.Once
)

// Main runs a package's tests and then stops the package's cluster, if a test
// started one. Call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	return code
}

// Shared is the test binary's one cluster, started on first use.
func Shared() (*Cluster, error) {
	sharedOnce.Do(func() { shared, sharedErr = Start(Options{}) })
	return shared, sharedErr
}

// Required reports whether a PostgreSQL that cannot start must fail tests.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Available reports whether the shared cluster runs (starting it if needed).
func Available() bool {
	_, err := Shared()
	return err == nil
}

// URL is the URL of a fresh, empty database on the shared cluster, for t
// alone. Without PostgreSQL the test is skipped, or fails under RequireEnv=1.
func URL(t testing.TB) string {
	t.Helper()
	c, err := Shared()
	if err != nil {
		Unavailable(t, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url, err := c.CreateDatabase(ctx, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// Unavailable skips t (or fails it under RequireEnv=1) because PostgreSQL could not start.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("PostgreSQL is required (%s=1) but cannot start: %v", RequireEnv, err)
	}
	t.Skipf("PostgreSQL not available, skipping (apt-get install -y postgresql; set %s=1 to fail instead): %v", RequireEnv, err)
}

// Test backends.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// BackendEnv selects the backend of the tests that run on one backend only:
// DCRCONSOLE_TEST_DATABASE=postgres runs a whole suite on PostgreSQL.
const BackendEnv = "DCRCONSOLE_TEST_DATABASE"

// DefaultBackend is the backend of single-backend tests: $DCRCONSOLE_TEST_DATABASE, else sqlite.
func DefaultBackend() string {
	if os.Getenv(BackendEnv) == Postgres {
		return Postgres
	}
	return SQLite
}

// Backends are the backends that the key tests run on: both, always (a
// PostgreSQL that cannot start skips, or fails under RequireEnv=1, its subtests).
func Backends() []string { return []string{SQLite, Postgres} }

// DSN is what store.Open takes for backend: sqlitePath, or a fresh PostgreSQL database.
func DSN(t testing.TB, backend, sqlitePath string) string {
	t.Helper()
	if backend == Postgres {
		return URL(t)
	}
	return sqlitePath
}

// MainBothBackends runs a package's tests on the default backend, then, when
// they passed and no backend was chosen through BackendEnv, runs the same test
// binary again with BackendEnv=postgres: the whole suite on both backends under
// a plain `go test`. Without PostgreSQL's binaries the second run is skipped
// (it fails under RequireEnv=1).
func MainBothBackends(m *testing.M) int {
	code := Main(m)
	if code != 0 || os.Getenv(BackendEnv) != "" {
		return code
	}
	if _, err := BinDir(); err != nil {
		if Required() {
			fmt.Fprintf(os.Stderr, "PostgreSQL is required (%s=1): %v\n", RequireEnv, err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "pgtest: the suite did not run on PostgreSQL: %v\n", err)
		return 0
	}
	fmt.Fprintln(os.Stderr, "pgtest: running the suite again on PostgreSQL ("+BackendEnv+"=postgres)")
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), BackendEnv+"="+Postgres)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: on PostgreSQL:", err)
		return 1
	}
	return 0
}
