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
