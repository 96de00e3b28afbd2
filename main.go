// Command dcrconsole is the CDR Dynamic Client Registration server and operator
// console for Data Holders. main.go is wiring only: flags, configuration, store,
// services, server, shutdown.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/web"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  dcrconsole [--config FILE] [--demo]       run the server (--demo: simulated Register and ADRs, throwaway database)
  dcrconsole audit verify [--config FILE | --demo | --db FILE]
                                            verify the audit log's hash chain
  dcrconsole user add NAME --role viewer|operator|admin [--config FILE]
  dcrconsole user passwd NAME [--config FILE]   a new one-time password (changed at next login)
  dcrconsole user disable NAME [--config FILE]  disable the account and end its sessions
                                            console accounts; passwords are printed once
  dcrconsole apikey new NAME | list | revoke NAME [--config FILE]
                                            processing-API keys; a new key is printed once
  dcrconsole keys list|rotate [--config FILE]
                                            the holder's signing keys; rotate makes a new key sign
                                            (a running server picks it up within 10 s; the old key
                                            stays published until its tokens have expired)
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "audit":
			return auditCommand(args[1:], stdout, stderr)
		case "keys":
			return keysCommand(args[1:], stdout, stderr)
		case "user":
			return userCommand(args[1:], stdout, stderr)
		case "apikey":
			return apikeyCommand(args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("dcrconsole", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	configPath := fs.String("config", "", "configuration file (TOML)")
	demo := fs.Bool("demo", false, "demo mode: simulated CDR Register and ADRs, throwaway database")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unknown command %q\n%s", fs.Arg(0), usage)
		return 2
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	log := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, *demo, log); err != nil {
		log.Error("dcrconsole stopped", "error", err)
		return 1
	}
	return 0
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the server until ctx is cancelled.
func serve(ctx context.Context, cfg config.Config, demoMode bool, log *slog.Logger) error {
	var demo *demoEnv
	if demoMode {
		var err error
		if demo, err = startDemo(&cfg, log); err != nil {
			return err
		}
		defer demo.Close()
	}
	db, err := openStore(ctx, cfg.Database.Path, demoMode)
	if err != nil {
		return err
	}
	defer db.Close()

	opts := web.BuildOptions{Demo: demoMode}
	if demo != nil {
		opts.RootCAs = demo.RootCAs()
	}
	app, err := web.Build(ctx, cfg, db, log, opts)
	if err != nil {
		return err
	}
	if err := app.RegisterData.Load(ctx); err != nil {
		log.Warn("register data: no stored copy loaded", "error", err)
	}
	if cfg.Console.Enabled {
		password, err := app.Auth.EnsureAdmin(ctx)
		if err != nil {
			return fmt.Errorf("console: first administrator: %w", err)
		}
		if password != "" {
			log.Warn("console: created the first administrator; this one-time password is shown once and must be changed at first login",
				"url", cfg.Server.PublicURL+"/console/", "username", "admin", "password", password)
		}
	}
	srv := &http.Server{
		Handler:           app.Engine,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("server.listen: %w", err)
	}
	if cfg.TLS.CertFile != "" {
		tlsConfig, err := serverTLSConfig(cfg.TLS)
		if err != nil {
			ln.Close()
			return err
		}
		ln = tls.NewListener(ln, tlsConfig)
	}
	bg, cancelBG := context.WithCancel(ctx)
	defer cancelBG()
	if cfg.Register.CheckStatus {
		go app.RegisterData.Run(bg)
	}
	go pruneJTIs(bg, db, log)
	go app.Keys.Run(bg, 10*time.Second)
	go pruneSessions(bg, app.Auth, log)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("dcrconsole listening", "listen", ln.Addr().String(), "public_url", cfg.Server.PublicURL,
		"issuer", cfg.Holder.Issuer, "database", cfg.Database.Path, "demo", demoMode)
	if demo != nil {
		go demo.Run(bg, cfg, log)
	}

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cancelBG()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// openStore opens the database and keeps demo and real databases apart: demo
// mode never opens a database it did not create, and a normal start refuses a demo one.
func openStore(ctx context.Context, path string, demoMode bool) (*store.DB, error) {
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return nil, err
	}
	marker, err := db.GetMeta(ctx, store.MetaDemo)
	if err != nil {
		db.Close()
		return nil, err
	}
	switch {
	case demoMode && marker == "":
		if err := db.SetMeta(ctx, store.MetaDemo, "true"); err != nil {
			db.Close()
			return nil, err
		}
	case !demoMode && marker != "":
		db.Close()
		return nil, fmt.Errorf("database %s was created by demo mode; refusing to use it for a real deployment (set database.path to another file)", path)
	}
	return db, nil
}

// pruneJTIs deletes expired jtis hourly; they are useless once their token has expired.
func pruneJTIs(ctx context.Context, db *store.DB, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := db.PruneJTIs(ctx, time.Now().Add(-time.Hour)); err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("jti pruning failed", "error", err)
		} else if n > 0 {
			log.Info("pruned expired jtis", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func auditCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (TOML)")
	demo := fs.Bool("demo", false, "verify the demo database")
	dbPath := fs.String("db", "", "database file (overrides the configuration)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	path := cfg.Database.Path
	if *demo {
		path = demoDatabasePath()
	}
	if *dbPath != "" {
		path = *dbPath
	}
	if _, err := os.Stat(path); err != nil {
		fmt.Fprintf(stderr, "audit verify: %v\n", err)
		return 2
	}
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	defer db.Close()
	res, err := audit.New(db).Verify(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "audit verify: %v\n", err)
		return 2
	}
	if !res.OK {
		fmt.Fprintf(stdout, "audit chain BROKEN after checking %d events: %s\n", res.Events, res.Problem)
		return 1
	}
	fmt.Fprintf(stdout, "audit chain intact: %d events, head #%d %s\n", res.Events, res.HeadID, strings.TrimSpace(res.HeadHash))
	return 0
}

// serverTLSConfig is the TLS of a server that terminates HTTPS itself, with
// client certificates verified against tls.client_ca_file when requested.
func serverTLSConfig(c config.TLS) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls.cert_file/tls.key_file: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.client_ca_file: no PEM certificate in %s", c.ClientCAFile)
		}
		tc.ClientCAs = pool
	}
	switch c.ClientAuth {
	case "request":
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	case "require":
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

func keysCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "rotate") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (TOML)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx := context.Background()
	if _, err := os.Stat(cfg.Database.Path); err != nil {
		fmt.Fprintf(stderr, "keys: database.path: %v (start the server once to create it)\n", err)
		return 2
	}
	db, err := openStore(ctx, cfg.Database.Path, false)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer db.Close()
	if args[0] == "rotate" {
		// Old keys stay published longer than any token they signed can live,
		// plus the running server's reload interval.
		publishFor := cfg.Holder.AccessTokenTTL.Duration + cfg.Holder.ClockSkew.Duration + time.Minute
		kid, err := dcr.RotateHolderKey(ctx, db, cfg.Holder.SigningAlg, publishFor)
		if err != nil {
			fmt.Fprintf(stderr, "keys rotate: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "new signing key %s (%s); previous keys published until %s\n", kid, cfg.Holder.SigningAlg,
			time.Now().Add(publishFor).UTC().Format(time.RFC3339))
	}
	keys, err := db.HolderKeys(ctx, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, k := range keys {
		state := "signing"
		if k.RetiredAt != nil {
			state = "retired, published until " + k.PublishUntil.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(stdout, "%s  %s  created %s  %s\n", k.KID, k.Alg, k.CreatedAt.UTC().Format(time.RFC3339), state)
	}
	return 0
}

// pruneSessions deletes ended console sessions every ten minutes.
func pruneSessions(ctx context.Context, a *auth.Service, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := a.PruneSessions(ctx); err != nil && ctx.Err() == nil {
				log.Warn("session pruning failed", "error", err)
			}
		}
	}
}

