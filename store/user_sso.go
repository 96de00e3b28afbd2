package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// JTISSOState is the kind of a single sign-on's state: each is used once.
const JTISSOState = "sso_state"

// IsSSO reports whether the account was provisioned by single sign-on: it has
// no usable password and its role comes from the IdP at every sign-in.
func (u *User) IsSSO() bool { return u.IDPSubject != "" }

// UserByIDPSubject returns the account provisioned for subject at issuer.
func (db *DB) UserByIDPSubject(ctx context.Context, issuer, subject string) (*User, error) {
	var u User
	err := db.r.WithContext(ctx).Where("idp_issuer = ? AND idp_subject = ?", issuer, subject).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &u, err
}

// RecordSSOLogin sets the role an SSO sign-in mapped and the sign-in time, only
// while the account is enabled (ErrNotFound otherwise: a sign-in racing a
// disable loses).
func RecordSSOLogin(tx *Tx, id int64, role string, at time.Time) error {
	return updateUserColumns(tx, "id = ? AND NOT disabled AND idp_subject <> ''", []any{id},
		map[string]any{"role": role, "last_login_at": at, "updated_at": at})
}

// ConsumeOnce records jti of kind in a transaction of its own; ErrReplay if it
// was recorded before. It expires (and may be pruned) at expires.
func (db *DB) ConsumeOnce(ctx context.Context, kind, jti string, expires time.Time) error {
	return db.Tx(ctx, func(tx *Tx) error { return ConsumeJTI(tx, kind, jti, expires) })
}
