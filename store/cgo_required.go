//go:build !cgo

package store

// dcrconsole embeds SQLite, which is C code built by cgo. Without a C compiler Go
// turns cgo off and the build would fail deep inside the driver; this file makes it
// stop with one line that says what to do instead.
var _ int = "dcrconsole needs cgo to build SQLite: install a C compiler (Debian/Ubuntu: apt-get install gcc; macOS: xcode-select --install) and build with CGO_ENABLED=1"

// IsUniqueViolation exists so that the line above is the build's only error.
func IsUniqueViolation(error) bool { return false }

func abortsTransaction(error) bool { return false }
