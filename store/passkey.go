package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Passkey is a WebAuthn credential of an account. ID is the credential id
// (base64url); Credential is the library's record as JSON (public key, sign
// count, flags): nothing in it is secret.
type Passkey struct {
	ID         string `gorm:"primaryKey"`
	UserID     int64
	Name       string
	Credential string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// TableName is the passkeys table.
func (Passkey) TableName() string { return "passkeys" }

// CreatePasskey stores p inside tx.
func CreatePasskey(tx *Tx, p *Passkey) error {
	if err := tx.g.Create(p).Error; err != nil {
		if IsUniqueViolation(err) {
			return ErrPasskeyTaken
		}
		return err
	}
	return nil
}

// ErrPasskeyTaken is a credential id registered already.
var ErrPasskeyTaken = errors.New("store: this passkey is registered already")

// PasskeysForUser lists the account's passkeys, oldest first.
func (db *DB) PasskeysForUser(ctx context.Context, userID int64) ([]Passkey, error) {
	var out []Passkey
	err := db.r.WithContext(ctx).Where("user_id = ?", userID).Order("created_at, id").Find(&out).Error
	return out, err
}

// CountPasskeys counts the account's passkeys.
func (db *DB) CountPasskeys(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := db.r.WithContext(ctx).Model(&Passkey{}).Where("user_id = ?", userID).Count(&n).Error
	return n, err
}

// PasskeyUsed stores the credential record after a sign-in (its sign count and
// flags change) and the time of use.
func PasskeyUsed(tx *Tx, id, credential string, at time.Time) error {
	return tx.g.Model(&Passkey{}).Where("id = ?", id).
		Updates(map[string]any{"credential": credential, "last_used_at": at}).Error
}

// DeletePasskey removes one passkey of the account; ErrNotFound when the
// account has no passkey with that id.
func DeletePasskey(tx *Tx, userID int64, id string) (*Passkey, error) {
	var p Passkey
	err := tx.g.Where("user_id = ? AND id = ?", userID, id).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &p, tx.g.Where("id = ?", id).Delete(&Passkey{}).Error
}

// DeletePasskeys removes every passkey of the account.
func DeletePasskeys(tx *Tx, userID int64) (int64, error) {
	res := tx.g.Where("user_id = ?", userID).Delete(&Passkey{})
	return res.RowsAffected, res.Error
}

// WebAuthnCeremony is a registration or sign-in begun in the browser and not
// finished yet: the challenge the browser must sign (Data, the library's
// session as JSON). It is taken once; an expired one is useless.
type WebAuthnCeremony struct {
	ID        string `gorm:"primaryKey"`
	Kind      string
	UserID    int64
	Data      string
	ExpiresAt time.Time
}

// TableName is the webauthn_ceremonies table.
func (WebAuthnCeremony) TableName() string { return "webauthn_ceremonies" }

// CreateCeremony stores c inside tx.
func CreateCeremony(tx *Tx, c *WebAuthnCeremony) error { return tx.g.Create(c).Error }

// TakeCeremony returns and deletes the ceremony id of kind; ErrNotFound when
// there is none, or it has expired by now.
func TakeCeremony(tx *Tx, id, kind string, now time.Time) (*WebAuthnCeremony, error) {
	var c WebAuthnCeremony
	err := tx.g.Where("id = ? AND kind = ?", id, kind).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := tx.g.Where("id = ?", id).Delete(&WebAuthnCeremony{}).Error; err != nil {
		return nil, err
	}
	if now.After(c.ExpiresAt) {
		return nil, ErrNotFound
	}
	return &c, nil
}

// PruneCeremonies deletes the ceremonies that expired before now.
func PruneCeremonies(tx *Tx, now time.Time) (int64, error) {
	res := tx.g.Where("expires_at < ?", now).Delete(&WebAuthnCeremony{})
	return res.RowsAffected, res.Error
}
