// Package dcrapi is the ADR-facing HTTP API: CDR Dynamic Client Registration
// (register, manage), the token endpoint, discovery and JWKS, mutual TLS, and
// the Authlete-compatible registration processing API. Typed errors from dcr
// are mapped to JSON here, in one place (errors.go). Routes are mounted by the
// web shell (web/routes.go), which calls the exported handlers.
package dcrapi

import (
	"log/slog"

	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/authlete"
	"github.com/dcrconsole/dcrconsole/authz"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/web/reqid"
)

// requestIDKey is where the shell's middleware put the request id.
const requestIDKey = reqid.Key

// Deps are the services the API's handlers call.
type Deps struct {
	Config    config.Config
	Registrar *dcr.Registrar
	Tokens    *authz.TokenService
	Access    *authz.AccessVerifier
	Keys      *authz.KeyRing
	Auth      *auth.Service // processing-API keys only
	API       *authlete.Service
	Log       *slog.Logger
}

// Server holds the API handlers' dependencies and nothing of the console's.
type Server struct {
	cfg       config.Config
	registrar *dcr.Registrar
	tokens    *authz.TokenService
	access    *authz.AccessVerifier
	keys      *authz.KeyRing
	auth      *auth.Service
	api       *authlete.Service
	log       *slog.Logger
}

// New returns the API's handlers over d.
func New(d Deps) *Server {
	return &Server{cfg: d.Config, registrar: d.Registrar, tokens: d.Tokens, access: d.Access, keys: d.Keys,
		auth: d.Auth, api: d.API, log: d.Log}
}
