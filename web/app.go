package web

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/alerts"
	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/authlete"
	"github.com/dcrconsole/dcrconsole/authz"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/fetch"
	"github.com/dcrconsole/dcrconsole/metrics"
	"github.com/dcrconsole/dcrconsole/register"
	"github.com/dcrconsole/dcrconsole/store"
)

// App is the assembled server: the engine and the long-lived services behind it.
// main and the tests build it the same way, so tests exercise the real wiring.
type App struct {
	Engine *gin.Engine
	// ConsoleEngine serves the console on console.listen; nil when the console
	// is on the main listener (Engine).
	ConsoleEngine *gin.Engine
	Metrics       *metrics.Metrics // the registry behind metrics.listen; nil when it is off
	Fetcher       *fetch.Fetcher
	JWKS          *fetch.JWKSCache
	RegisterData  *register.Data
	Pipeline      *dcr.Pipeline
	Registrar     *dcr.Registrar
	Keys          *authz.KeyRing
	Tokens        *authz.TokenService
	Access        *authz.AccessVerifier
	Auth          *auth.Service
	Audit         *audit.Log
	// Verify is the chain verification job (the console's and the schedule's).
	Verify *audit.VerifyJob
	// Alerts, Notifier and Stream run beside the requests (web/ops.go, RunOps).
	Alerts   *alerts.Evaluator
	Notifier *alerts.Notifier
	Stream   *audit.Stream // nil unless audit.stream is set

	server *Server
}

// BuildOptions are wiring choices that are not configuration.
type BuildOptions struct {
	// RootCAs replaces the system roots for outbound HTTPS (demo mode and tests,
	// whose simulated Register and ADRs use a private CA).
	RootCAs *x509.CertPool
	// ForcedRefreshMinInterval overrides the least gap between Register refreshes
	// forced by unknown products (negative: no gap; tests).
	ForcedRefreshMinInterval time.Duration
	// PasswordHash overrides the argon2id cost of password hashes (zero: the
	// default; tests use auth.CheapHashParams).
	PasswordHash auth.HashParams
	// Demo marks the console as demo mode.
	Demo bool
	// Notify tunes the alert deliveries' retries (zero: the defaults; tests).
	Notify alerts.NotifierOptions
	// StreamPoll is how often the audit stream looks for new events (zero: 1 s; tests).
	StreamPoll time.Duration
}

// Build assembles the services and the engine from cfg.
func Build(ctx context.Context, cfg config.Config, db *store.DB, log *slog.Logger, opts BuildOptions) (*App, error) {
	fetcher, err := newFetcher(cfg, opts)
	if err != nil {
		return nil, err
	}
	a := &App{Fetcher: fetcher, Audit: audit.New(db)}
	a.Verify = audit.NewVerifyJob(a.Audit, verifyTimeout)
	a.buildRegistration(cfg, db, log, opts)
	if err := a.buildHolder(ctx, cfg, db, log); err != nil {
		return nil, err
	}
	if err := a.buildOps(cfg, db, log, opts); err != nil {
		return nil, err
	}
	mfaKey, err := loadMFAKey(cfg)
	if err != nil {
		return nil, err
	}
	a.Auth = auth.New(db, a.Audit, auth.Options{
		IdleTimeout:     cfg.Console.SessionIdleTimeout.Duration,
		AbsoluteTimeout: cfg.Console.SessionAbsoluteTimeout.Duration,
		Hash:            opts.PasswordHash,
		RequireMFA:      cfg.Console.RequireMFA,
		MFAKey:          mfaKey,
		MFAIssuer:       "dcrconsole " + hostOf(cfg.ConsolePublicURL()),
		PasskeyOrigin:   cfg.ConsolePublicURL(),

		LocalLoginAdminsOnly: cfg.Console.OIDC.Enabled() && !cfg.Console.OIDC.AllowLocalLogin,
	})
	ssoClient, err := newSSO(cfg, db, opts)
	if err != nil {
		return nil, err
	}
	a.Engine, a.server, err = newEngine(Deps{Config: cfg, DB: db, Registrar: a.Registrar, Tokens: a.Tokens, Access: a.Access, Keys: a.Keys,
		Auth: a.Auth, Register: a.RegisterData, JWKS: a.JWKS, Audit: a.Audit, Verify: a.Verify, Alerts: a.Alerts, Notifier: a.Notifier, Stream: a.Stream, Metrics: a.Metrics, Demo: opts.Demo, Log: log, SSO: ssoClient,
		API: authlete.NewService(a.Registrar, db, cfg.Server.PublicURL, cfg.API.RotateRegistrationAccessToken)})
	if err != nil {
		return nil, err
	}
	a.ConsoleEngine = a.server.consoleEngine
	a.watch(cfg, db)
	return a, nil
}

// newFetcher is the guarded fetcher of every outbound request.
func newFetcher(cfg config.Config, opts BuildOptions) (*fetch.Fetcher, error) {
	caPEM, err := fetch.LoadCAFile(cfg.Outbound.CAFile)
	if err != nil {
		return nil, err
	}
	return fetch.NewFetcher(fetch.Options{
		Timeout:              cfg.Outbound.Timeout.Duration,
		MaxBytes:             cfg.Outbound.MaxResponseBytes,
		LimitName:            "outbound.max_response_bytes",
		RootCAs:              opts.RootCAs,
		ExtraCAPEM:           caPEM,
		AllowPrivateNetworks: cfg.Outbound.AllowPrivateNetworks,
	})
}

