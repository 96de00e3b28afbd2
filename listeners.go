package main

import (
	"crypto/tls"
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
	srv *http.Server
	ln  net.Listener
}

// listenAll opens the main listener and, with console.listen, the console's
// own; on an error nothing stays open.
func listenAll(cfg config.Config, app *web.App, log *slog.Logger) ([]served, error) {
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
	return served{srv: srv, ln: ln}, nil
}
