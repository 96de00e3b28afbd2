// Package reqid is the one thing the web shell and both of its parts (dcrapi,
// console) share: where a request's id lives. The shell's middleware sets it;
// the parts read it to log and audit with it. It imports nothing of theirs, so
// web → {dcrapi, console} → reqid has no cycle.
package reqid

import "github.com/gin-gonic/gin"

const (
	// Header carries the id in (a gateway's, when well formed) and out.
	Header = "X-Request-Id"
	// Key is the gin context key the id is stored under.
	Key = "request_id"
)

// Of is the request's id ("" before the shell's middleware ran).
func Of(c *gin.Context) string { return c.GetString(Key) }
