package store

// mfaSchema is migration 35: the second factors of local accounts (TOTP,
// recovery codes, passkeys and the WebAuthn ceremonies in flight), the stage
// of a half-authenticated session, and the sign-in failure counters that a
// restart must not forgive. Portable SQL: the same statements run on SQLite
// and PostgreSQL.
var mfaSchema = []string{
	`CREATE TABLE user_totp (
		user_id      BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
		secret       TEXT NOT NULL,
		confirmed_at TIMESTAMP,
		last_step    BIGINT NOT NULL DEFAULT 0,
		created_at   TIMESTAMP NOT NULL
	)`,
	`CREATE TABLE recovery_codes (
		user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		code_hash  TEXT NOT NULL,
		used_at    TIMESTAMP,
		created_at TIMESTAMP NOT NULL,
		PRIMARY KEY (user_id, code_hash)
	)`,
	`CREATE TABLE passkeys (
		id           TEXT PRIMARY KEY,
		user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		name         TEXT NOT NULL,
		credential   TEXT NOT NULL,
		created_at   TIMESTAMP NOT NULL,
		last_used_at TIMESTAMP
	)`,
	`CREATE INDEX idx_passkeys_user ON passkeys(user_id)`,
	`CREATE TABLE webauthn_ceremonies (
		id         TEXT PRIMARY KEY,
		kind       TEXT NOT NULL,
		user_id    BIGINT NOT NULL DEFAULT 0,
		data       TEXT NOT NULL,
		expires_at TIMESTAMP NOT NULL
	)`,
	`ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT ''`,
	`CREATE TABLE login_failures (
		kind     TEXT NOT NULL,
		subject  TEXT NOT NULL,
		failures INTEGER NOT NULL DEFAULT 0,
		last_at  TIMESTAMP NOT NULL,
		PRIMARY KEY (kind, subject)
	)`,
	`CREATE INDEX idx_login_failures_last ON login_failures(last_at)`,
}
