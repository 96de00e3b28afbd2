package store

import (
	"context"
	"time"
)

// HolderKey is one of the Data Holder's own signing keys (for access tokens).
// The signing key is the newest one not retired; retired keys stay published
// until PublishUntil so tokens they signed keep verifying.
type HolderKey struct {
	KID          string `gorm:"primaryKey;column:kid"`
	Alg          string
	PrivatePEM   string `gorm:"column:private_pem"`
	CreatedAt    time.Time
	RetiredAt    *time.Time
	PublishUntil *time.Time
}

// TableName is the holder_keys table.
func (HolderKey) TableName() string { return "holder_keys" }

// HolderKeys returns every key still to be published at now, newest first.
func (db *DB) HolderKeys(ctx context.Context, now time.Time) ([]HolderKey, error) {
	var out []HolderKey
	err := db.w.WithContext(ctx).Where("publish_until IS NULL OR publish_until > ?", now).
		Order("created_at DESC, kid").Find(&out).Error
	return out, err
}

// AddHolderKey stores a new signing key and retires the previous signing keys,
// which stay published until publishUntil.
func AddHolderKey(tx *Tx, k *HolderKey, publishUntil time.Time) error {
	if err := tx.g.Model(&HolderKey{}).Where("retired_at IS NULL").
		Updates(map[string]any{"retired_at": k.CreatedAt, "publish_until": publishUntil}).Error; err != nil {
		return err
	}
	return tx.g.Create(k).Error
}

// lockKeyFirstHolderKey is the transaction advisory lock that serialises the
// creation of the first holder key across replicas on PostgreSQL (the other
// lock keys are in postgres.go).
const lockKeyFirstHolderKey = 0x444352_0011

// AddFirstHolderKey stores k when no signing key exists yet and reports whether
// it did. Replicas that start together on an empty database all find no key
// and each make one: the check and the insert run in one transaction, and on
// PostgreSQL under a transaction advisory lock, so exactly one first key is
// stored and the others load it (SQLite's single writer serialises already).
func AddFirstHolderKey(tx *Tx, k *HolderKey) (bool, error) {
	if tx.pg {
		if err := tx.g.Exec(`SELECT pg_advisory_xact_lock(?)`, int64(lockKeyFirstHolderKey)).Error; err != nil {
			return false, err
		}
	}
	var n int64
	if err := tx.g.Model(&HolderKey{}).Where("retired_at IS NULL").Count(&n).Error; err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	return true, tx.g.Create(k).Error
}
