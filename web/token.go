package web

import (
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/dcr"
)

// postToken: POST /token — client_credentials with private_key_jwt, for cdr:registration.
func (s *Server) postToken(c *gin.Context) {
	req := dcr.TokenRequest{
		CertThumbprint: s.clientCertThumbprint(c),
		RemoteAddr:     c.ClientIP(),
		RequestID:      c.GetString(requestIDKey),
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	if derr := s.requireClientCertificate(req.CertThumbprint); derr != nil {
		s.writeDCRError(c, derr)
		return
	}
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		c.JSON(http.StatusBadRequest, oauthError{Error: dcr.CodeInvalidRequest, Description: "Content-Type must be application/x-www-form-urlencoded"})
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		c.JSON(http.StatusBadRequest, oauthError{Error: dcr.CodeInvalidRequest, Description: "The request body is not a valid form"})
		return
	}
	form := c.Request.PostForm
	for k, vs := range form {
		if len(vs) > 1 { // RFC 6749 §3.2: parameters must not repeat
			c.JSON(http.StatusBadRequest, oauthError{Error: dcr.CodeInvalidRequest, Description: "Parameter " + k + " is repeated"})
			return
		}
	}
	req.GrantType = form.Get("grant_type")
	req.ClientAssertionType = form.Get("client_assertion_type")
	req.ClientAssertion = form.Get("client_assertion")
	req.ClientID = form.Get("client_id")
	req.Scope = form.Get("scope")
	_, req.ScopePresent = form["scope"]
	resp, derr := s.tokens.Issue(c.Request.Context(), req)
	if derr != nil {
		s.writeDCRError(c, derr)
		return
	}
	c.JSON(http.StatusOK, resp)
}
