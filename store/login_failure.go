package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Kinds of sign-in failure counters.
const (
	FailureAccount = "account" // Subject is the lower-cased username
	FailureAddress = "address" // Subject is the client address
)

// LoginFailure counts the failed sign-ins of an account or from an address
// within the throttling window (auth decides the window and the limits); it
// is kept in the database so that a restart does not forgive.
type LoginFailure struct {
	Kind     string `gorm:"primaryKey"`
	Subject  string `gorm:"primaryKey"`
	Failures int
	LastAt   time.Time
}

// TableName is the login_failures table.
func (LoginFailure) TableName() string { return "login_failures" }

// LoginFailures returns the counter of kind and subject, or nil when there is none.
func (db *DB) LoginFailures(ctx context.Context, kind, subject string) (*LoginFailure, error) {
	var f LoginFailure
	err := db.r.WithContext(ctx).Where("kind = ? AND subject = ?", kind, subject).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// AddLoginFailure counts one more failure of kind and subject at now; a
// counter whose last failure is before staleBefore starts again from one.
func AddLoginFailure(tx *Tx, kind, subject string, now, staleBefore time.Time) error {
	var f LoginFailure
	err := tx.g.Where("kind = ? AND subject = ?", kind, subject).Take(&f).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && f.LastAt.Before(staleBefore)):
		f = LoginFailure{Kind: kind, Subject: subject, Failures: 1, LastAt: now}
	case err != nil:
		return err
	default:
		f.Failures++
		f.LastAt = now
	}
	// ON CONFLICT ... DO UPDATE: SQLite and PostgreSQL both have it.
	return tx.g.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "kind"}, {Name: "subject"}},
		DoUpdates: clause.AssignmentColumns([]string{"failures", "last_at"}),
	}).Create(&f).Error
}

// ClearLoginFailures deletes the counter of kind and subject (a success, or
// an administrator's unlock); it returns how many rows went.
func ClearLoginFailures(tx *Tx, kind, subject string) (int64, error) {
	res := tx.g.Where("kind = ? AND subject = ?", kind, subject).Delete(&LoginFailure{})
	return res.RowsAffected, res.Error
}

// RecentLoginFailures lists the counters whose last failure is at or after
// since and that reached min failures, newest first (at most limit).
func (db *DB) RecentLoginFailures(ctx context.Context, since time.Time, min, limit int) ([]LoginFailure, error) {
	var out []LoginFailure
	err := db.r.WithContext(ctx).Where("last_at >= ? AND failures >= ?", since, min).
		Order("last_at DESC").Limit(limit).Find(&out).Error
	return out, err
}

// PruneLoginFailures deletes the counters whose last failure is before before.
func PruneLoginFailures(tx *Tx, before time.Time) (int64, error) {
	res := tx.g.Where("last_at < ?", before).Delete(&LoginFailure{})
	return res.RowsAffected, res.Error
}
