// Package web is dcrconsole's HTTP shell: it assembles the services (app.go),
// builds the Gin engine with the shared middleware (request id, access log,
// panic recovery, body limit) and mounts every route in one file (routes.go)
// onto the two applications behind it: dcrapi, the ADR-facing API, and
// console, the operator console. It also answers health checks.
package web

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/alerts"
	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/authlete"
	"github.com/dcrconsole/dcrconsole/authz"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/console"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/dcrapi"
	"github.com/dcrconsole/dcrconsole/fetch"
	"github.com/dcrconsole/dcrconsole/metrics"
	"github.com/dcrconsole/dcrconsole/register"
	"github.com/dcrconsole/dcrconsole/sso"
	"github.com/dcrconsole/dcrconsole/store"
)

const (
	// maxConcurrentExports bounds the console's streaming exports: each walks
	// a whole table through the reader pool that the DCR endpoints share.
	maxConcurrentExports = 2
	// verifyTimeout bounds one background verification of the audit chain.
	verifyTimeout = 30 * time.Minute
)

// Deps are the services the handlers call.
type Deps struct {
	Config    config.Config
	DB        *store.DB
	Registrar *dcr.Registrar
	Tokens    *authz.TokenService
	Access    *authz.AccessVerifier
	Keys      *authz.KeyRing
	Auth      *auth.Service
	Register  *register.Data
	JWKS      *fetch.JWKSCache
	Audit     *audit.Log
	Verify    *audit.VerifyJob  // the chain verification job shared with the schedule
	Alerts    *alerts.Evaluator // the Alerts page's source
	Notifier  *alerts.Notifier  // where alerts are delivered
	Stream    *audit.Stream     // the audit stream, nil when off
	API       *authlete.Service
	Demo      bool
	Log       *slog.Logger
	SSO       *sso.Client      // nil without console.oidc.issuer
	Metrics   *metrics.Metrics // nil: no metrics
}

// Server is the shell: what the shared middleware and the health checks use,
// and the two applications it mounts.
type Server struct {
	cfg     config.Config
	db      *store.DB // readiness only
	api     *dcrapi.Server
	console *console.Server
	verify  *audit.VerifyJob // the console's background chain verification
	exports chan struct{}    // the console's export slots
	// consoleEngine serves the console on console.listen (nil: on the main engine).
	consoleEngine *gin.Engine
	metrics       *metrics.Metrics // nil: no metrics
	log           *slog.Logger
}

// streamOf keeps a nil stream a nil interface for the console.
func streamOf(st *audit.Stream) console.AuditStream {
	if st == nil {
		return nil
	}
	return st
}

// newEngine builds the Gin engine (and returns the Server behind it) with every
// route and middleware. With console.listen set, the console gets an engine of
// its own (Server.consoleEngine, else nil) and the main engine serves no console route.
func newEngine(d Deps) (*gin.Engine, *Server, error) {
	gin.SetMode(gin.ReleaseMode)
	if d.Verify == nil {
		d.Verify = audit.NewVerifyJob(d.Audit, verifyTimeout)
	}
	s := &Server{cfg: d.Config, db: d.DB, log: d.Log, metrics: d.Metrics,
		verify: d.Verify, exports: make(chan struct{}, maxConcurrentExports)}
	s.api = dcrapi.New(dcrapi.Deps{Config: d.Config, Registrar: d.Registrar, Tokens: d.Tokens, Access: d.Access,
		Keys: d.Keys, Auth: d.Auth, API: d.API, Log: d.Log})
	s.console = console.New(console.Deps{Config: d.Config, Store: d.DB, Registrar: d.Registrar, Auth: d.Auth,
		Register: d.Register, JWKS: d.JWKS, Audit: d.Audit, Verify: s.verify, Alerts: d.Alerts, AlertChannels: d.Notifier.Channels(),
		Stream: streamOf(d.Stream), ExportSlots: s.exports, Demo: d.Demo, Log: d.Log, SSO: d.SSO})
	main, err := s.newGin()
	if err != nil {
		return nil, nil, err
	}
	con := main
	if d.Config.Console.Enabled && d.Config.Console.Listen != "" {
		if con, err = s.newGin(); err != nil {
			return nil, nil, err
		}
		s.consoleEngine = con
	}
	s.routes(main, con)
	return main, s, nil
}

// newGin is an engine with the shared middleware and no route.
func (s *Server) newGin() (*gin.Engine, error) {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	// Without trusted proxies gin would believe any X-Forwarded-For; the audit
	// log's remote address must not be forgeable.
	if err := e.SetTrustedProxies(s.cfg.Server.TrustedProxies); err != nil {
		return nil, err
	}
	e.ForwardedByClientIP = len(s.cfg.Server.TrustedProxies) > 0
	if s.metrics != nil {
		e.Use(observeRequests(s.metrics)) // outermost: it sees the final status, a recovered panic's too
	}
	e.Use(s.requestID(), s.accessLog(), s.recoverPanics(), s.limitBody(), s.refuseUnstorable(), s.databaseGate())
	return e, nil
}
