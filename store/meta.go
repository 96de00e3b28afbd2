package store

import (
	"context"
	"errors"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Meta is a key/value row describing the database itself (for example whether it is a demo database).
type Meta struct {
	Key   string `gorm:"primaryKey"`
	Value string
}

// TableName is the meta table.
func (Meta) TableName() string { return "meta" }

// MetaDemo marks a database created by demo mode.
const MetaDemo = "demo"

// GetMeta returns the value for key, or "" when unset.
func (db *DB) GetMeta(ctx context.Context, key string) (string, error) {
	var m Meta
	err := db.w.WithContext(ctx).Where("key = ?", key).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil
	}
	return m.Value, err
}

// SetMeta sets key to value.
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	return db.Tx(ctx, func(tx *Tx) error {
		return tx.g.Clauses(clause.OnConflict{UpdateAll: true}).Create(&Meta{Key: key, Value: value}).Error
	})
}
