package dcrapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/authlete"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store"
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

// RequireAPIKey checks the service id (404) and the API key (401). Both
// refusals are audited, with the presented key's prefix (or "anonymous") as actor.
func (s *Server) RequireAPIKey(c *gin.Context) {
	header := c.GetHeader("Authorization")
	if c.Param("serviceID") != s.cfg.API.ServiceID {
		s.refuseAPICall(c, presentedKeyActor(header), nil, &dcr.Error{Status: http.StatusNotFound, Code: dcr.CodeInvalidRequest,
			Description: "[" + resultUnknownService + "] Unknown service", Step: dcr.StepTransport,
			Detail: fmt.Sprintf("service id %q", c.Param("serviceID"))})
		c.AbortWithStatusJSON(http.StatusNotFound, apiError{resultUnknownService, "[" + resultUnknownService + "] Unknown service: " + c.Param("serviceID")})
		return
	}
	scheme, key, _ := strings.Cut(header, " ")
	name, err := "", auth.ErrInvalidAPIKey
	detail := "no Authorization header"
	switch {
	case strings.EqualFold(scheme, "Bearer") && key != "":
		name, err = s.auth.AuthenticateAPIKey(c.Request.Context(), strings.TrimSpace(key))
		detail = "unknown or revoked API key"
	case strings.EqualFold(strings.TrimSpace(scheme), "Bearer"):
		detail = "no API key after Bearer"
	case header != "":
		detail = "the Authorization header is not a Bearer API key"
	}
	if err != nil {
		if !errors.Is(err, auth.ErrInvalidAPIKey) {
			s.log.Error("api: key lookup", "error", err, "request_id", c.GetString(requestIDKey))
			detail = "key lookup failed: " + err.Error()
		}
		s.refuseAPICall(c, presentedKeyActor(header), nil, &dcr.Error{Status: http.StatusUnauthorized, Code: "invalid_token",
			Description: "[" + resultBadAPIKey + "] Missing, invalid or revoked API key", Step: dcr.StepAuthorization, Detail: detail})
		c.Header("WWW-Authenticate", `Bearer realm="dcrconsole"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, apiError{resultBadAPIKey, "[" + resultBadAPIKey + "] Missing, invalid or revoked API key"})
		return
	}
	c.Set(apiKeyNameKey, name)
	c.Next()
}

// refuseAPICall audits a processing-API call refused before it was processed,
// as the event the call would have made.
func (s *Server) refuseAPICall(c *gin.Context, actor string, body []byte, derr *dcr.Error) {
	caller := dcr.Caller{RemoteAddr: c.ClientIP(), RequestID: c.GetString(requestIDKey), Actor: actor}
	s.registrar.RecordAPIRefusal(c.Request.Context(), apiEventType(c.FullPath()), caller, body, derr)
}

// apiEventType is the audit event type of a processing-API route.
func apiEventType(route string) store.EventType {
	switch {
	case strings.HasSuffix(route, "/get"):
		return store.EventRegistrationRead
	case strings.HasSuffix(route, "/update"):
		return store.EventRegistrationUpdate
	case strings.HasSuffix(route, "/delete"):
		return store.EventRegistrationDelete
	}
	return store.EventRegistrationCreate
}

// presentedKeyPrefix is how much of a refused API key the audit log names: enough
// to tell which key an authorization server is misusing (our keys begin
// "dcrk_"), far too little to use. It never keeps a whole credential.
const presentedKeyPrefix = 12

// presentedKeyActor names the caller of a refused call by the start of the
// credential it presented, or "anonymous" when it presented none.
func presentedKeyActor(header string) string {
	header = strings.TrimSpace(header)
	if _, cred, ok := strings.Cut(header, " "); ok {
		header = strings.TrimSpace(cred)
	} else if strings.EqualFold(header, "Bearer") {
		header = ""
	}
	var b strings.Builder
	for _, r := range header {
		if b.Len() >= presentedKeyPrefix {
			break
		}
		if r < 0x21 || r > 0x7e {
			r = '?' // keep the actor printable ASCII whatever was sent
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "anonymous"
	}
	return "apikey-prefix:" + b.String()
}

// apiCall is the request body of every processing-API endpoint.
type apiCall struct {
	JSON     *string `json:"json"`
	Token    *string `json:"token"`
	ClientID *string `json:"clientId"`
}

// bindAPICall decodes the body and checks the required fields; on failure it
// answers 400 and returns false.
func (s *Server) bindAPICall(c *gin.Context, needJSON, needClient bool) (authlete.Request, bool) {
	var call apiCall
	body, err := readAllSized(c.Request.Body, c.Request.ContentLength)
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
	case call.ClientID != nil && strings.IndexByte(*call.ClientID, 0) >= 0 || call.Token != nil && strings.IndexByte(*call.Token, 0) >= 0:
		// No client id or token holds one; PostgreSQL could not even look it up.
		missing = "'clientId' and 'token' must not contain a NUL character"
	}
	if missing != "" {
		actor := "apikey:" + c.GetString(apiKeyNameKey)
		detail := missing
		if err != nil {
			detail += ": " + err.Error()
		}
		s.refuseAPICall(c, actor, body, &dcr.Error{Status: http.StatusBadRequest, Code: dcr.CodeInvalidRequest,
			Description: "[" + resultMalformed + "] Malformed request", Step: dcr.StepTransport, Detail: detail})
		c.JSON(http.StatusBadRequest, apiError{resultMalformed, "[" + resultMalformed + "] Malformed request: " + missing})
		return authlete.Request{}, false
	}
	r := authlete.Request{APIKeyName: c.GetString(apiKeyNameKey),
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

func (s *Server) apiRespond(c *gin.Context, resp authlete.Response) {
	if resp.Action == authlete.ActionServerError {
		s.log.Error("api: internal error", "request_id", c.GetString(requestIDKey), "result", resp.ResultMessage, "error", resp.Cause)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, resp)
}

// APIRegister: POST /api/:serviceID/client/registration
func (s *Server) APIRegister(c *gin.Context) {
	if r, ok := s.bindAPICall(c, true, false); ok {
		s.apiRespond(c, s.api.Register(c.Request.Context(), r))
	}
}

// APIGet: POST /api/:serviceID/client/registration/get
func (s *Server) APIGet(c *gin.Context) {
	if r, ok := s.bindAPICall(c, false, true); ok {
		s.apiRespond(c, s.api.Get(c.Request.Context(), r))
	}
}

// APIUpdate: POST /api/:serviceID/client/registration/update
func (s *Server) APIUpdate(c *gin.Context) {
	if r, ok := s.bindAPICall(c, true, true); ok {
		s.apiRespond(c, s.api.Update(c.Request.Context(), r))
	}
}

// APIDelete: POST /api/:serviceID/client/registration/delete
func (s *Server) APIDelete(c *gin.Context) {
	if r, ok := s.bindAPICall(c, false, true); ok {
		s.apiRespond(c, s.api.Delete(c.Request.Context(), r))
	}
}
