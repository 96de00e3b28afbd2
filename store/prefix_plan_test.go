package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/dcrconsole/dcrconsole/store/pgtest"
)

// icuDatabase opens a fresh database whose default collation is ICU's en-US,
// as a production database usually has a linguistic default (initdb with a
// locale), unlike the tests' --no-locale cluster.
func icuDatabase(t *testing.T) *DB {
	t.Helper()
	c, err := pgtest.Shared()
	if err != nil {
		pgtest.Unavailable(t, err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("icu_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8'
		LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'`); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, c.URL(name), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// seedPrefixTables fills clients, client_search and audit_events with n rows
// each, ids of several shapes, and analyses them.
func seedPrefixTables(t *testing.T, db *DB, n int) {
	t.Helper()
	stmts := []string{
		`INSERT INTO clients (id, software_id, status, source, org_id, legal_entity_id, issued_at, registration,
			software_statement, created_at, updated_at)
		 SELECT 'c-' || i, 'sw-' || i, 'revoked', 'register', 'org-' || (i % 997) || '-x', 'le.' || (i % 991),
			0, '{}', '', now(), now() FROM generate_series(1, ?) AS i`,
		`INSERT INTO client_search (term, client_id) SELECT 'term-' || i, 'c-' || i FROM generate_series(1, ?) AS i`,
		`INSERT INTO audit_events (id, time, type, outcome, jti, request_id, prev_hash, hash)
		 SELECT i, now(), 'registration.create', 'success', 'jti-' || i, 'req_' || i, '', '' FROM generate_series(1, ?) AS i`,
	}
	for _, s := range stmts {
		if err := db.w.Exec(s, n).Error; err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	for _, table := range []string{"clients", "client_search", "audit_events"} {
		if err := db.w.Exec(`ANALYZE ` + table).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// TestPrefixSearchesUseIndexesOnPostgres: every prefix search of the console
// (a range prefix <= col < prefix+U+10FFFF, PostgreSQL's own rewrite of
// LIKE 'abc%') is an index scan on PostgreSQL, in a database whose default
// collation is linguistic (ICU en-US), and finds what SQLite finds.
func TestPrefixSearchesUseIndexesOnPostgres(t *testing.T) {
	db := icuDatabase(t)
	seedPrefixTables(t, db, 20000)
	for _, tc := range []struct{ name, table, sql, prefix string }{
		{"client search term", "client_search", `SELECT 1 FROM client_search WHERE term >= $1 AND term < $2`, "term-12"},
		{"audit jti", "audit_events", `SELECT id FROM audit_events WHERE jti <> '' AND jti >= $1 AND jti < $2 ORDER BY jti, id LIMIT 6`, "jti-12"},
		{"audit request id", "audit_events", `SELECT id FROM audit_events WHERE request_id <> '' AND request_id >= $1 AND request_id < $2 ORDER BY request_id, id LIMIT 6`, "req_12"},
		{"brand id", "clients", `SELECT org_id FROM clients WHERE org_id >= $1 AND org_id < $2 GROUP BY org_id ORDER BY org_id LIMIT 6`, "org-12"},
		{"legal entity id", "clients", `SELECT legal_entity_id FROM clients WHERE legal_entity_id >= $1 AND legal_entity_id < $2 GROUP BY legal_entity_id ORDER BY legal_entity_id LIMIT 6`, "le.12"},
		{"audit type", "audit_events", `SELECT id FROM audit_events WHERE type >= $1 AND type < $2 LIMIT 6`, "registration."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := explain(t, db, tc.sql, tc.prefix, tc.prefix+"\U0010FFFF")
			if !strings.Contains(plan, "Index") || strings.Contains(plan, "Seq Scan on "+tc.table) {
				t.Fatalf("not an index scan:\n%s", plan)
			}
			t.Logf("%s", plan)
		})
	}
}

// TestPrefixSearchesAreBytewiseOnPostgres: a prefix range finds exactly the
// values that start with the prefix byte for byte, as on SQLite, also in a
// database with a linguistic default collation, where "ORG-1" would otherwise
// fall between "org-10" and "org-1"+U+10FFFF (case and punctuation are weighed
// after the letters).
func TestPrefixSearchesAreBytewiseOnPostgres(t *testing.T) {
	db := icuDatabase(t)
	seedPrefixTables(t, db, 3000)
	cols := []struct{ table, col string }{
		{"audit_events", "jti"}, {"audit_events", "request_id"}, {"clients", "org_id"},
		{"clients", "legal_entity_id"}, {"client_search", "term"}, {"audit_events", "type"},
	}
	prefixes := []string{"ORG-1", "org-1", "org-", "orG", "LE.1", "le.1", "le", "JTI-2", "jti-2", "REQ_3", "req-3",
		"req_3", "TERM-4", "term-4", "Registration.", "registration.c"}
	for _, c := range cols {
		for _, p := range prefixes {
			var byRange, byBytes int64
			q := `SELECT COUNT(*) FROM ` + c.table + ` WHERE ` + c.col + ` >= ? AND ` + c.col + ` < ?`
			if err := db.r.Raw(q, p, p+"\U0010FFFF").Row().Scan(&byRange); err != nil {
				t.Fatal(err)
			}
			q = `SELECT COUNT(*) FROM ` + c.table + ` WHERE substr(` + c.col + `, 1, ?) = ? COLLATE "C"`
			if err := db.r.Raw(q, len(p), p).Row().Scan(&byBytes); err != nil {
				t.Fatal(err)
			}
			if byRange != byBytes {
				t.Errorf("%s.%s prefix %q: the range finds %d rows, %d start with it", c.table, c.col, p, byRange, byBytes)
			}
		}
	}
}

// explain is PostgreSQL's plan of query, with sequential scans priced out so
// the plan shows whether an index can serve the query at all.
func explain(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	var lines []string
	err := db.r.Connection(func(g *gorm.DB) error {
		if err := g.Exec(`SET enable_seqscan = off`).Error; err != nil {
			return err
		}
		defer g.Exec(`RESET enable_seqscan`)
		rows, err := g.Raw(`EXPLAIN `+query, args...).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				return err
			}
			lines = append(lines, l)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
