package web

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/dcrconsole/dcrconsole/alerts"
	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
)

// buildOps assembles what runs beside the requests: the alert evaluator and its
// delivery queues, the audit stream, and the scheduled verification's job.
func (a *App) buildOps(cfg config.Config, db *store.DB, log *slog.Logger, opts BuildOptions) error {
	roots, err := opsRootCAs(cfg.Outbound.CAFile, opts.RootCAs)
	if err != nil {
		return err
	}
	var channels []alerts.Channel
	if cfg.Alerts.WebhookURL != "" {
		channels = append(channels, alerts.NewWebhook(cfg.Alerts.WebhookURL, cfg.Alerts.WebhookFormat, roots))
	}
	if cfg.Alerts.SMTPAddr != "" {
		channels = append(channels, &alerts.Mail{Addr: cfg.Alerts.SMTPAddr, From: cfg.Alerts.SMTPFrom, To: cfg.Alerts.SMTPTo,
			Username: cfg.Alerts.SMTPUsername, Password: os.Getenv(config.SMTPPasswordEnv), RootCAs: roots})
	}
	a.Notifier = alerts.NewNotifier(db, opts.Notify, log, channels...)
	sig := alerts.Signals{JWKS: a.JWKS, Keys: a.Keys}
	if cfg.Register.CheckStatus {
		sig.Register = a.RegisterData
	}
	a.Alerts = alerts.New(db, a.Audit, sig, alerts.Options{
		RegisterStaleAfter:   cfg.Alerts.RegisterSyncStaleAfter.Duration,
		RejectionThreshold:   cfg.Alerts.RejectionRateThreshold,
		RejectionWindow:      cfg.Alerts.RejectionWindow.Duration,
		RejectionMinAttempts: cfg.Alerts.RejectionMinAttempts,
		SigningKeyMaxAge:     cfg.Alerts.SigningKeyMaxAge.Duration,
		EvaluateEvery:        cfg.Alerts.EvaluateEvery.Duration,
		RepeatEvery:          cfg.Alerts.RepeatEvery.Duration,
		Server:               cfg.Server.PublicURL,
	}, a.Notifier, log)
	if cfg.Audit.Stream == "" {
		return nil
	}
	streamRoots := roots
	if cfg.Audit.StreamCAFile != "" {
		if streamRoots, err = caPool("audit.stream_ca_file", cfg.Audit.StreamCAFile, nil); err != nil {
			return err
		}
	}
	a.Stream, err = audit.NewStream(a.Audit, audit.StreamOptions{Target: cfg.Audit.Stream,
		Syslog:          audit.SyslogOptions{RootCAs: streamRoots, ServerName: cfg.Audit.StreamServerName},
		CheckpointEvery: cfg.Audit.StreamCheckpointEvery.Duration, Poll: opts.StreamPoll}, log)
	return err
}

// RunOps runs the alert evaluator, its deliveries, the audit stream and the
// scheduled chain verification until ctx ends (main's background jobs; tests),
// on a server that is the only one on its database.
func (a *App) RunOps(ctx context.Context, cfg config.Config, log *slog.Logger) {
	a.RunOpsWhileLeading(ctx, cfg, log, nil)
}

// RunOpsWhileLeading is RunOps for one of several replicas on one database:
// the alert evaluator, the audit stream and the scheduled verification run
// while leading() says this replica leads (they are the chain's and the
// alerts' singletons: twice would fire every alert and stream every event
// twice), and stop when it no longer does; deliveries run everywhere, since
// they send what this replica queued. A nil leading means always.
func (a *App) RunOpsWhileLeading(ctx context.Context, cfg config.Config, log *slog.Logger, leading func() bool) {
	go a.Notifier.Run(ctx)
	if a.Stream != nil {
		go a.Stream.RunWhile(ctx, leading) // runs once: it pauses instead of stopping
	}
	go whileLeading(ctx, leading, leaderCheckEvery, func(ctx context.Context) {
		var wg sync.WaitGroup
		wg.Go(func() { a.Alerts.Run(ctx) })
		wg.Go(func() { a.Verify.RunSchedule(ctx, cfg.Audit.VerifyEvery.Duration, log) })
		wg.Wait()
	})
}

// leaderCheckEvery is how often whileLeading looks at the leadership.
const leaderCheckEvery = time.Second

// whileLeading runs run(jobCtx) whenever leading() turns true, and cancels
// jobCtx when it turns false, checking every interval, until ctx ends. run
// returns when jobCtx ends. With leading nil, run simply runs with ctx.
func whileLeading(ctx context.Context, leading func() bool, every time.Duration, run func(context.Context)) {
	if leading == nil {
		run(ctx)
		return
	}
	var stop context.CancelFunc
	var done chan struct{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		switch on := leading(); {
		case on && stop == nil:
			var jobCtx context.Context
			jobCtx, stop = context.WithCancel(ctx)
			done = make(chan struct{})
			go func() { defer close(done); run(jobCtx) }()
		case !on && stop != nil:
			stop()
			<-done
			stop = nil
		}
		select {
		case <-ctx.Done():
			if stop != nil {
				stop()
				<-done
			}
			return
		case <-t.C:
		}
	}
}

// opsRootCAs are the roots the webhook and the SMTP server are verified
// against: the test or demo CA when given, else the system roots plus
// outbound.ca_file.
func opsRootCAs(caFile string, override *x509.CertPool) (*x509.CertPool, error) {
	if override != nil {
		return override, nil
	}
	if caFile == "" {
		return nil, nil // crypto/tls uses the system roots
	}
	sys, err := x509.SystemCertPool()
	if err != nil {
		sys = x509.NewCertPool()
	}
	return caPool("outbound.ca_file", caFile, sys)
}

// caPool adds the PEM certificates of path to base (a new pool when nil).
func caPool(key, path string, base *x509.CertPool) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if base == nil {
		base = x509.NewCertPool()
	}
	if !base.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in %s", key, path)
	}
	return base, nil
}
