package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// RegisterSnapshot is the last good response of one CDR Register endpoint, kept so
// the holder keeps working when the Register is unreachable or after a restart.
type RegisterSnapshot struct {
	Endpoint  string `gorm:"primaryKey"`
	ETag      string `gorm:"column:etag"`
	Body      []byte
	FetchedAt time.Time
}

// TableName is the register_snapshots table.
func (RegisterSnapshot) TableName() string { return "register_snapshots" }

// RegisterSync is the health of the Register synchronisation (a single row).
type RegisterSync struct {
	ID               int `gorm:"primaryKey"`
	LastAttemptAt    *time.Time
	LastSuccessAt    *time.Time
	LastError        string
	LastErrorAt      *time.Time
	ConsecutiveFails int
}

// TableName is the register_syncs table.
func (RegisterSync) TableName() string { return "register_syncs" }

// RegisterSnapshots returns every stored snapshot.
func (db *DB) RegisterSnapshots(ctx context.Context) ([]RegisterSnapshot, error) {
	var out []RegisterSnapshot
	err := db.r.WithContext(ctx).Order("endpoint").Find(&out).Error
	return out, err
}

// SaveRegisterSnapshot stores s, replacing the previous snapshot of its endpoint.
func SaveRegisterSnapshot(tx *Tx, s *RegisterSnapshot) error {
	return tx.g.Clauses(clause.OnConflict{UpdateAll: true}).Create(s).Error
}

// RegisterSyncHealth returns the sync health row (zero value before the first sync).
func (db *DB) RegisterSyncHealth(ctx context.Context) (RegisterSync, error) {
	var s RegisterSync
	err := db.r.WithContext(ctx).Where("id = 1").Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return RegisterSync{ID: 1}, nil
	}
	return s, err
}

// SaveRegisterSyncHealth stores s as the sync health row.
func SaveRegisterSyncHealth(tx *Tx, s *RegisterSync) error {
	s.ID = 1
	return tx.g.Clauses(clause.OnConflict{UpdateAll: true}).Create(s).Error
}

// RegisterSnapshotBody returns the stored body of one endpoint's snapshot;
// ErrNotFound when there is none.
func (db *DB) RegisterSnapshotBody(ctx context.Context, endpoint string) ([]byte, error) {
	var s RegisterSnapshot
	err := db.r.WithContext(ctx).Select("body").Where("endpoint = ?", endpoint).Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return s.Body, err
}
