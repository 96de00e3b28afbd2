package store

import (
	"context"
	"fmt"
	"time"
)

// migration is one versioned schema step. Migrations are append-only: a released
// step is never edited, so every database walks the same path to the same schema.
type migration struct {
	version int
	name    string
	sql     []string
}

// Migrations 1 to 7 use SQLite's dialect (WITHOUT ROWID, COLLATE NOCASE,
// DATETIME, BLOB, rowid); PostgreSQL runs pgMigrations' versions of them
// (migrate_postgres.go). Every later migration is portable SQL that runs on both.
var migrations = []migration{
	{1, "initial schema", []string{
		`CREATE TABLE meta (
			key   TEXT PRIMARY KEY,
			value TEXT NOT NULL
		)`,
		`CREATE TABLE clients (
			id                  TEXT PRIMARY KEY,
			software_id         TEXT NOT NULL,
			active_software_id  TEXT UNIQUE,
			status              TEXT NOT NULL CHECK (status IN ('active','revoked','deleted','removed')),
			source              TEXT NOT NULL,
			client_name         TEXT NOT NULL DEFAULT '',
			org_id              TEXT NOT NULL DEFAULT '',
			org_name            TEXT NOT NULL DEFAULT '',
			legal_entity_id     TEXT NOT NULL DEFAULT '',
			legal_entity_name   TEXT NOT NULL DEFAULT '',
			issued_at           INTEGER NOT NULL,
			registration        TEXT NOT NULL,
			software_statement  TEXT NOT NULL,
			request_jwt         TEXT NOT NULL DEFAULT '',
			ssa_header          TEXT NOT NULL DEFAULT '{}',
			ssa_claims          TEXT NOT NULL DEFAULT '{}',
			ssa_key_id          TEXT NOT NULL DEFAULT '',
			request_header      TEXT NOT NULL DEFAULT '{}',
			request_claims      TEXT NOT NULL DEFAULT '{}',
			cert_thumbprint     TEXT NOT NULL DEFAULT '',
			status_reason       TEXT NOT NULL DEFAULT '',
			status_changed_at   DATETIME,
			created_at          DATETIME NOT NULL,
			updated_at          DATETIME NOT NULL
		)`,
		`CREATE INDEX idx_clients_software_id ON clients(software_id)`,
		`CREATE INDEX idx_clients_status_created ON clients(status, created_at, id)`,
		`CREATE INDEX idx_clients_org_id ON clients(org_id)`,
		`CREATE TABLE used_jtis (
			kind       TEXT NOT NULL,
			jti        TEXT NOT NULL,
			expires_at INTEGER NOT NULL,
			PRIMARY KEY (kind, jti)
		) WITHOUT ROWID`,
		`CREATE INDEX idx_used_jtis_expires ON used_jtis(expires_at)`,
		`CREATE TABLE register_snapshots (
			endpoint   TEXT PRIMARY KEY,
			etag       TEXT NOT NULL DEFAULT '',
			body       BLOB NOT NULL,
			fetched_at DATETIME NOT NULL
		)`,
		`CREATE TABLE register_syncs (
			id                INTEGER PRIMARY KEY CHECK (id = 1),
			last_attempt_at   DATETIME,
			last_success_at   DATETIME,
			last_error        TEXT NOT NULL DEFAULT '',
			last_error_at     DATETIME,
			consecutive_fails INTEGER NOT NULL DEFAULT 0
		)`,
		`CREATE TABLE audit_events (
			id              INTEGER PRIMARY KEY,
			time            DATETIME NOT NULL,
			type            TEXT NOT NULL,
			actor           TEXT NOT NULL DEFAULT '',
			outcome         TEXT NOT NULL,
			error_code      TEXT NOT NULL DEFAULT '',
			step            TEXT NOT NULL DEFAULT '',
			reason          TEXT NOT NULL DEFAULT '',
			software_id     TEXT NOT NULL DEFAULT '',
			org_id          TEXT NOT NULL DEFAULT '',
			client_id       TEXT NOT NULL DEFAULT '',
			jti             TEXT NOT NULL DEFAULT '',
			remote_addr     TEXT NOT NULL DEFAULT '',
			cert_thumbprint TEXT NOT NULL DEFAULT '',
			request_id      TEXT NOT NULL DEFAULT '',
			duration_us     INTEGER NOT NULL DEFAULT 0,
			data            TEXT NOT NULL DEFAULT '',
			prev_hash       TEXT NOT NULL,
			hash            TEXT NOT NULL
		)`,
		`CREATE INDEX idx_audit_type_time ON audit_events(type, id)`,
		`CREATE INDEX idx_audit_client ON audit_events(client_id, id)`,
		`CREATE INDEX idx_audit_software ON audit_events(software_id, id)`,
		`CREATE INDEX idx_audit_outcome ON audit_events(outcome, id)`,
	}},
	{2, "holder keys, token activity", []string{
		`CREATE TABLE holder_keys (
			kid           TEXT PRIMARY KEY,
			alg           TEXT NOT NULL,
			private_pem   TEXT NOT NULL,
			created_at    DATETIME NOT NULL,
			retired_at    DATETIME,
			publish_until DATETIME
		)`,
		`ALTER TABLE clients ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE clients ADD COLUMN scope TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE clients ADD COLUMN last_token_at DATETIME`,
	}},
	{3, "operator console", []string{
		`CREATE TABLE users (
			id                   INTEGER PRIMARY KEY,
			username             TEXT NOT NULL UNIQUE COLLATE NOCASE,
			password_hash        TEXT NOT NULL,
			role                 TEXT NOT NULL CHECK (role IN ('viewer','operator','admin')),
			must_change_password INTEGER NOT NULL DEFAULT 0,
			disabled             INTEGER NOT NULL DEFAULT 0,
			created_at           DATETIME NOT NULL,
			updated_at           DATETIME NOT NULL,
			last_login_at        DATETIME
		)`,
		`CREATE TABLE sessions (
			id_hash      TEXT PRIMARY KEY,
			user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			created_at   DATETIME NOT NULL,
			last_seen_at DATETIME NOT NULL,
			expires_at   DATETIME NOT NULL,
			remote_addr  TEXT NOT NULL DEFAULT '',
			user_agent   TEXT NOT NULL DEFAULT ''
		) WITHOUT ROWID`,
		`CREATE INDEX idx_sessions_user ON sessions(user_id)`,
		`CREATE TABLE blocked_software (
			software_id TEXT PRIMARY KEY COLLATE NOCASE,
			reason      TEXT NOT NULL,
			blocked_by  TEXT NOT NULL,
			created_at  DATETIME NOT NULL
		) WITHOUT ROWID`,
		`CREATE TABLE client_search (
			term      TEXT NOT NULL,
			client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
			PRIMARY KEY (term, client_id)
		) WITHOUT ROWID`,
		`CREATE INDEX idx_client_search_client ON client_search(client_id)`,
		`CREATE INDEX idx_clients_created ON clients(created_at, id)`,
		`CREATE INDEX idx_clients_name ON clients(client_name COLLATE NOCASE, id)`,
		`CREATE INDEX idx_clients_org_name ON clients(org_name COLLATE NOCASE, id)`,
		`CREATE INDEX idx_clients_source ON clients(source, created_at, id)`,
		`CREATE INDEX idx_audit_actor ON audit_events(actor, id)`,
		`CREATE INDEX idx_audit_time ON audit_events(time)`,
		`ALTER TABLE clients ADD COLUMN api_key_name TEXT NOT NULL DEFAULT ''`,
	}},
	{4, "registration processing API", []string{
		`CREATE TABLE api_keys (
			name         TEXT PRIMARY KEY COLLATE NOCASE,
			key_hash     TEXT NOT NULL UNIQUE,
			created_by   TEXT NOT NULL,
			created_at   DATETIME NOT NULL,
			revoked_at   DATETIME,
			last_used_at DATETIME
		)`,
		`ALTER TABLE clients ADD COLUMN rat_hash TEXT NOT NULL DEFAULT ''`,
	}},
	{5, "dashboard index", []string{
		// The dashboard's per-day counts read only this index, not a million rows.
		`CREATE INDEX idx_audit_type_time_outcome ON audit_events(type, time, outcome)`,
	}},
	{6, "attempts index", []string{
		// Rejected attempts are rare among registrations: find them without scanning the successes.
		`CREATE INDEX idx_audit_type_outcome ON audit_events(type, outcome, id)`,
	}},
	{7, "lighter writes", []string{
		// Every index is a page written per registration. These two were unused:
		// search terms are removed by key on update, and no query filters on org_id.
		`DROP INDEX idx_client_search_client`,
		`DROP INDEX idx_clients_org_id`,
	}},
	{25, "alerts", []string{
		// Portable SQL: the same statements run on SQLite and PostgreSQL.
		`CREATE TABLE alerts (
			id          BIGINT PRIMARY KEY,
			kind        TEXT NOT NULL,
			state       TEXT NOT NULL,
			message     TEXT NOT NULL DEFAULT '',
			fired_at    TIMESTAMP NOT NULL,
			notified_at TIMESTAMP,
			resolved_at TIMESTAMP,
			acked_at    TIMESTAMP,
			acked_by    TEXT NOT NULL DEFAULT '',
			ack_note    TEXT NOT NULL DEFAULT '',
			delivery    TEXT NOT NULL DEFAULT '',
			delivery_at TIMESTAMP,
			updated_at  TIMESTAMP NOT NULL
		)`,
		`CREATE INDEX idx_alerts_state ON alerts(state, kind)`,
	}},
	{30, "single sign-on accounts", []string{
		// An account provisioned by SSO is its IdP's (issuer, subject): the
		// username claim can change or be reused, the subject cannot.
		`ALTER TABLE users ADD COLUMN idp_issuer TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN idp_subject TEXT NOT NULL DEFAULT ''`,
		`CREATE UNIQUE INDEX idx_users_idp ON users(idp_issuer, idp_subject) WHERE idp_subject <> ''`,
	}},
	// 35-39: operator sign-in (issue 13: MFA, passkeys, session control, persisted throttling).
	{35, "second factors, persisted sign-in throttling", mfaSchema},
	// 45 to 49 are the console's search, history and bulk actions (issue 14),
	// written in portable SQL: the same statements run on SQLite and PostgreSQL.
	{45, "console global search indexes", []string{
		// A jti or request id typed into the console's search is a prefix range
		// scan of these. Partial: the many events without one add no entry.
		`CREATE INDEX idx_audit_jti ON audit_events(jti) WHERE jti <> ''`,
		`CREATE INDEX idx_audit_request_id ON audit_events(request_id) WHERE request_id <> ''`,
		// A brand's or legal entity's registrations (search by id, the per-ADR
		// page, bulk actions): one index entry per registration, not per event.
		`CREATE INDEX idx_clients_org ON clients(org_id, id)`,
		`CREATE INDEX idx_clients_legal_entity ON clients(legal_entity_id, id)`,
	}},
	{46, "client notes", []string{
		`CREATE TABLE client_notes (
			id         BIGINT PRIMARY KEY,
			client_id  TEXT NOT NULL,
			author     TEXT NOT NULL,
			body       TEXT NOT NULL,
			ticket     TEXT NOT NULL DEFAULT '',
			created_at TIMESTAMP NOT NULL
		)`,
		`CREATE INDEX idx_client_notes_client ON client_notes(client_id, id)`,
	}},
	{47, "register status history", []string{
		`CREATE TABLE register_status_history (
			id                  BIGINT PRIMARY KEY,
			software_id         TEXT NOT NULL,
			product_name        TEXT NOT NULL DEFAULT '',
			brand_id            TEXT NOT NULL DEFAULT '',
			legal_entity_id     TEXT NOT NULL DEFAULT '',
			old_status          TEXT NOT NULL DEFAULT '',
			new_status          TEXT NOT NULL DEFAULT '',
			old_brand_status    TEXT NOT NULL DEFAULT '',
			new_brand_status    TEXT NOT NULL DEFAULT '',
			old_entity_status   TEXT NOT NULL DEFAULT '',
			new_entity_status   TEXT NOT NULL DEFAULT '',
			old_effective       TEXT NOT NULL DEFAULT '',
			new_effective       TEXT NOT NULL DEFAULT '',
			changed_at          TIMESTAMP NOT NULL
		)`,
		`CREATE INDEX idx_register_history_software ON register_status_history(software_id, id)`,
	}},
	{48, "attempts by software product index", []string{
		// A product's (or a brand's products') refused attempts, newest first,
		// without walking every refusal or every token of the product: only
		// refused and failed events have an entry.
		`CREATE INDEX idx_audit_refused_software ON audit_events(software_id, id) WHERE outcome <> 'success'`,
	}},
	// 55 to 59: several replicas on one PostgreSQL (issue 11, correctness).
	// 55: ids of client_notes, register_status_history and alerts come from a
	// sequence on PostgreSQL (pgMigrations[55]), where MAX(id)+1 read by two
	// replicas at once is the same id; SQLite's single writer needs nothing.
	{55, "id sequences for rows several replicas insert", nil},
	{56, "write failures of every replica", []string{
		// Each replica's count of database write failures (store/write_failures.go),
		// so the alert evaluated on the leader sees every replica's.
		`CREATE TABLE replica_write_failures (
			replica         TEXT PRIMARY KEY,
			failures        BIGINT NOT NULL,
			last_failure_at TIMESTAMP,
			last_error      TEXT NOT NULL DEFAULT '',
			reported_at     TIMESTAMP NOT NULL
		)`,
	}},
	// 57: the columns the console's global search reads by prefix range compare
	// byte for byte on PostgreSQL too (pgMigrations[57]); SQLite's are BINARY.
	{57, "bytewise prefix search columns", nil},
}

