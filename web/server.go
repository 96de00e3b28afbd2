// Package web is dcrconsole's Gin engine: routes, middleware and thin handlers
// for the DCR API and health endpoints. Typed errors from dcr are mapped to HTTP
// here, in one place.
package web

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/authlete"
	"github.com/dcrconsole/dcrconsole/authz"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/fetch"
	"github.com/dcrconsole/dcrconsole/register"
	"github.com/dcrconsole/dcrconsole/store"
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
	API       *authlete.Service
	Demo      bool
	Log       *slog.Logger
}

// Server holds the handlers' dependencies.
type Server struct {
	cfg       config.Config
	db        *store.DB
	registrar *dcr.Registrar
	tokens    *authz.TokenService
	access    *authz.AccessVerifier
	keys      *authz.KeyRing
	auth      *auth.Service
	register  *register.Data
	jwksCache *fetch.JWKSCache
	audit     *audit.Log
	api       *authlete.Service
	verify    *audit.VerifyJob
	exports   chan struct{} // slots for concurrent streaming exports
	demo      bool
	flashKey  []byte
	log       *slog.Logger
}

// newEngine builds the Gin engine (and returns the Server behind it) with every route and middleware.
func newEngine(d Deps) (*gin.Engine, *Server, error) {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{cfg: d.Config, db: d.DB, registrar: d.Registrar, tokens: d.Tokens, access: d.Access, keys: d.Keys,
		auth: d.Auth, register: d.Register, jwksCache: d.JWKS, audit: d.Audit, api: d.API, demo: d.Demo, verify: audit.NewVerifyJob(d.Audit, verifyTimeout),
		exports: make(chan struct{}, maxConcurrentExports), flashKey: newFlashKey(), log: d.Log}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	// Without trusted proxies gin would believe any X-Forwarded-For; the audit
	// log's remote address must not be forgeable.
	if err := e.SetTrustedProxies(d.Config.Server.TrustedProxies); err != nil {
		return nil, nil, err
	}
	e.ForwardedByClientIP = len(d.Config.Server.TrustedProxies) > 0
	e.Use(s.requestID(), s.accessLog(), s.recoverPanics(), s.limitBody())
	s.routes(e)
	return e, s, nil
}
