//go:build cgo

package store

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// The SQLite driver's error types exist only when cgo builds SQLite in; see
// cgo_required.go for what a build without a C compiler says instead.

// IsUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint failure.
func IsUniqueViolation(err error) bool {
	// sqlite-only: SQLite extended result codes; PostgreSQL: SQLSTATE 23505.
	if isPgUniqueViolation(err) {
		return true
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	return errors.Is(err, gorm.ErrDuplicatedKey) || strings.Contains(fmt.Sprint(err), "UNIQUE constraint failed")
}

// abortsTransaction reports whether err is a database failure after which SQLite
// may have rolled back the whole transaction, not just the failed statement.
// Application errors and constraint violations undo only their own savepoint.
func abortsTransaction(err error) bool {
	var se sqlite3.Error
	if err == nil || !errors.As(err, &se) {
		return false
	}
	return se.Code != sqlite3.ErrConstraint
}