// buildRegistration assembles what registering a client needs: the JWKS cache,
// the Register's data, the pipeline and the registrar.
func (a *App) buildRegistration(cfg config.Config, db *store.DB, log *slog.Logger, opts BuildOptions) {
	if cfg.Metrics.Listen != "" { // first: the fetchers and the writer report to it
		a.Metrics = metrics.New()
		db.ObserveCommits(a.Metrics.CommitObserver())
	}
	// The Register is trusted and its answers grow with the ecosystem; URLs an
	// ADR controls keep the small outbound limit.
	registerFetcher := a.Fetcher.WithLimit(cfg.Register.MaxResponseBytes, "register.max_response_bytes")
	observe := a.Metrics.FetchObserver() // nil without metrics: the fetchers stay as they are
	a.JWKS = fetch.NewJWKSCache(a.Fetcher.Observed("adr_jwks", observe), cfg.Outbound.JWKSCacheTTL.Duration, log)
	a.JWKS.MaxRSABits = cfg.Outbound.MaxRSAKeyBits
	a.JWKS.UseFetcher(cfg.Register.JWKSURI, registerFetcher.Observed("register_jwks", observe))
	a.RegisterData = register.New(db, registerFetcher.Observed("register", observe), register.Options{
		BaseURI:  cfg.Register.BaseURI,
		Industry: cfg.Register.Industry,
		Interval: cfg.Register.RefreshInterval.Duration,

		ForcedRefreshMinInterval: opts.ForcedRefreshMinInterval,
	}, log)
	a.Pipeline = dcr.NewPipeline(dcr.PipelineConfig{
		Issuer:                 cfg.Holder.Issuer,
		ScopesSupported:        cfg.Holder.ScopesSupported,
		ResponseTypesSupported: cfg.Holder.ResponseTypesSupported,
		JARMEncryption:         cfg.Holder.JARMEncryption,
		ClockSkew:              cfg.Holder.ClockSkew.Duration,
		CheckStatus:            cfg.Register.CheckStatus,
		RegisterJWKSURI:        cfg.Register.JWKSURI,
	}, a.JWKS, a.JWKS, a.RegisterData, db, db, a.Fetcher.Observed("sector_identifier", observe))
	a.Registrar = dcr.NewRegistrar(a.Pipeline, db, a.Audit, cfg.Holder.AllowDuplicateRegistrations, log)
	a.RegisterData.OnSynced(func(ctx context.Context) { a.Registrar.ReconcileRegister(ctx, a.RegisterData.Products()) })
}

// buildHolder assembles the holder's own authorization server: its signing
// keys, the token endpoint and the verifier of the access tokens it issues.
func (a *App) buildHolder(ctx context.Context, cfg config.Config, db *store.DB, log *slog.Logger) error {
	var err error
	if a.Keys, err = authz.NewKeyRing(ctx, db, cfg.Holder.SigningAlg, a.Audit, log); err != nil {
		return err
	}
	a.Tokens = authz.NewTokenService(authz.TokenConfig{
		Issuer:        cfg.Holder.Issuer,
		TokenEndpoint: cfg.Server.PublicURL + "/token",
		TTL:           cfg.Holder.AccessTokenTTL.Duration,
		ClockSkew:     cfg.Holder.ClockSkew.Duration,
		CheckStatus:   cfg.Register.CheckStatus,
		MTLS:          cfg.MTLSEnabled(),
	}, db, a.Keys, a.JWKS, a.RegisterData, a.Audit, log)
	a.Access = authz.NewAccessVerifier(cfg.Holder.Issuer, cfg.Holder.ClockSkew.Duration, cfg.MTLSEnabled(), a.Keys, db)
	return nil
}

// hostOf is the host of a URL, to name the console in authenticator apps.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// loadMFAKey is the key that seals second-factor secrets: DCRCONSOLE_MFA_KEY,
// else console.mfa_key_file (created when missing), else beside the SQLite
// database. PostgreSQL replicas must share one key, so there it is never made up.
func loadMFAKey(cfg config.Config) ([]byte, error) {
	if v := os.Getenv(config.MFAKeyEnv); v != "" {
		key, err := auth.ParseMFAKey(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", config.MFAKeyEnv, err)
		}
		return key, nil
	}
	path := cfg.MFAKeyPath()
	if path == "" {
		return nil, fmt.Errorf("console.mfa_key_file: on PostgreSQL every replica must use the same MFA key: set console.mfa_key_file to a file they all read, or %s (64 hex digits, e.g. from `openssl rand -hex 32`)", config.MFAKeyEnv)
	}
	key, err := auth.LoadOrCreateMFAKey(path)
	if err != nil {
		return nil, fmt.Errorf("console.mfa_key_file: %w", err)
	}
	return key, nil
}

// watch makes every scrape of the metrics read the services' state, once they
// all exist; nothing without metrics.
func (a *App) watch(cfg config.Config, db *store.DB) {
	if a.Metrics == nil {
		return
	}
	src := metrics.Sources{Registrar: a.Registrar, Tokens: a.Tokens, Audit: a.Audit, Keys: a.Keys, Store: db}
	if cfg.Register.CheckStatus {
		src.Register = a.RegisterData
	}
	a.Metrics.Watch(src)
}
