package dcrapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/dcr"
)

// OAuthError is the JSON error body of the OAuth and DCR endpoints.
type OAuthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeDCRError answers a typed pipeline error: code and description verbatim,
// never the internal detail. Internal errors are logged once with the request id.
func (s *Server) writeDCRError(c *gin.Context, e *dcr.Error) {
	if e.HTTPStatus() >= 500 {
		s.log.Error("registration failed", "request_id", c.GetString(requestIDKey), "step", e.Step, "detail", e.Detail)
	}
	c.Header("Cache-Control", "no-store")
	if e.HTTPStatus() == http.StatusUnauthorized {
		// A management call whose client stopped being active between its
		// authorization and its write: the same answer as step 5.
		c.Header("WWW-Authenticate", `Bearer error="invalid_request", error_description="The client is unknown"`)
	}
	c.JSON(e.HTTPStatus(), OAuthError{Error: e.Code, Description: e.Description})
}

// NotFound answers an unknown URL outside the console with the API's JSON 404.
func (s *Server) NotFound(c *gin.Context) {
	c.JSON(http.StatusNotFound, OAuthError{Error: "not_found", Description: "no such endpoint: " + c.Request.Method + " " + c.Request.URL.Path})
}

// MethodNotAllowed answers a known URL called with another method: JSON 405.
func (s *Server) MethodNotAllowed(c *gin.Context) {
	c.JSON(http.StatusMethodNotAllowed, OAuthError{Error: "method_not_allowed", Description: c.Request.Method + " is not allowed on " + c.Request.URL.Path})
}
