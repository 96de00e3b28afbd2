package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/web"
)

// served is one listening socket and the HTTP server on it.
type served struct {
	key string // the configuration key of its address: server.listen, console.listen, metrics.listen
	srv *http.Server
	ln  net.Listener
}

// closeAll closes the listeners opened so far (a start that failed half-way).
func closeAll(srvs []served) {
	for _, s := range srvs {
		s.ln.Close()
	}
}

// listenAll opens the main listener, with console.listen the console's own and
// with metrics.listen the metrics listener (GET /metrics), in that order: the
// main listener first, the metrics listener last, which is also the order they
// are shut down in (the metrics stay readable while the others drain). An
// address that cannot be opened stops the start, naming its key; on an error
// nothing stays open.
func listenAll(cfg config.Config, app *web.App, log *slog.Logger) ([]served, error) {
	srvs, err := listenAPIAndConsole(cfg, app, log)
	if err != nil {
		return nil, err
	}
	if cfg.Metrics.Listen == "" || app.Metrics == nil {
		return srvs, nil
	}
	ln, err := net.Listen("tcp", cfg.Metrics.Listen)
	if err != nil {
		closeAll(srvs)
		return nil, fmt.Errorf("metrics.listen: %w", err)
	}
	return append(srvs, served{key: "metrics.listen", srv: app.Metrics.NewServer(log), ln: ln}), nil
}

// serveOne serves s until it is shut down. The main and console listeners report
// their end on serveErr (one failing stops the process); the metrics listener
// only logs a failure: monitoring must not take the service down.
func serveOne(s served, serveErr chan<- error, log *slog.Logger) {
	err := s.srv.Serve(s.ln)
	if s.key == "metrics.listen" {
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "error", err)
		}
		return
	}
	serveErr <- err
}

// listenAPIAndConsole opens the main listener and, with console.listen, the
// console's own.
func listenAPIAndConsole(cfg config.Config, app *web.App, log *slog.Logger) ([]served, error) {
	var tlsConfig *tls.Config
	if cfg.TLS.CertFile != "" {
		var err error
		if tlsConfig, err = serverTLSConfig(cfg.TLS); err != nil {
			return nil, err
		}
	}
	main, err := listen("server.listen", cfg.Server.Listen, app.Engine, tlsConfig, log)
	if err != nil {
		return nil, err
	}
	if app.ConsoleEngine == nil {
		return []served{main}, nil
	}
	// The console's TLS never asks for a client certificate: operators sign in
	// with a password or SSO, whatever tls.client_auth demands of ADRs.
	var consoleTLS *tls.Config
	if cfg.Console.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.Console.TLSCertFile, cfg.Console.TLSKeyFile)
		if err != nil {
			main.ln.Close()
			return nil, fmt.Errorf("console.tls_cert_file/console.tls_key_file: %w", err)
		}
		consoleTLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	con, err := listen("console.listen", cfg.Console.Listen, app.ConsoleEngine, consoleTLS, log)
	if err != nil {
		main.ln.Close()
		return nil, err
	}
	return []served{main, con}, nil
}

// listen opens one listening socket (TLS when tc is set) and the HTTP server
// on it with its timeouts.
func listen(key, addr string, h http.Handler, tc *tls.Config, log *slog.Logger) (served, error) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return served{}, fmt.Errorf("%s: %w", key, err)
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	return served{key: key, srv: srv, ln: ln}, nil
}
