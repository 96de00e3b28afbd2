package main

import (
	"context"
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/web"
)

// limitMemory applies server.memory_limit_bytes as the Go runtime's soft memory
// limit and hands memory back to the OS after each rebuild of the Register
// index: loading or syncing a large Register decodes tens of megabytes that are
// garbage a moment later, and an idle server should not keep them.
func limitMemory(cfg config.Config, app *web.App, log *slog.Logger) {
	limit := applyMemoryLimit(cfg.Server.MemoryLimitBytes, os.Getenv("GOMEMLIMIT") != "")
	log.Debug("go memory limit", "bytes", limit)
	app.RegisterData.OnSynced(func(context.Context) { debug.FreeOSMemory() })
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
