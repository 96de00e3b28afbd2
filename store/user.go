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
	// IDPIssuer and IDPSubject identify an account provisioned by single
	// sign-on (both empty for a local account); see user_sso.go.
	IDPIssuer  string `gorm:"column:idp_issuer"`
	IDPSubject string `gorm:"column:idp_subject"`
}

// TableName is the users table.
func (User) TableName() string { return "users" }

// CountUsers returns how many accounts exist.
func (db *DB) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := db.r.WithContext(ctx).Model(&User{}).Count(&n).Error
	return n, err
}

// CreateUser inserts u inside tx.
func CreateUser(tx *Tx, u *User) error {
	return savepoint(tx, func(tx *Tx) error {
		if err := tx.g.Create(u).Error; err != nil {
			if IsUniqueViolation(err) {
				return ErrUsernameTaken
			}
			return err
		}
		return nil
	})
}

// UserByName returns the account named username (case-insensitive).
func (db *DB) UserByName(ctx context.Context, username string) (*User, error) {
	var u User
	err := db.r.WithContext(ctx).Where("username = ?", username).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &u, err
}

// UserByID returns the account with id.
func (db *DB) UserByID(ctx context.Context, id int64) (*User, error) {
	var u User
	err := db.r.WithContext(ctx).Where("id = ?", id).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &u, err
}

// Users lists every account by name.
func (db *DB) Users(ctx context.Context) ([]User, error) {
	var out []User
	// sqlite-only: COLLATE NOCASE, as the column is declared; PostgreSQL: lower(username).
	// COLLATE NOCASE: SQLite's built-in; on PostgreSQL the ICU collation nocase of migration 1.
	err := db.r.WithContext(ctx).Order("username COLLATE NOCASE").Find(&out).Error
	return out, err
}

// Each update below writes only the columns its action owns: a sign-in, a
// password change and an administrator's role change can race, and none may
// write back another's stale values.

func updateUserColumns(tx *Tx, where string, args []any, cols map[string]any) error {
	res := tx.g.Model(&User{}).Where(where, args...).Updates(cols)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// SetUserPassword replaces the password hash and the must-change flag.
func SetUserPassword(tx *Tx, id int64, hash string, mustChange bool, at time.Time) error {
	return updateUserColumns(tx, "id = ?", []any{id},
		map[string]any{"password_hash": hash, "must_change_password": mustChange, "updated_at": at})
}

// SetUserRole sets the role and the disabled flag.
func SetUserRole(tx *Tx, id int64, role string, disabled bool, at time.Time) error {
	return updateUserColumns(tx, "id = ?", []any{id}, map[string]any{"role": role, "disabled": disabled, "updated_at": at})
}

// RecordLogin sets the last sign-in time, only while the account is enabled and
// its password is still the one that was checked (ErrNotFound otherwise): a
// sign-in racing a disable or a password reset loses.
func RecordLogin(tx *Tx, id int64, checkedHash string, at time.Time) error {
	return updateUserColumns(tx, "id = ? AND NOT disabled AND password_hash = ?", []any{id, checkedHash},
		map[string]any{"last_login_at": at})
}

// CountEnabledAdmins counts the enabled admins other than exceptID, inside tx:
// a check made there holds until the transaction commits (two concurrent
// demotions of the last two admins cannot both pass).
func CountEnabledAdmins(tx *Tx, exceptID int64) (int64, error) {
	var n int64
	err := tx.g.Model(&User{}).Where("role = ? AND NOT disabled AND id != ?", RoleAdmin, exceptID).Count(&n).Error
	return n, err
}

// UpgradePasswordHash replaces a password hash by an equivalent one (same
// password, newer format or parameters) while it is still checkedHash; it
// leaves the must-change flag and updated_at alone: nothing changed for the user.
func UpgradePasswordHash(tx *Tx, id int64, checkedHash, newHash string) error {
	return updateUserColumns(tx, "id = ? AND password_hash = ?", []any{id, checkedHash},
		map[string]any{"password_hash": newHash})
}
