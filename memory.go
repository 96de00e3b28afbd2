package main

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"github.com/dcrconsole/dcrconsole/config"
)

// limitMemory applies server.memory_limit_bytes as the Go runtime's soft memory
// limit. (The Register index hands its decoding garbage back to the OS itself:
// register.Data.buildIndex.)
func limitMemory(cfg config.Config, log *slog.Logger) {
	limit := applyMemoryLimit(cfg.Server.MemoryLimitBytes, os.Getenv("GOMEMLIMIT") != "")
	log.Debug("go memory limit", "bytes", limit)
}

// applyMemoryLimit sets the runtime's soft memory limit to configured bytes
// (0: none), unless the operator set GOMEMLIMIT, which the runtime has applied
// already and which wins. It returns the limit in force.
func applyMemoryLimit(configured int64, fromEnv bool) int64 {
	switch {
	case fromEnv:
	case configured > 0:
		debug.SetMemoryLimit(configured)
	default:
		debug.SetMemoryLimit(math.MaxInt64)
	}
	return debug.SetMemoryLimit(-1)
}
