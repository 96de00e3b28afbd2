package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// TOTP is an account's authenticator-app secret. Secret is sealed by the auth
// package (the store never sees it in clear); ConfirmedAt is nil until the
// user proved the app works with a code; LastStep is the newest 30-second step
// whose code was accepted, so no code is accepted twice.
type TOTP struct {
	UserID      int64 `gorm:"primaryKey"`
	Secret      string
	ConfirmedAt *time.Time
	LastStep    int64
	CreatedAt   time.Time
}

// TableName is the user_totp table.
func (TOTP) TableName() string { return "user_totp" }

// RecoveryCode is one single-use recovery code, stored as a keyed hash.
type RecoveryCode struct {
	UserID    int64  `gorm:"primaryKey"`
	CodeHash  string `gorm:"primaryKey"`
	UsedAt    *time.Time
	CreatedAt time.Time
}

// TableName is the recovery_codes table.
func (RecoveryCode) TableName() string { return "recovery_codes" }

// TOTPByUser returns the account's TOTP row (confirmed or not), or ErrNotFound.
func (db *DB) TOTPByUser(ctx context.Context, userID int64) (*TOTP, error) {
	var t TOTP
	err := db.r.WithContext(ctx).Where("user_id = ?", userID).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &t, err
}

// PutPendingTOTP replaces any unconfirmed TOTP secret of the account with t;
// a confirmed one is kept (ErrTOTPConfirmed): it must be removed first.
func PutPendingTOTP(tx *Tx, t *TOTP) error {
	var n int64
	if err := tx.g.Model(&TOTP{}).Where("user_id = ? AND confirmed_at IS NOT NULL", t.UserID).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return ErrTOTPConfirmed
	}
	if err := tx.g.Where("user_id = ?", t.UserID).Delete(&TOTP{}).Error; err != nil {
		return err
	}
	return tx.g.Create(t).Error
}

// ErrTOTPConfirmed is returned when an account already has a working TOTP secret.
var ErrTOTPConfirmed = errors.New("store: an authenticator app is already set up")

// ConfirmTOTP makes the pending secret the account's second factor, recording
// step as used; ErrNotFound when there is no pending secret (any more).
func ConfirmTOTP(tx *Tx, userID, step int64, at time.Time) error {
	res := tx.g.Model(&TOTP{}).Where("user_id = ? AND confirmed_at IS NULL", userID).
		Updates(map[string]any{"confirmed_at": at, "last_step": step})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// UseTOTPStep records that the code of step was accepted, only when no code of
// that step or a later one was accepted before: a replayed code loses here,
// also when two requests race (ErrNotFound).
func UseTOTPStep(tx *Tx, userID, step int64) error {
	res := tx.g.Model(&TOTP{}).Where("user_id = ? AND confirmed_at IS NOT NULL AND last_step < ?", userID, step).
		UpdateColumn("last_step", step)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteTOTP removes the account's TOTP secret; it returns how many rows went.
func DeleteTOTP(tx *Tx, userID int64) (int64, error) {
	res := tx.g.Where("user_id = ?", userID).Delete(&TOTP{})
	return res.RowsAffected, res.Error
}

// ReplaceRecoveryCodes drops the account's recovery codes and stores hashes.
func ReplaceRecoveryCodes(tx *Tx, userID int64, hashes []string, at time.Time) error {
	if _, err := DeleteRecoveryCodes(tx, userID); err != nil {
		return err
	}
	rows := make([]RecoveryCode, len(hashes))
	for i, h := range hashes {
		rows[i] = RecoveryCode{UserID: userID, CodeHash: h, CreatedAt: at}
	}
	if len(rows) == 0 {
		return nil
	}
	return tx.g.Create(&rows).Error
}

// UseRecoveryCode marks an unused code as used; ErrNotFound when the account
// has no such unused code (a second use of the same code loses here).
func UseRecoveryCode(tx *Tx, userID int64, hash string, at time.Time) error {
	res := tx.g.Model(&RecoveryCode{}).Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, hash).
		UpdateColumn("used_at", at)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteRecoveryCodes removes every recovery code of the account.
func DeleteRecoveryCodes(tx *Tx, userID int64) (int64, error) {
	res := tx.g.Where("user_id = ?", userID).Delete(&RecoveryCode{})
	return res.RowsAffected, res.Error
}

// UnusedRecoveryCodes counts the account's recovery codes not used yet.
func (db *DB) UnusedRecoveryCodes(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := db.r.WithContext(ctx).Model(&RecoveryCode{}).Where("user_id = ? AND used_at IS NULL", userID).Count(&n).Error
	return n, err
}