// statements are m's SQL for the dialect: its PostgreSQL version when it has
// one, else its (portable) sql.
func (m migration) statements(pg bool) []string {
	if pg {
		if stmts, ok := pgMigrations[m.version]; ok {
			return stmts
		}
	}
	return m.sql
}

// SchemaVersion is the version the newest migration brings a database to.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

func (db *DB) migrate(ctx context.Context) error {
	if db.pg {
		// Replicas starting together: one migrates, the others wait here and
		// then find nothing left to do.
		unlock, err := db.sessionLock(ctx, lockKeyMigrate)
		if err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		defer unlock()
	}
	if err := db.w.WithContext(ctx).Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TIMESTAMP NOT NULL
	)`).Error; err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	var current int
	if err := db.w.WithContext(ctx).Raw(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current).Error; err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if current > SchemaVersion() {
		return fmt.Errorf("store: database schema version %d is newer than this binary's %d; refusing to run an older binary on it", current, SchemaVersion())
	}
	for _, m := range migrations {
		if m.version <= current {
			continue
		}
		err := db.Tx(ctx, func(tx *Tx) error {
			for _, stmt := range m.statements(db.pg) {
				if err := tx.g.Exec(stmt).Error; err != nil {
					return fmt.Errorf("%w\n%s", err, stmt)
				}
			}
			return tx.g.Exec(`INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, time.Now().UTC()).Error
		})
		if err != nil {
			return fmt.Errorf("store: migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}
