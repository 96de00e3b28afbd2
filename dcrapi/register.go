package dcrapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store"
)

// PostRegister: POST /register — a CDR Dynamic Client Registration.
func (s *Server) PostRegister(c *gin.Context) {
	a := s.attempt(c)
	// Transport checks in the order of cdr-dcr.md: Content-Type, size, client certificate.
	body, derr := s.readJWTBody(c)
	if derr == nil {
		derr = s.requireClientCertificate(a.CertThumbprint)
	}
	if derr != nil {
		s.registrar.Reject(c.Request.Context(), a, derr)
		s.writeDCRError(c, derr)
		return
	}
	a.Body = body
	m, derr := s.registrar.Register(c.Request.Context(), a)
	if derr != nil {
		s.writeDCRError(c, derr)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, m)
}

// attempt collects what the transport knows about the caller.
func (s *Server) attempt(c *gin.Context) dcr.Attempt {
	return dcr.Attempt{
		RemoteAddr:     c.ClientIP(),
		CertThumbprint: s.clientCertThumbprint(c),
		RequestID:      c.GetString(requestIDKey),
		Source:         store.SourceRegister,
	}
}

// readJWTBody applies the transport checks of cdr-dcr.md: Content-Type
// application/jwt (415), then the body size (413).
func (s *Server) readJWTBody(c *gin.Context) ([]byte, *dcr.Error) {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/jwt" {
		return nil, &dcr.Error{Status: http.StatusUnsupportedMediaType, Code: dcr.CodeInvalidRequest,
			Description: "Content-Type must be application/jwt", Step: dcr.StepTransport,
			Detail: fmt.Sprintf("Content-Type was %q", c.GetHeader("Content-Type"))}
	}
	limit := s.cfg.Server.MaxBodyBytes
	tooLarge := &dcr.Error{Status: http.StatusRequestEntityTooLarge, Code: dcr.CodeInvalidRequest,
		Description: fmt.Sprintf("Request body exceeds %d bytes", limit), Step: dcr.StepTransport}
	if c.Request.ContentLength > limit {
		tooLarge.Detail = fmt.Sprintf("Content-Length %d", c.Request.ContentLength)
		return nil, tooLarge
	}
	body, err := io.ReadAll(c.Request.Body)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		tooLarge.Detail = "body exceeded the limit while reading"
		return nil, tooLarge
	}
	if err != nil {
		return nil, &dcr.Error{Status: http.StatusBadRequest, Code: dcr.CodeInvalidRequest,
			Description: "The request body could not be read", Step: dcr.StepTransport, Detail: err.Error()}
	}
	return body, nil
}
