package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// retryAfterSeconds is what a 503 for a lost database asks clients to wait.
const retryAfterSeconds = "5"

// databaseGate answers 503 Service Unavailable, not 500, while the database
// cannot be reached (a replica lost PostgreSQL): at once, before the handler,
// when it is known to be down; and in place of the handler's 500 when the
// database went away during the request. A load balancer then routes around
// the replica, and clients retry. The replica recovers by itself: the store
// probes the database again (store.DB.Available).
func (s *Server) databaseGate() gin.HandlerFunc {
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		if p == "/healthz" || p == "/readyz" || strings.HasPrefix(p, "/static/") {
			c.Next()
			return
		}
		if !s.db.Available(c.Request.Context()) {
			c.Header("Retry-After", retryAfterSeconds)
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "temporarily_unavailable",
				"error_description": "The service is temporarily unavailable. Retry later."})
			return
		}
		c.Writer = &unavailableWriter{ResponseWriter: c.Writer, s: s, c: c}
		c.Next()
	}
}

// unavailableWriter turns a 500 into a 503 when the database is down by then.
type unavailableWriter struct {
	gin.ResponseWriter
	s *Server
	c *gin.Context
}

func (w *unavailableWriter) WriteHeader(code int) {
	if code == http.StatusInternalServerError && !w.s.db.Available(w.c.Request.Context()) {
		w.Header().Set("Retry-After", retryAfterSeconds)
		code = http.StatusServiceUnavailable
	}
	w.ResponseWriter.WriteHeader(code)
}
