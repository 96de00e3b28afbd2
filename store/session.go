package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Session is a console login. The cookie holds a random token; only its SHA-256
// is stored, so a copy of the database does not hand out sessions.
type Session struct {
	IDHash     string `gorm:"primaryKey;column:id_hash"`
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	RemoteAddr string
	UserAgent  string
	// Stage is "" for a signed-in session; otherwise the session is half
	// authenticated and reaches only the sign-in step it names
	// (StageSecondFactor, StageEnrol).
	Stage string
}

// Stages of a half-authenticated session.
const (
	StageSecondFactor = "mfa"   // the password was right; the second factor is asked next
	StageEnrol        = "enrol" // the password was right; the account must set up a second factor first
)

// TableName is the sessions table.
func (Session) TableName() string { return "sessions" }

// SessionWithUser is a session joined with its account.
type SessionWithUser struct {
	Session Session
	User    User
}

// CreateSession stores s inside tx.
func CreateSession(tx *Tx, s *Session) error { return tx.g.Create(s).Error }

// SessionByHash returns the session and its user.
func (db *DB) SessionByHash(ctx context.Context, idHash string) (*SessionWithUser, error) {
	var s Session
	err := db.r.WithContext(ctx).Where("id_hash = ?", idHash).Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	u, err := db.UserByID(ctx, s.UserID)
	if err != nil {
		return nil, err
	}
	return &SessionWithUser{Session: s, User: *u}, nil
}

// TouchSession records activity on a session.
func TouchSession(tx *Tx, idHash string, at time.Time) error {
	return tx.g.Model(&Session{}).Where("id_hash = ?", idHash).UpdateColumn("last_seen_at", at).Error
}

// DeleteSession ends one session.
func DeleteSession(tx *Tx, idHash string) error {
	return tx.g.Where("id_hash = ?", idHash).Delete(&Session{}).Error
}

// DeleteUserSessions ends every session of a user (logout everywhere, password
// change, disable); it returns how many ended.
func DeleteUserSessions(tx *Tx, userID int64) (int64, error) {
	res := tx.g.Where("user_id = ?", userID).Delete(&Session{})
	return res.RowsAffected, res.Error
}

// PruneSessions deletes sessions past their absolute expiry or idle since before idleBefore.
func (db *DB) PruneSessions(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	var n int64
	err := db.Tx(ctx, func(tx *Tx) error {
		res := tx.g.Where("expires_at < ? OR last_seen_at < ?", now, idleBefore).Delete(&Session{})
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}

// SessionsForUser lists a user's stored sessions, most recently used first
// (expired ones included until they are pruned; the caller filters).
func (db *DB) SessionsForUser(ctx context.Context, userID int64) ([]Session, error) {
	var out []Session
	err := db.r.WithContext(ctx).Where("user_id = ?", userID).Order("last_seen_at DESC").Find(&out).Error
	return out, err
}

// AllSessions lists every stored session with its account, most recently used
// first (at most limit; expired ones included until pruned: the caller filters).
func (db *DB) AllSessions(ctx context.Context, limit int) ([]SessionWithUser, error) {
	var rows []Session
	if err := db.r.WithContext(ctx).Order("last_seen_at DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.UserID)
	}
	var users []User
	if err := db.r.WithContext(ctx).Where("id IN ?", ids).Find(&users).Error; err != nil {
		return nil, err
	}
	byID := make(map[int64]User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	out := make([]SessionWithUser, 0, len(rows))
	for _, r := range rows {
		out = append(out, SessionWithUser{Session: r, User: byID[r.UserID]})
	}
	return out, nil
}

// TakeSession deletes a session and returns it (with its account's id), or
// ErrNotFound; with userID > 0 only a session of that account.
func TakeSession(tx *Tx, idHash string, userID int64) (*Session, error) {
	q := tx.g.Where("id_hash = ?", idHash)
	if userID > 0 {
		q = q.Where("user_id = ?", userID)
	}
	var s Session
	if err := q.Take(&s).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return &s, tx.g.Where("id_hash = ?", idHash).Delete(&Session{}).Error
}
