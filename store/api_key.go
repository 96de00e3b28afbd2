package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// APIKey is a credential of an authorization server calling the processing API.
// Only the SHA-256 of the key is stored.
type APIKey struct {
	Name       string `gorm:"primaryKey"`
	KeyHash    string
	CreatedBy  string
	CreatedAt  time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

// TableName is the api_keys table.
func (APIKey) TableName() string { return "api_keys" }

// CreateAPIKey stores k (ErrDuplicate when the name is taken).
func CreateAPIKey(tx *Tx, k *APIKey) error {
	return savepoint(tx, func(tx *Tx) error {
		if err := tx.g.Create(k).Error; err != nil {
			if IsUniqueViolation(err) {
				return ErrDuplicate
			}
			return err
		}
		return nil
	})
}

// APIKeyByHash returns the unrevoked key with keyHash.
func (db *DB) APIKeyByHash(ctx context.Context, keyHash string) (*APIKey, error) {
	var k APIKey
	err := db.r.WithContext(ctx).Where("key_hash = ? AND revoked_at IS NULL", keyHash).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &k, err
}

// APIKeys lists every key, newest first.
func (db *DB) APIKeys(ctx context.Context) ([]APIKey, error) {
	var out []APIKey
	err := db.r.WithContext(ctx).Order("created_at DESC").Find(&out).Error
	return out, err
}

// RevokeAPIKey revokes the key name (ErrNotFound when there is no such active key).
func RevokeAPIKey(tx *Tx, name string, at time.Time) error {
	res := tx.g.Model(&APIKey{}).Where("name = ? AND revoked_at IS NULL", name).Update("revoked_at", at)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// TouchAPIKey records a use of the key, at most once a minute.
func TouchAPIKey(tx *Tx, name string, at time.Time) error {
	return tx.g.Model(&APIKey{}).Where("name = ? AND (last_used_at IS NULL OR last_used_at < ?)", name, at.Add(-time.Minute)).
		UpdateColumn("last_used_at", at).Error
}
