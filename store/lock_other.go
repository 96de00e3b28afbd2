//go:build !unix

package store

import (
	"errors"
	"fmt"
	"io/fs"
)

// Lock is a no-op where flock is unavailable: one server per database is then
// the operator's responsibility.
type Lock struct{}

// LockedError is another live process holding a database's lock.
type LockedError struct{ Database, Holder string }

func (e *LockedError) Error() string {
	return fmt.Sprintf("database %s is in use (%s)", e.Database, e.Holder)
}

// ReadOnlyError is a database (or its directory) that this process cannot write.
type ReadOnlyError struct {
	Path string
	Err  error
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("store: %s is read-only: %v", e.Path, e.Err)
}

func (e *ReadOnlyError) Unwrap() error { return e.Err }

// isReadOnly reports whether err says the permissions refuse writing.
func isReadOnly(err error) bool { return errors.Is(err, fs.ErrPermission) }

// AcquireLock does nothing on this platform.
func AcquireLock(string) (*Lock, error) { return &Lock{}, nil }

// Release does nothing on this platform.
func (l *Lock) Release() error { return nil }

func lockHeld(string) bool { return false }

func checkWritable(string) error { return nil }
