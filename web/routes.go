package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/static"
	"github.com/dcrconsole/dcrconsole/store"
)

// routes is every route of the server, in one place.
func (s *Server) routes(e *gin.Engine) {
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)

	// CDR DCR API
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		e.GET(path, s.discovery)
		e.HEAD(path, s.discovery)
	}
	e.GET("/jwks", s.jwks)
	e.POST("/token", s.postToken)
	e.POST("/register", s.postRegister)
	e.GET("/register/:clientID", s.getRegistration)
	e.PUT("/register/:clientID", s.putRegistration)
	e.DELETE("/register/:clientID", s.deleteRegistration)

	// Authlete-compatible registration processing API
	if s.cfg.API.Enabled {
		api := e.Group("/api/:serviceID/client/registration", s.requireAPIKey)
		api.POST("", s.apiRegister)
		api.POST("/get", s.apiGet)
		api.POST("/update", s.apiUpdate)
		api.POST("/delete", s.apiDelete)
	}

	e.NoRoute(s.notFound)
	e.NoMethod(s.methodNotAllowed)

	if !s.cfg.Console.Enabled {
		return
	}
	files := http.FileServerFS(static.FS)
	e.GET("/static/*file", consoleSecurityHeaders, func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=3600")
		c.Request.URL.Path = c.Param("file")
		files.ServeHTTP(c.Writer, c.Request)
	})
	e.GET("/console", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/console/") })

	// Operator console: every route sends security headers and refuses
	// cross-site state changes; all but login need a session.
	con := e.Group("/console", consoleSecurityHeaders, s.crossOriginProtection())
	con.GET("/login", s.loginPage)
	con.POST("/login", s.login)

	in := con.Group("", s.requireSession)
	in.POST("/logout", s.logout)
	in.GET("/account/password", s.passwordPage)
	in.POST("/account/password", s.changePassword)

	view := in.Group("", s.requireRole(store.RoleViewer))
	view.GET("/", s.dashboardPage)
	view.GET("/clients", s.clientsPage)
	view.GET("/clients.csv", s.clientsCSV)
	view.GET("/clients/:id", s.clientPage)
	view.GET("/attempts", s.attemptsPage)
	view.GET("/attempts/:id", s.attemptPage)
	view.GET("/audit", s.auditPage)
	view.GET("/audit.csv", s.auditCSV)
	view.GET("/audit.json", s.auditJSON)
	view.GET("/audit/verify", s.auditVerifyPage)
	view.GET("/audit/:id", s.auditEventPage)
	view.GET("/register", s.registerPage)
	view.GET("/tools/inspect", s.inspectPage)
	view.POST("/tools/inspect", s.inspect)
	view.GET("/account", s.accountPage)

	act := in.Group("", s.requireRole(store.RoleOperator))
	act.POST("/clients/:id/revoke", s.revokeClient)
	act.POST("/clients/:id/restore", s.restoreClient)
	act.POST("/clients/:id/refresh-keys", s.refreshClientKeys)
	act.POST("/software/block", s.blockSoftware)
	act.POST("/software/unblock", s.unblockSoftware)
	act.POST("/register/sync", s.syncRegister)
	act.POST("/audit/verify", s.auditVerify)

	admin := in.Group("", s.requireRole(store.RoleAdmin))
	admin.GET("/users", s.usersPage)
	admin.POST("/users", s.createUser)
	admin.POST("/users/:id", s.updateUser)
	admin.POST("/users/:id/password", s.resetUserPassword)
	admin.GET("/apikeys", s.apiKeysPage)
	admin.POST("/apikeys", s.createAPIKey)
	admin.POST("/apikeys/revoke", s.revokeAPIKey)
}
