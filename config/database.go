package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Database drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// DatabaseURLEnv provides or overrides database.url, so that the password stays
// out of the configuration file.
const DatabaseURLEnv = "DCRCONSOLE_DATABASE_URL"

// Database selects and locates the database: an embedded SQLite file (the
// default; one process) or PostgreSQL (several replicas on one database).
type Database struct {
	// Driver is "sqlite" or "postgres".
	Driver string `toml:"driver"`
	// Path is the SQLite file (sqlite only). The key has not changed since the
	// first release, so older configuration files keep working.
	Path string `toml:"path"`
	// URL is the PostgreSQL connection URL (postgres only); DCRCONSOLE_DATABASE_URL
	// overrides it.
	URL string `toml:"url"`
	// MaxOpenConns bounds the connections of one replica to PostgreSQL (postgres only).
	MaxOpenConns int `toml:"max_open_conns"`
}

func defaultDatabase() Database {
	return Database{Driver: DriverSQLite, Path: "dcrconsole.db", MaxOpenConns: 20}
}

// applyEnv takes database.url from the environment when it is set there.
func (d *Database) applyEnv() {
	if v := strings.TrimSpace(os.Getenv(DatabaseURLEnv)); v != "" {
		d.URL = v
	}
}

// Postgres reports whether the database is PostgreSQL.
func (d Database) Postgres() bool { return d.Driver == DriverPostgres }

// DSN is what store.Open takes: the SQLite path, or the PostgreSQL URL.
func (d Database) DSN() string {
	if d.Postgres() {
		return d.URL
	}
	return d.Path
}

// Describe names the database for logs: the SQLite path, or the PostgreSQL URL
// without its password.
func (d Database) Describe() string {
	if !d.Postgres() {
		return d.Path
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		return "postgres (unparsable url)"
	}
	return u.Redacted()
}

func (d *Database) validate() error {
	switch d.Driver {
	case DriverSQLite:
		if strings.TrimSpace(d.Path) == "" {
			return fmt.Errorf("database.path: must not be empty")
		}
	case DriverPostgres:
		if strings.TrimSpace(d.URL) == "" {
			return fmt.Errorf("database.url: required when database.driver is postgres (or set %s)", DatabaseURLEnv)
		}
		u, err := url.Parse(d.URL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return fmt.Errorf("database.url: not a postgres://user:password@host:port/database URL")
		}
	default:
		return fmt.Errorf("database.driver: %q is not one of sqlite, postgres", d.Driver)
	}
	if d.MaxOpenConns < 1 || d.MaxOpenConns > 1000 {
		return fmt.Errorf("database.max_open_conns: %d is outside 1..1000", d.MaxOpenConns)
	}
	return nil
}
