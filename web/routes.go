package web

import "github.com/gin-gonic/gin"

// routes is every route of the server, in one place.
func (s *Server) routes(e *gin.Engine) {
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)

	e.POST("/register", s.postRegister)

	e.NoRoute(s.notFound)
	e.NoMethod(s.methodNotAllowed)
}
