package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// JTI kinds: a jti is single use within its kind.
const (
	JTIRegistrationRequest = "registration_request"
	JTIClientAssertion     = "client_assertion"
)

// ErrReplay is returned when a jti has been used before.
var ErrReplay = errors.New("store: jti already used")

// UsedJTI records a jti that has been used, until it expires.
type UsedJTI struct {
	Kind      string `gorm:"primaryKey"`
	JTI       string `gorm:"primaryKey;column:jti"`
	ExpiresAt int64
}

// TableName is the used_jtis table.
func (UsedJTI) TableName() string { return "used_jtis" }

// JTIUsed reports whether jti of kind has been used and has not yet expired.
func (db *DB) JTIUsed(ctx context.Context, kind, jti string) (bool, error) {
	var n int64
	err := db.r.WithContext(ctx).Model(&UsedJTI{}).Where("kind = ? AND jti = ?", kind, jtiKey(db.pg, jti)).Limit(1).Count(&n).Error
	return n > 0, err
}

// ConsumeJTI records jti inside tx; ErrReplay if it was already recorded.
func ConsumeJTI(tx *Tx, kind, jti string, expires time.Time) error {
	// ON CONFLICT DO NOTHING and a count rather than a caught error: on
	// PostgreSQL a failed statement aborts the caller's whole transaction, and
	// across replicas the primary key alone decides which use was first.
	res := tx.g.Exec(`INSERT INTO used_jtis (kind, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, kind, jtiKey(tx.pg, jti), expires.Unix())
	if res.Error != nil {
		if IsUniqueViolation(res.Error) {
			return ErrReplay
		}
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrReplay
	}
	return nil
}

// jtiKey is how jti is stored. PostgreSQL's text cannot hold a NUL byte (callers
// join a client id and its jti with one, and a jti is the sender's choice), so
// there backslashes are doubled and NUL becomes \0: one-to-one, so distinct jtis
// stay distinct. SQLite stores jti as it is.
func jtiKey(pg bool, jti string) string {
	if !pg || !strings.ContainsAny(jti, "\x00\\") {
		return jti
	}
	return strings.NewReplacer("\\", "\\\\", "\x00", "\\0").Replace(jti)
}

// PruneJTIs deletes jtis that expired before now; a replay of them fails on exp anyway.
func (db *DB) PruneJTIs(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.Tx(ctx, func(tx *Tx) error {
		res := tx.g.Where("expires_at < ?", now.Unix()).Delete(&UsedJTI{})
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}
