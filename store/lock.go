//go:build unix

package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Lock is an advisory lock (flock) on PATH.lock beside a database: one server
// per database. The kernel drops it when the process ends, however it ends, so
// a crash leaves no stale lock. The file stays after release: removing it would
// let two processes lock two different inodes.
type Lock struct {
	f    *os.File
	path string
}

// LockedError is another live process holding a database's lock.
type LockedError struct {
	Database string
	// Holder is what the holder wrote into the lock file: pid, host, start time.
	Holder string
}

func (e *LockedError) Error() string {
	holder := e.Holder
	if holder == "" {
		holder = "a process that is starting"
	}
	return fmt.Sprintf("database %s is in use by another dcrconsole (%s; lock file %s.lock); "+
		"stop that process first, or set database.path to another file", e.Database, holder, e.Database)
}

// ReadOnlyError is a database (or its directory) that this process cannot write.
type ReadOnlyError struct {
	Path string // the file or directory that is read-only
	Err  error
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("store: %s is read-only (%v): dcrconsole writes the database, its -wal and -shm files "+
		"and a .lock file in that directory; mount the volume read-write or give the user write access "+
		"(`dcrconsole audit verify` alone works on a read-only copy)", e.Path, errors.Unwrap(e.Err))
}

func (e *ReadOnlyError) Unwrap() error { return e.Err }

// isReadOnly reports whether err says the file system or the permissions refuse writing.
func isReadOnly(err error) bool {
	return errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}

// AcquireLock takes the lock of the database at dbPath before anything else
// touches it (no migration, no demo wipe), creating its directory if needed.
// Another live holder is a *LockedError naming it; a read-only directory a *ReadOnlyError.
func AcquireLock(dbPath string) (*Lock, error) {
	if err := createDir(dbPath); err != nil {
		return nil, err
	}
	dir := filepath.Dir(dbPath)
	lockPath := dbPath + ".lock"
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		if isReadOnly(err) {
			return nil, &ReadOnlyError{Path: dir, Err: err}
		}
		return nil, fmt.Errorf("store: lock %s: %w", lockPath, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := io.ReadAll(io.LimitReader(f, 512))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Database: dbPath, Holder: strings.TrimSpace(string(holder))}
		}
		return nil, fmt.Errorf("store: lock %s: %w", lockPath, err)
	}
	host, _ := os.Hostname()
	info := fmt.Sprintf("pid %d on host %s, started %s", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(info+"\n"), 0)
	}
	return &Lock{f: f, path: lockPath}, nil
}

// Release ends the lock (the process ending does too).
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close() // closing the last descriptor releases the flock
	l.f = nil
	return err
}

// lockHeld reports whether a live process holds the lock of the database at
// dbPath. It creates nothing and works in a read-only directory.
func lockHeld(dbPath string) bool {
	f, err := os.Open(dbPath + ".lock")
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// checkWritable refuses a database file or directory this process cannot
// write, naming it, before SQLite turns that into a misleading "no such file".
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	if err := syscall.Access(dir, 2 /* W_OK */); err != nil && isReadOnly(err) {
		return &ReadOnlyError{Path: dir, Err: &os.PathError{Op: "access", Path: dir, Err: err}}
	}
	if err := syscall.Access(path, 2); err != nil && isReadOnly(err) {
		return &ReadOnlyError{Path: path, Err: &os.PathError{Op: "access", Path: path, Err: err}}
	}
	return nil
}
