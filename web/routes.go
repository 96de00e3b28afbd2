package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/console"
	"github.com/dcrconsole/dcrconsole/static"
	"github.com/dcrconsole/dcrconsole/store"
)

// routes is every route of the server, in one place: the shell's own, the
// ADR-facing API's (dcrapi) on main and the operator console's (console) on
// consoleEngine, which is main itself unless console.listen gives the console a listener
// of its own (then main answers 404 under /console and /static).
func (s *Server) routes(main, consoleEngine *gin.Engine) {
	e := main
	for _, x := range []*gin.Engine{main, consoleEngine} {
		x.GET("/healthz", s.healthz)
		x.GET("/readyz", s.readyz)
		if consoleEngine == main {
			break
		}
	}

	// CDR DCR API
	api := s.api
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		e.GET(path, api.Discovery)
		e.HEAD(path, api.Discovery)
	}
	e.GET("/jwks", api.JWKS)
	e.POST("/token", api.PostToken)
	e.POST("/register", api.PostRegister)
	e.GET("/register/:clientID", api.GetRegistration)
	e.PUT("/register/:clientID", api.PutRegistration)
	e.DELETE("/register/:clientID", api.DeleteRegistration)

	// Authlete-compatible registration processing API
	if s.cfg.API.Enabled {
		proc := e.Group("/api/:serviceID/client/registration", api.RequireAPIKey)
		proc.POST("", api.APIRegister)
		proc.POST("/get", api.APIGet)
		proc.POST("/update", api.APIUpdate)
		proc.POST("/delete", api.APIDelete)
	}

	e.NoRoute(s.notFound)
	e.NoMethod(api.MethodNotAllowed)

	if !s.cfg.Console.Enabled {
		return
	}
	if consoleEngine != main {
		consoleEngine.NoRoute(s.consoleListenerNotFound)
		consoleEngine.NoMethod(api.MethodNotAllowed)
		e = consoleEngine
	}
	files := http.FileServerFS(static.FS)
	e.GET("/static/*file", console.SecurityHeaders, func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=3600")
		c.Request.URL.Path = c.Param("file")
		files.ServeHTTP(c.Writer, c.Request)
	})
	e.GET("/console", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/console/") })

	// Operator console: every route sends security headers and refuses
	// cross-site state changes; all but login need a session.
	cs := s.console
	con := e.Group("/console", console.SecurityHeaders, cs.CrossOriginProtection())
	con.GET("/login", cs.LoginPage)
	con.POST("/login", cs.Login)
	con.GET("/sso/start", cs.SSOStart)
	con.GET("/sso/callback", cs.SSOCallback)

	in := con.Group("", cs.RequireSession)
	in.POST("/logout", cs.Logout)
	in.GET("/account/password", cs.PasswordPage)
	in.POST("/account/password", cs.ChangePassword)
	s.signInRoutes(con, in)

	view := in.Group("", cs.RequireRole(store.RoleViewer))
	view.GET("/", cs.DashboardPage)
	view.GET("/clients", cs.ClientsPage)
	view.GET("/clients.csv", cs.ClientsCSV)
	view.GET("/clients/:id", cs.ClientPage)
	view.GET("/attempts", cs.AttemptsPage)
	view.GET("/attempts.csv", cs.AttemptsCSV)
	view.GET("/attempts/:id", cs.AttemptPage)
	view.POST("/attempts/:id/replay", cs.ReplayAttempt)
	view.GET("/audit", cs.AuditPage)
	view.GET("/audit.csv", cs.AuditCSV)
	view.GET("/audit.json", cs.AuditJSON)
	view.GET("/audit/verify", cs.AuditVerifyPage)
	view.GET("/audit/:id", cs.AuditEventPage)
	view.GET("/register", cs.RegisterPage)
	view.GET("/register/products/:id", cs.RegisterProductPage)
	view.GET("/tools/inspect", cs.InspectPage)
	view.POST("/tools/inspect", cs.Inspect)
	view.GET("/account", cs.AccountPage)
	view.GET("/search", cs.Search)
	view.GET("/adr", cs.ADRPage)
	view.GET("/alerts", cs.AlertsPage)

	act := in.Group("", cs.RequireRole(store.RoleOperator))
	act.POST("/clients/:id/revoke", cs.RevokeClient)
	act.POST("/clients/:id/restore", cs.RestoreClient)
	act.POST("/clients/:id/refresh-keys", cs.RefreshClientKeys)
	act.POST("/clients/:id/notes", cs.AddClientNote)
	act.POST("/software/block", cs.BlockSoftware)
	act.POST("/software/unblock", cs.UnblockSoftware)
	act.POST("/register/sync", cs.SyncRegister)
	act.POST("/audit/verify", cs.AuditVerify)
	act.GET("/bulk", cs.BulkPage)
	act.POST("/bulk", cs.Bulk)
	act.POST("/alerts/:id/ack", cs.AckAlert)

	admin := in.Group("", cs.RequireRole(store.RoleAdmin))
	admin.GET("/users", cs.UsersPage)
	admin.POST("/users", cs.CreateUser)
	admin.POST("/users/:id", cs.UpdateUser)
	admin.POST("/users/:id/password", cs.ResetUserPassword)
	admin.GET("/apikeys", cs.APIKeysPage)
	admin.POST("/apikeys", cs.CreateAPIKey)
	admin.POST("/apikeys/revoke", cs.RevokeAPIKey)
	admin.POST("/users/:id/mfa/reset", cs.ResetUserMFA)
	admin.GET("/sessions", cs.SessionsPage)
	admin.POST("/sessions/end", cs.EndSession)
	admin.POST("/sessions/unlock", cs.Unlock)
}

