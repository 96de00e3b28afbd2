package web

import "github.com/gin-gonic/gin"

// routes is every route of the server, in one place.
func (s *Server) routes(e *gin.Engine) {
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)

	e.GET("/.well-known/openid-configuration", s.openIDConfiguration)
	e.GET("/jwks", s.jwks)
	e.POST("/token", s.postToken)

	e.POST("/register", s.postRegister)
	e.GET("/register/:clientID", s.getRegistration)
	e.PUT("/register/:clientID", s.putRegistration)
	e.DELETE("/register/:clientID", s.deleteRegistration)

	e.NoRoute(s.notFound)
	e.NoMethod(s.methodNotAllowed)
}