// userCommand manages console accounts from the command line.
func userCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || (args[0] != "add" && args[0] != "passwd" && args[0] != "disable") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	action, name := args[0], args[1]
	fs := flag.NewFlagSet("user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (TOML)")
	role := fs.String("role", "viewer", "role: viewer, operator or admin")
	if err := fs.Parse(args[2:]); err != nil {
		return 2
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx := context.Background()
	db, err := openStore(ctx, cfg.Database.Path, false)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer db.Close()
	svc := auth.New(db, audit.New(db), auth.Options{})
	const cli = "cli"
	switch action {
	case "add":
		password := auth.RandomPassword()
		if _, err := svc.CreateUser(ctx, cli, name, password, *role, true, ""); err != nil {
			fmt.Fprintf(stderr, "user add: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "created %s (%s); one-time password, shown once, to be changed at first login:\n%s\n", name, *role, password)
	case "passwd", "disable":
		u, err := db.UserByName(ctx, name)
		if err != nil {
			fmt.Fprintf(stderr, "user %s: %v\n", action, err)
			return 1
		}
		if action == "disable" {
			if err := svc.UpdateUser(ctx, cli, u.ID, u.Role, true, ""); err != nil {
				fmt.Fprintf(stderr, "user disable: %v\n", err)
				return 1
			}
			fmt.Fprintf(stdout, "disabled %s; every session of it has ended\n", name)
			return 0
		}
		password := auth.RandomPassword()
		if err := svc.SetPassword(ctx, cli, u.ID, password, true, ""); err != nil {
			fmt.Fprintf(stderr, "user passwd: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "new one-time password for %s, shown once, to be changed at next login:\n%s\n", name, password)
	}
	return 0
}

// apikeyCommand manages the processing API's keys from the command line.
func apikeyCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "new" && args[0] != "list" && args[0] != "revoke") || (args[0] != "list" && len(args) < 2) {
		fmt.Fprint(stderr, usage)
		return 2
	}
	rest := args[1:]
	name := ""
	if args[0] != "list" {
		name, rest = args[1], args[2:]
	}
	fs := flag.NewFlagSet("apikey", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (TOML)")
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx := context.Background()
	db, err := openStore(ctx, cfg.Database.Path, false)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer db.Close()
	svc := auth.New(db, audit.New(db), auth.Options{})
	switch args[0] {
	case "new":
		key, err := svc.NewAPIKey(ctx, "cli", name, "")
		if err != nil {
			fmt.Fprintf(stderr, "apikey new: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "API key %s (shown once; only its hash is kept):\n%s\n", name, key)
	case "revoke":
		if err := svc.RevokeAPIKey(ctx, "cli", name, ""); err != nil {
			fmt.Fprintf(stderr, "apikey revoke: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "revoked API key %s\n", name)
	case "list":
		keys, err := svc.APIKeys(ctx)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		for _, k := range keys {
			state := "active"
			if k.RevokedAt != nil {
				state = "revoked " + k.RevokedAt.UTC().Format(time.RFC3339)
			}
			used := "never used"
			if k.LastUsedAt != nil {
				used = "last used " + k.LastUsedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%s\tcreated %s by %s\t%s\t%s\n", k.Name, k.CreatedAt.UTC().Format(time.RFC3339), k.CreatedBy, used, state)
		}
	}
	return 0
}
