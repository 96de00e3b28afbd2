package web

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/metrics"
)

// observeRequests records every request by its route template (gin's FullPath,
// never the raw path: a client id in /register/{id} must not become a label),
// method and status.
func observeRequests(m *metrics.Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		m.ObserveHTTP(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start))
	}
}
