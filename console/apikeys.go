package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/views"
)

func (s *Server) apiKeysView(c *gin.Context) (views.APIKeysView, error) {
	keys, err := s.auth.APIKeys(c.Request.Context())
	if err != nil {
		return views.APIKeysView{}, err
	}
	v := views.APIKeysView{Enabled: s.cfg.API.Enabled, ServiceID: s.cfg.API.ServiceID}
	if v.ServiceID == "" {
		v.ServiceID = "{serviceId}"
	}
	for _, k := range keys {
		row := views.APIKeyRow{Name: k.Name, CreatedBy: k.CreatedBy, Created: views.WhenIn(k.CreatedAt, s.zone), LastUsed: "never"}
		if k.LastUsedAt != nil {
			row.LastUsed = views.WhenIn(*k.LastUsedAt, s.zone)
		}
		if k.RevokedAt != nil {
			row.Revoked = views.WhenIn(*k.RevokedAt, s.zone)
		}
		v.Keys = append(v.Keys, row)
	}
	return v, nil
}

// APIKeysPage: GET /console/apikeys (admin)
func (s *Server) APIKeysPage(c *gin.Context) {
	v, err := s.apiKeysView(c)
	if err != nil {
		s.log.Error("console: api keys", "error", err)
		s.consoleError(c, http.StatusInternalServerError, "Server error", "The API keys could not be read.")
		return
	}
	s.render(c, http.StatusOK, views.APIKeys(v, s.nav(c, "apikeys")))
}

// CreateAPIKey: POST /console/apikeys (admin). The key is shown once, on this response.
func (s *Server) CreateAPIKey(c *gin.Context) {
	name := c.PostForm("name")
	key, err := s.auth.NewAPIKey(c.Request.Context(), actor(c), name, c.ClientIP())
	v, verr := s.apiKeysView(c)
	if verr != nil {
		// The list is secondary: a key just made must still be shown, once.
		s.log.Error("console: api keys list", "error", verr)
		v = views.APIKeysView{Enabled: s.cfg.API.Enabled, ServiceID: s.cfg.API.ServiceID, Error: "The list of keys could not be read."}
	}
	status := http.StatusOK
	switch {
	case err == nil:
		v.NewKey, v.NewKeyName = key, name
	case errors.Is(err, auth.ErrAPIKeyName), errors.Is(err, auth.ErrAPIKeyExists):
		v.Error, status = strings.TrimPrefix(err.Error(), "auth: "), http.StatusBadRequest
	default:
		s.log.Error("console: create api key", "error", err)
		v.Error, status = "The key could not be created because of a server error.", http.StatusInternalServerError
	}
	s.render(c, status, views.APIKeys(v, s.nav(c, "apikeys")))
}

// RevokeAPIKey: POST /console/apikeys/revoke (admin; form field name)
func (s *Server) RevokeAPIKey(c *gin.Context) {
	name := c.PostForm("name")
	err := s.auth.RevokeAPIKey(c.Request.Context(), actor(c), name, c.ClientIP())
	switch {
	case err == nil:
		s.redirectWithFlash(c, "/console/apikeys", "Revoked API key "+name+".", false)
	case errors.Is(err, auth.ErrNoSuchAPIKey):
		s.redirectWithFlash(c, "/console/apikeys", "No active API key named "+name+".", true)
	default:
		s.log.Error("console: revoke api key", "error", err)
		s.redirectWithFlash(c, "/console/apikeys", "The key could not be revoked because of a server error.", true)
	}
}
