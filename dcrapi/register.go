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
	body, err := readAllSized(c.Request.Body, c.Request.ContentLength)
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

// bodySizeHintCap bounds the buffer allocated up front from a declared
// Content-Length: a client declaring a large body and sending little must not
// make the server hold more than this before the bytes arrive.
const bodySizeHintCap = 64 << 10

// readAllSized is io.ReadAll starting with room for the declared length (up to
// bodySizeHintCap), so a request body is read without growing the buffer
// through every power of two on the way (measured on every POST /register;
// the processing API reads its bodies the same way).
// It returns what io.ReadAll returns: the bytes read and the first error other
// than io.EOF.
func readAllSized(r io.Reader, declared int64) ([]byte, error) {
	b := make([]byte, 0, min(max(declared, 511), bodySizeHintCap)+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // let append pick the next capacity
		}
	}
}
