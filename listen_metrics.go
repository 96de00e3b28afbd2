package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/web"
)

// serveMetrics opens the metrics listener (metrics.listen) and serves
// GET /metrics on it until the returned stop is called. Without metrics.listen
// it does nothing. A listener that cannot open stops the start, naming the key.
func serveMetrics(cfg config.Config, app *web.App, log *slog.Logger) (stop func(), err error) {
	if cfg.Metrics.Listen == "" || app.Metrics == nil {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", cfg.Metrics.Listen)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen: %w", err)
	}
	srv := app.Metrics.NewServer(log)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "error", err)
		}
	}()
	log.Info("metrics listening", "listen", ln.Addr().String(), "path", "/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("metrics listener shutdown", "error", err)
		}
		<-done
	}, nil
}
