package dcrapi

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/authz"
	"github.com/dcrconsole/dcrconsole/dcr"
)

// PostToken: POST /token — client_credentials with private_key_jwt, for cdr:registration.
func (s *Server) PostToken(c *gin.Context) {
	req := authz.TokenRequest{
		CertThumbprint: s.clientCertThumbprint(c),
		RemoteAddr:     c.ClientIP(),
		RequestID:      c.GetString(requestIDKey),
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	// Transport refusals are audited like every other token refusal.
	if derr := s.requireClientCertificate(req.CertThumbprint); derr != nil {
		s.tokens.Refuse(c.Request.Context(), req, derr)
		s.writeDCRError(c, derr)
		return
	}
	if derr := readTokenForm(c, &req); derr != nil {
		s.tokens.Refuse(c.Request.Context(), req, derr)
		c.JSON(http.StatusBadRequest, OAuthError{Error: derr.Code, Description: derr.Description})
		return
	}
	resp, derr := s.tokens.Issue(c.Request.Context(), req)
	if derr != nil {
		s.writeDCRError(c, derr)
		return
	}
	c.JSON(http.StatusOK, resp)
}

// readTokenForm checks the Content-Type and the form (RFC 6749 §3.2: parameters
// must not repeat) and fills req from it; what could be read is in req even when
// it refuses, for the audit record.
func readTokenForm(c *gin.Context, req *authz.TokenRequest) *dcr.Error {
	refuse := func(desc, detail string, args ...any) *dcr.Error {
		return &dcr.Error{Status: http.StatusBadRequest, Code: dcr.CodeInvalidRequest, Description: desc,
			Step: dcr.StepTransport, Detail: fmt.Sprintf(detail, args...)}
	}
	ct := c.GetHeader("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); mt != "application/x-www-form-urlencoded" {
		return refuse("Content-Type must be application/x-www-form-urlencoded", "Content-Type was %q", ct)
	}
	if err := c.Request.ParseForm(); err != nil {
		return refuse("The request body is not a valid form", "%v", err)
	}
	form := c.Request.PostForm
	fillTokenRequest(req, form)
	for k, vs := range form {
		if len(vs) > 1 {
			return refuse("Parameter "+k+" is repeated", "parameter %q sent %d times", k, len(vs))
		}
	}
	return nil
}

func fillTokenRequest(req *authz.TokenRequest, form url.Values) {
	req.GrantType = form.Get("grant_type")
	req.ClientAssertionType = form.Get("client_assertion_type")
	req.ClientAssertion = form.Get("client_assertion")
	req.ClientID = form.Get("client_id")
	req.Scope = form.Get("scope")
	_, req.ScopePresent = form["scope"]
}
