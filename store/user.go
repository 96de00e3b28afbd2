package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Operator roles, from least to most privileged.
const (
	RoleViewer   = "viewer"   // reads everything
	RoleOperator = "operator" // also revokes, restores, blocks, syncs
	RoleAdmin    = "admin"    // also manages users and API keys
)

// ErrUsernameTaken is returned when a username is already in use.
var ErrUsernameTaken = errors.New("store: username taken")

// User is an operator account of the console.
type User struct {
	ID                 int64 `gorm:"primaryKey"`
	Username           string
	PasswordHash       string
	Role               string
	MustChangePassword bool
	Disabled           bool
	CreatedAt          time.Time
	UpdatedAt          time.Time
	LastLoginAt        *time.Time
}

// TableName is the users table.
func (User) TableName() string { return "users" }

// CountUsers returns how many accounts exist.
func (db *DB) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := db.R.WithContext(ctx).Model(&User{}).Count(&n).Error
	return n, err
}

// CreateUser inserts u inside tx.
func CreateUser(tx *gorm.DB, u *User) error {
	if err := tx.Create(u).Error; err != nil {
		if IsUniqueViolation(err) {
			return ErrUsernameTaken
		}
		return err
	}
	return nil
}

// UserByName returns the account named username (case-insensitive).
func (db *DB) UserByName(ctx context.Context, username string) (*User, error) {
	var u User
	err := db.R.WithContext(ctx).Where("username = ?", username).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &u, err
}

// UserByID returns the account with id.
func (db *DB) UserByID(ctx context.Context, id int64) (*User, error) {
	var u User
	err := db.R.WithContext(ctx).Where("id = ?", id).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &u, err
}

// Users lists every account by name.
func (db *DB) Users(ctx context.Context) ([]User, error) {
	var out []User
	err := db.R.WithContext(ctx).Order("username COLLATE NOCASE").Find(&out).Error
	return out, err
}

// UpdateUser writes the changeable fields of u inside tx.
func UpdateUser(tx *gorm.DB, u *User) error {
	res := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{
		"password_hash": u.PasswordHash, "role": u.Role, "must_change_password": u.MustChangePassword,
		"disabled": u.Disabled, "updated_at": u.UpdatedAt, "last_login_at": u.LastLoginAt,
	})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
