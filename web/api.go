package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/dcr"
)

// apiError is the body of a processing-API call refused before it was
// processed: no action, because there is nothing for the server to relay.
type apiError struct {
	ResultCode    string `json:"resultCode"`
	ResultMessage string `json:"resultMessage"`
}

// Result codes of refused processing-API calls (documented in the README).
const (
	resultMalformed      = "DCR-A030"
	resultUnknownService = "DCR-A031"
	resultBadAPIKey      = "DCR-A032"
)

const apiKeyNameKey = "api_key_name"

// requireAPIKey checks the service id (404) and the API key (401).
func (s *Server) requireAPIKey(c *gin.Context) {
	if c.Param("serviceID") != s.cfg.API.ServiceID {
		c.AbortWithStatusJSON(http.StatusNotFound, apiError{resultUnknownService, "[" + resultUnknownService + "] Unknown service: " + c.Param("serviceID")})
		return
	}
	scheme, key, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	name, err := "", auth.ErrInvalidAPIKey
	if strings.EqualFold(scheme, "Bearer") && key != "" {
		name, err = s.auth.AuthenticateAPIKey(c.Request.Context(), strings.TrimSpace(key))
	}
	if err != nil {
		if !errors.Is(err, auth.ErrInvalidAPIKey) {
			s.log.Error("api: key lookup", "error", err, "request_id", c.GetString(requestIDKey))
		}
		c.Header("WWW-Authenticate", `Bearer realm="dcrconsole"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, apiError{resultBadAPIKey, "[" + resultBadAPIKey + "] Missing, invalid or revoked API key"})
		return
	}
	c.Set(apiKeyNameKey, name)
	c.Next()
}

// apiCall is the request body of every processing-API endpoint.
type apiCall struct {
	JSON     *string `json:"json"`
	Token    *string `json:"token"`
	ClientID *string `json:"clientId"`
}

// bindAPICall decodes the body and checks the required fields; on failure it
// answers 400 and returns false.
func (s *Server) bindAPICall(c *gin.Context, needJSON, needClient bool) (dcr.APIRequest, bool) {
	var call apiCall
	body, err := io.ReadAll(c.Request.Body)
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		err = dec.Decode(&call)
	}
	missing := ""
	switch {
	case err != nil:
		missing = "the body is not a JSON object of json, token and clientId strings"
	case needJSON && (call.JSON == nil || strings.TrimSpace(*call.JSON) == ""):
		missing = "'json' is required"
	case needClient && (call.ClientID == nil || *call.ClientID == ""):
		missing = "'clientId' is required"
	case needClient && (call.Token == nil || *call.Token == ""):
		missing = "'token' is required"
	}
	if missing != "" {
		c.JSON(http.StatusBadRequest, apiError{resultMalformed, "[" + resultMalformed + "] Malformed request: " + missing})
		return dcr.APIRequest{}, false
	}
	r := dcr.APIRequest{APIKeyName: c.GetString(apiKeyNameKey),
		Caller: dcr.Caller{RemoteAddr: c.ClientIP(), RequestID: c.GetString(requestIDKey)}}
	if call.JSON != nil {
		r.JSON = *call.JSON
	}
	if call.Token != nil {
		r.Token = *call.Token
	}
	if call.ClientID != nil {
		r.ClientID = *call.ClientID
	}
	return r, true
}

func (s *Server) apiRespond(c *gin.Context, resp dcr.APIResponse) {
	if resp.Action == dcr.ActionServerError {
		s.log.Error("api: internal error", "request_id", c.GetString(requestIDKey), "result", resp.ResultMessage)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, resp)
}

// apiRegister: POST /api/:serviceID/client/registration
func (s *Server) apiRegister(c *gin.Context) {
	if r, ok := s.bindAPICall(c, true, false); ok {
		s.apiRespond(c, s.api.Register(c.Request.Context(), r))
	}
}

// apiGet: POST /api/:serviceID/client/registration/get
func (s *Server) apiGet(c *gin.Context) {
	if r, ok := s.bindAPICall(c, false, true); ok {
		s.apiRespond(c, s.api.Get(c.Request.Context(), r))
	}
}

// apiUpdate: POST /api/:serviceID/client/registration/update
func (s *Server) apiUpdate(c *gin.Context) {
	if r, ok := s.bindAPICall(c, true, true); ok {
		s.apiRespond(c, s.api.Update(c.Request.Context(), r))
	}
}

// apiDelete: POST /api/:serviceID/client/registration/delete
func (s *Server) apiDelete(c *gin.Context) {
	if r, ok := s.bindAPICall(c, false, true); ok {
		s.apiRespond(c, s.api.Delete(c.Request.Context(), r))
	}
}