// notFound: an unknown URL under /console/ gets the console's HTML 404 (when
// the console is on this listener); any other the API's JSON 404.
func (s *Server) notFound(c *gin.Context) {
	if s.cfg.Console.Enabled && s.cfg.Console.Listen == "" && strings.HasPrefix(c.Request.URL.Path, "/console/") {
		s.console.NotFound(c)
		return
	}
	s.api.NotFound(c)
}

// consoleListenerNotFound answers an unknown URL on the console's own
// listener: its root leads to the console, an unknown console page gets the
// console's 404, anything else (the ADR-facing API lives elsewhere) a JSON 404.
func (s *Server) consoleListenerNotFound(c *gin.Context) {
	switch {
	case c.Request.URL.Path == "/" && c.Request.Method == http.MethodGet:
		c.Redirect(http.StatusSeeOther, "/console/")
	case strings.HasPrefix(c.Request.URL.Path, "/console/"):
		s.console.NotFound(c)
	default:
		s.api.NotFound(c)
	}
}

// signInRoutes are the second factor, passkey and enrolment routes of the
// console's sign-in (issue 13). A half-authenticated session reaches only those
// of its stage (console.pendingMayPass).
func (s *Server) signInRoutes(con, in *gin.RouterGroup) {
	cs := s.console
	con.POST("/login/passkey/begin", cs.BeginPasskeySignIn)
	con.POST("/login/passkey/finish", cs.FinishPasskeySignIn)
	in.GET("/login/mfa", cs.SecondFactorPage)
	in.POST("/login/mfa", cs.SecondFactor)
	in.POST("/login/mfa/passkey/begin", cs.BeginPasskeySecondFactor)
	in.POST("/login/mfa/passkey/finish", cs.FinishPasskeySecondFactor)
	local := in.Group("", cs.LocalAccountOnly) // an SSO account's IdP does its second factor
	local.GET("/account/mfa", cs.MFAPage)
	local.GET("/account/mfa/totp", cs.TOTPSetupPage)
	local.POST("/account/mfa/totp", cs.ConfirmTOTP)
	local.POST("/account/mfa/totp/remove", cs.RemoveTOTP)
	local.POST("/account/mfa/recovery", cs.NewRecoveryCodes)
	local.POST("/account/passkeys/begin", cs.BeginPasskeyRegistration)
	local.POST("/account/passkeys/finish", cs.FinishPasskeyRegistration)
	local.POST("/account/passkeys/remove", cs.RemovePasskey)
	in.POST("/account/sessions/end", cs.EndOwnSession)
}
