// Command dcrconsole is the CDR Dynamic Client Registration server and operator
// console for Data Holders. main.go is wiring only: flags, configuration, store,
// services, server, shutdown.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/web"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  dcrconsole --help | --version             this text; the version and commit of this binary
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
  dcrconsole db copy --from sqlite:PATH --to postgres://USER:PASSWORD@HOST/DB
                                            move a deployment to an empty PostgreSQL database; the
                                            audit chain must verify there with the source's head hash
  dcrconsole health [--url URL]             exit 0 when URL (default http://127.0.0.1:8080/readyz)
                                            answers 200: a container health check without curl
`

func run(args []string, stdout, stderr io.Writer) int {
	// Asked for, help is the output and success, in any command; --version likewise.
	for i, a := range args {
		if a == "--" {
			break
		}
		if isHelp(a) && (a != "help" || i == 0) { // "help" as a word only as the command: a user may be named help
			fmt.Fprint(stdout, usage)
			return 0
		}
		if a == "--version" || a == "-version" || (a == "version" && len(args) == 1) {
			info, ok := debug.ReadBuildInfo()
			fmt.Fprintln(stdout, versionLine(version, commit, info, ok))
			return 0
		}
	}
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
		case "db":
			return dbCommand(args[1:], stdout, stderr)
		case "health":
			return healthCommand(args[1:], stdout, stderr)
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
	// Parsing the system's root certificates takes tens of milliseconds: start
	// now, beside opening the database; the fetcher built later gets them from
	// crypto/x509's cache. Demo mode trusts only its simulated CA: nothing to warm.
	if !demoMode {
		go func() { _, _ = x509.SystemCertPool() }()
	}
	lock, err := lockDatabase(cfg, demoMode)
	if err != nil {
		return err
	}
	defer lock.Release()
	var demo *demoEnv
	if demoMode {
		if demo, err = startDemo(&cfg, log); err != nil {
			return err
		}
		defer demo.Close()
	}
	db, err := openStore(ctx, cfg.Database, demoMode)
	if err != nil {
		return err
	}
	defer db.Close()
	app, err := buildApp(ctx, cfg, db, demo, log)
	if err != nil {
		return err
	}
	srvs, err := listenAll(cfg, app, log)
	if err != nil {
		return err
	}
	bg, cancelBG := context.WithCancel(ctx)
	defer cancelBG()
	startBackgroundJobs(bg, cfg, db, app, log)

	serveErr := make(chan error, len(srvs))
	for _, s := range srvs {
		go serveOne(s, serveErr, log)
	}
	for _, s := range srvs {
		switch s.key {
		case "server.listen":
			log.Info("dcrconsole listening", "listen", s.ln.Addr().String(), "public_url", cfg.Server.PublicURL,
				"issuer", cfg.Holder.Issuer, "database", cfg.Database.Describe(), "demo", demoMode)
		case "console.listen":
			log.Info("dcrconsole console listening", "listen", s.ln.Addr().String(), "console_url", cfg.ConsolePublicURL(),
				"tls", cfg.Console.TLSCertFile != "")
		case "metrics.listen":
			log.Info("metrics listening", "listen", s.ln.Addr().String(), "path", "/metrics")
		}
	}
	logAuditHead(ctx, app, log, "at start")
	if demo != nil {
		go demo.Run(bg, cfg, log)
	}
	return runUntilDone(ctx, srvs, serveErr, cancelBG, app, log)
}

// lockDatabase takes the lock of the database file. One server per database,
// decided before anything touches it: a second --demo must not wipe the running
// demo's database, a second server must not migrate under the first.
//
// On PostgreSQL several replicas share the database by design: no file lock.
func lockDatabase(cfg config.Config, demoMode bool) (*store.Lock, error) {
	if cfg.Database.Postgres() && !demoMode {
		return nil, nil // (*store.Lock)(nil).Release is a no-op
	}
	dbPath := cfg.Database.Path
	if demoMode {
		dbPath = demoDatabasePath()
	}
	return store.AcquireLock(dbPath)
}

// buildApp assembles the services, starts loading the stored copy of the
// Register and creates the first console administrator when there is none.
func buildApp(ctx context.Context, cfg config.Config, db *store.DB, demo *demoEnv, log *slog.Logger) (*web.App, error) {
	opts := web.BuildOptions{Demo: demo != nil}
	if demo != nil {
		opts.RootCAs = demo.RootCAs()
	}
	app, err := web.Build(ctx, cfg, db, log, opts)
	if err != nil {
		return nil, err
	}
	limitMemory(cfg, log)
	// The stored copy loads while the server starts; whatever needs it waits
	// for it (see register.Data.StartLoad), /readyz does not.
	loaded := app.RegisterData.StartLoad(ctx)
	go func() {
		if err := <-loaded; err != nil {
			log.Warn("register data: no stored copy loaded", "error", err)
		}
	}()
	if cfg.Console.Enabled {
		password, err := app.Auth.EnsureAdmin(ctx)
		if err != nil {
			return nil, fmt.Errorf("console: first administrator: %w", err)
		}
		if password != "" {
			log.Warn("console: created the first administrator; this one-time password is shown once and must be changed at first login",
				"url", cfg.Server.PublicURL+"/console/", "username", "admin", "password", password)
		}
	}
	return app, nil
}

// startBackgroundJobs starts the jobs that run until bg is cancelled: the
// Register refresh, pruning, the reload of the holder's keys, and the
// operations jobs (alerts, audit stream, scheduled verification).
func startBackgroundJobs(bg context.Context, cfg config.Config, db *store.DB, app *web.App, log *slog.Logger) {
	leader := startLeadership(bg, db, log)
	if cfg.Register.CheckStatus {
		if db.Postgres() {
			go followRegister(bg, app.RegisterData, leader, log)
		} else {
			go app.RegisterData.Run(bg)
		}
	}
	// Expired jtis are useless once their token has expired; ended sessions
	// likewise. Keys are reloaded so a CLI rotation reaches the running server.
	pruneJTIs := onLeader(leader, func(ctx context.Context) error {
		_, err := db.PruneJTIs(ctx, time.Now().Add(-time.Hour))
		return err
	})
	go func() {
		if err := pruneJTIs(bg); err != nil && bg.Err() == nil {
			log.Warn("jti pruning failed", "error", err)
		}
		every(bg, time.Hour, pruneJTIs, log, "jti pruning")
	}()
	go every(bg, 10*time.Minute, onLeader(leader, func(ctx context.Context) error {
		_, err := app.Auth.PruneSessions(ctx)
		return err
	}), log, "session pruning")
	go every(bg, 10*time.Second, app.Keys.Reload, log, "holder key reload (the loaded keys stay in use)")
	if db.Postgres() { // every replica, so the leader's write failure alert sees them all
		go every(bg, cfg.Alerts.EvaluateEvery.Duration, db.ReportWriteFailures, log, "write failure report")
	}
	// Alerts and their deliveries, the audit stream, the scheduled chain
	// verification: the first and the last two on the leader only.
	app.RunOpsWhileLeading(bg, cfg, log, leader.IsLeader)
}

// runUntilDone waits for the server to fail or ctx to end, then stops the
// background jobs and drains the requests in flight.
func runUntilDone(ctx context.Context, srvs []served, serveErr <-chan error, cancelBG context.CancelFunc, app *web.App, log *slog.Logger) error {
	var failed error
	select {
	case failed = <-serveErr:
		// One listener failed: stop the other too, so the process ends whole.
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cancelBG()
	for _, s := range srvs {
		if err := s.srv.Shutdown(shutdownCtx); err != nil && failed == nil {
			failed = fmt.Errorf("shutdown: %w", err)
		}
	}
	if failed != nil {
		return failed
	}
	if app.Stream != nil { // its cursor is saved before the database closes
		select {
		case <-app.Stream.Done():
		case <-shutdownCtx.Done():
		}
	}
	logAuditHead(shutdownCtx, app, log, "at shutdown")
	return nil
}

// logAuditHead writes the audit chain's head to the log: a copy kept outside the
// database (shipped logs) lets a later verification prove the tail was not cut
// or rewritten, which the chain alone cannot show.
func logAuditHead(ctx context.Context, app *web.App, log *slog.Logger, when string) {
	id, hash, err := app.Audit.Head(ctx)
	if err != nil {
		log.Warn("audit chain head unavailable", "error", err)
		return
	}
	log.Info("audit chain head "+when, "event", id, "hash", hash)
}

// openStore opens the database and keeps demo and real databases apart: demo
// mode never opens a database it did not create, and a normal start refuses a demo one.
func openStore(ctx context.Context, d config.Database, demoMode bool) (*store.DB, error) {
	path := d.Describe()
	db, err := store.Open(ctx, d.DSN(), store.Options{MaxOpenConns: d.MaxOpenConns})
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

// every runs fn every interval until ctx is done, logging its failures.
func every(ctx context.Context, interval time.Duration, fn func(context.Context) error, log *slog.Logger, what string) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				log.Warn(what+" failed", "error", err)
			}
		}
	}
}
