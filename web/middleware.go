package web

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/dcrapi"
	"github.com/dcrconsole/dcrconsole/web/reqid"
)

const (
	requestIDHeader = reqid.Header
	requestIDKey    = reqid.Key
)

// requestID gives every request an id: the caller's X-Request-Id when it is a
// short token (so a gateway's id carries through), otherwise a random one.
func (s *Server) requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(requestIDHeader)
		if !validRequestID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(requestIDKey, id)
		c.Header(requestIDHeader, id)
		c.Next()
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			return false
		}
	}
	return true
}

// accessLog writes one line per request.
func (s *Server) accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(c.Request.Context(), level, "request",
			slog.String("request_id", c.GetString(requestIDKey)),
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", status),
			slog.Int("bytes", c.Writer.Size()),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", c.ClientIP()),
		)
	}
}

// recoverPanics turns a panic into a logged 500 with a JSON body; the stack goes
// to the log, never to the client.
func (s *Server) recoverPanics() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "request_id", c.GetString(requestIDKey), "panic", v, "stack", string(debug.Stack()))
				if !c.Writer.Written() {
					c.Header("Cache-Control", "no-store")
					c.AbortWithStatusJSON(http.StatusInternalServerError, dcrapi.OAuthError{Error: "server_error", Description: "internal error (request id " + c.GetString(requestIDKey) + ")"})
				} else {
					c.Abort()
				}
			}
		}()
		c.Next()
	}
}

// limitBody bounds every request body to server.max_body_bytes.
func (s *Server) limitBody() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.Server.MaxBodyBytes)
		}
		c.Next()
	}
}
