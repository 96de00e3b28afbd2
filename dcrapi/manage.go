package dcrapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store"
)

// authorize applies the authorization order of the management endpoints; on a
// refusal it answers, audits, and returns nil.
func (s *Server) authorize(c *gin.Context, eventType store.EventType) (*store.Client, dcr.Caller) {
	caller := dcr.Caller{RemoteAddr: c.ClientIP(), CertThumbprint: s.clientCertThumbprint(c), RequestID: c.GetString(requestIDKey)}
	clientID := c.Param("clientID")
	client, tokenClient, aerr := s.access.Authorize(c.Request.Context(), c.GetHeader("Authorization"), caller.CertThumbprint, clientID)
	if aerr != nil {
		s.registrar.RecordRefusal(c.Request.Context(), eventType, caller, clientID, tokenClient, aerr)
		if aerr.Status >= 500 {
			s.log.Error("authorization failed", "request_id", caller.RequestID, "detail", aerr.Detail)
		}
		if aerr.WWWAuthenticate != "" {
			c.Header("WWW-Authenticate", aerr.WWWAuthenticate)
		}
		c.Header("Cache-Control", "no-store")
		if aerr.Code == "" {
			c.Status(aerr.Status)
		} else {
			c.JSON(aerr.Status, OAuthError{Error: aerr.Code, Description: aerr.Description})
		}
		c.Abort()
		return nil, caller
	}
	caller.Actor = "client:" + client.ID
	return client, caller
}

// GetRegistration: GET /register/:clientID — the client reads its registration.
func (s *Server) GetRegistration(c *gin.Context) {
	client, caller := s.authorize(c, store.EventRegistrationRead)
	if client == nil {
		return
	}
	body, derr := s.registrar.Read(c.Request.Context(), client, caller)
	if derr != nil {
		s.writeDCRError(c, derr)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
}

// PutRegistration: PUT /register/:clientID — the client replaces its registration.
func (s *Server) PutRegistration(c *gin.Context) {
	client, caller := s.authorize(c, store.EventRegistrationUpdate)
	if client == nil {
		return
	}
	a := dcr.Attempt{RemoteAddr: caller.RemoteAddr, CertThumbprint: caller.CertThumbprint, RequestID: caller.RequestID,
		Source: client.Source, Actor: caller.Actor}
	body, derr := s.readJWTBody(c)
	if derr == nil {
		a.Body = body
		var m *dcr.Metadata
		if m, derr = s.registrar.Update(c.Request.Context(), client, a); derr == nil {
			c.Header("Cache-Control", "no-store")
			c.JSON(http.StatusOK, m)
			return
		}
	} else {
		s.registrar.RejectUpdate(c.Request.Context(), client, a, derr)
	}
	s.writeDCRError(c, derr)
}

// DeleteRegistration: DELETE /register/:clientID — the client deregisters.
func (s *Server) DeleteRegistration(c *gin.Context) {
	client, caller := s.authorize(c, store.EventRegistrationDelete)
	if client == nil {
		return
	}
	if derr := s.registrar.Delete(c.Request.Context(), client, caller); derr != nil {
		s.writeDCRError(c, derr)
		return
	}
	c.Status(http.StatusNoContent)
}
