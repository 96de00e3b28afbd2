//go:build unix

package web

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) the test process has used: in a
// benchmark with server and clients in one process, what a request costs,
// whatever else the machine is running.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
