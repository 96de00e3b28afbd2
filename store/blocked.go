package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// BlockedSoftware is a software product the Data Holder refuses new registrations for.
type BlockedSoftware struct {
	SoftwareID string `gorm:"primaryKey"`
	Reason     string
	BlockedBy  string
	CreatedAt  time.Time
}

// TableName is the blocked_software table.
func (BlockedSoftware) TableName() string { return "blocked_software" }

// BlockSoftware blocks a software product (ErrDuplicate when it already is).
func BlockSoftware(tx *Tx, b *BlockedSoftware) error {
	return savepoint(tx, func(tx *Tx) error {
		if err := tx.g.Create(b).Error; err != nil {
			if IsUniqueViolation(err) {
				return ErrDuplicate
			}
			return err
		}
		return nil
	})
}

// UnblockSoftware lifts a block (ErrNotFound when there is none).
func UnblockSoftware(tx *Tx, softwareID string) error {
	res := tx.g.Where("software_id = ?", softwareID).Delete(&BlockedSoftware{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// SoftwareBlock returns the block of softwareID, or nil.
func (db *DB) SoftwareBlock(ctx context.Context, softwareID string) (*BlockedSoftware, error) {
	var b BlockedSoftware
	err := db.r.WithContext(ctx).Where("software_id = ?", softwareID).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &b, err
}
