// Package authlete is the Authlete-compatible registration processing API's
// wire format: its request, response envelope and Client object, result codes
// and actions, and the registration access tokens it issues. Every rule is the
// registrar's (package dcr), reached through the small Registrar and Clients
// interfaces declared here.
package authlete

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store"
)

// Processing API actions: what the calling authorization server must answer.
const (
	ActionCreated      = "CREATED"
	ActionOK           = "OK"
	ActionUpdated      = "UPDATED"
	ActionDeleted      = "DELETED"
	ActionBadRequest   = "BAD_REQUEST"
	ActionUnauthorized = "UNAUTHORIZED"
	ActionServerError  = "INTERNAL_SERVER_ERROR"
)

// Result codes of the processing API: stable identifiers (documented in the README).
const (
	ResultCreated      = "DCR-A001"
	ResultOK           = "DCR-A002"
	ResultUpdated      = "DCR-A003"
	ResultDeleted      = "DCR-A004"
	ResultBadRequest   = "DCR-A010"
	ResultUnauthorized = "DCR-A011"
	ResultServerError  = "DCR-A020"
)

// Response is the processing API's answer (Authlete's client registration response).
type Response struct {
	ResultCode      string  `json:"resultCode"`
	ResultMessage   string  `json:"resultMessage"`
	Action          string  `json:"action"`
	ResponseContent string  `json:"responseContent"`
	Client          *Client `json:"client,omitempty"`
	// Cause is why an INTERNAL_SERVER_ERROR happened: for the server's log, never sent.
	Cause error `json:"-"`
}

// Client is a stored client as Authlete's Client object names it: camelCase,
// times in milliseconds, the numeric clientId with the CDR client_id as its alias.
// It never carries a secret or a token hash.
type Client struct {
	ClientID              int64    `json:"clientId"`
	ClientIDAlias         string   `json:"clientIdAlias"`
	ClientIDAliasEnabled  bool     `json:"clientIdAliasEnabled"`
	ClientName            string   `json:"clientName,omitempty"`
	Description           string   `json:"description,omitempty"`
	ClientType            string   `json:"clientType"`
	ApplicationType       string   `json:"applicationType,omitempty"`
	RedirectURIs          []string `json:"redirectUris"`
	ResponseTypes         []string `json:"responseTypes"`
	GrantTypes            []string `json:"grantTypes"`
	JWKSURI               string   `json:"jwksUri,omitempty"`
	TokenAuthMethod       string   `json:"tokenAuthMethod"`
	TokenAuthSignAlg      string   `json:"tokenAuthSignAlg,omitempty"`
	IDTokenSignAlg        string   `json:"idTokenSignAlg,omitempty"`
	RequestSignAlg        string   `json:"requestSignAlg,omitempty"`
	AuthorizationSignAlg  string   `json:"authorizationSignAlg,omitempty"`
	ClientURI             string   `json:"clientUri,omitempty"`
	LogoURI               string   `json:"logoUri,omitempty"`
	TOSURI                string   `json:"tosUri,omitempty"`
	PolicyURI             string   `json:"policyUri,omitempty"`
	SectorIdentifierURI   string   `json:"sectorIdentifierUri,omitempty"`
	SoftwareID            string   `json:"softwareId,omitempty"`
	SoftwareStatement     string   `json:"softwareStatement,omitempty"`
	Scope                 string   `json:"scope,omitempty"`
	OrgID                 string   `json:"orgId,omitempty"`
	OrgName               string   `json:"orgName,omitempty"`
	LegalEntityID         string   `json:"legalEntityId,omitempty"`
	LegalEntityName       string   `json:"legalEntityName,omitempty"`
	CreatedAt             int64    `json:"createdAt"`
	ModifiedAt            int64    `json:"modifiedAt"`
	DynamicallyRegistered bool     `json:"dynamicallyRegistered"`
	Status                string   `json:"status"`
}

// Request is one call of the processing API.
type Request struct {
	JSON     string
	Token    string
	ClientID string
	dcr.Caller
	APIKeyName string
}

// caller is the audit log's view of the call: the API key is the actor.
func (r Request) caller() dcr.Caller {
	c := r.Caller
	c.Actor = "apikey:" + r.APIKeyName
	return c
}

// Service is the Authlete-compatible registration processing API. It shares
// the Registrar (and so every rule, the duplicate rule and the audit log) with
// POST /register.
type Service struct {
	registrar Registrar
	clients   Clients
	publicURL string
	rotate    bool
}

// Clients is what the processing API reads of stored clients; *store.DB implements it.
type Clients interface {
	GetClient(ctx context.Context, id string) (*store.Client, error)
	ClientRowID(ctx context.Context, id string) (int64, error)
}

// Registrar is what the processing API asks of the registrar, the same one
// POST /register uses; *dcr.Registrar implements it.
type Registrar interface {
	Register(ctx context.Context, a dcr.Attempt) (*dcr.Metadata, *dcr.Error)
	Read(ctx context.Context, c *store.Client, caller dcr.Caller) (json.RawMessage, *dcr.Error)
	Update(ctx context.Context, c *store.Client, a dcr.Attempt) (*dcr.Metadata, *dcr.Error)
	Delete(ctx context.Context, c *store.Client, caller dcr.Caller) *dcr.Error
	RecordRefusal(ctx context.Context, eventType store.EventType, c dcr.Caller, pathClientID, tokenClient string, aerr *dcr.AuthError)
}

// NewService wires the API over r and the stored clients; rotate issues a new
// registration access token on update.
func NewService(r Registrar, clients Clients, publicURL string, rotate bool) *Service {
	return &Service{registrar: r, clients: clients, publicURL: strings.TrimRight(publicURL, "/"), rotate: rotate}
}

func newRAT() (token, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashRAT(token)
}

func hashRAT(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// looksLikeJWS tells a CDR registration request JWT from RFC 7591 JSON.
func looksLikeJWS(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && s[0] != '{' && strings.Count(s, ".") == 2
}

func (s *Service) attempt(r Request) dcr.Attempt {
	return dcr.Attempt{Body: []byte(strings.TrimSpace(r.JSON)), RemoteAddr: r.RemoteAddr, CertThumbprint: r.CertThumbprint,
		RequestID: r.RequestID, Source: store.SourceAPI, Actor: r.caller().Actor, Metadata: !looksLikeJWS(r.JSON),
		APIKeyName: r.APIKeyName}
}

// Register is POST /api/{serviceId}/client/registration.
func (s *Service) Register(ctx context.Context, r Request) Response {
	a := s.attempt(r)
	rat, ratHash := newRAT()
	a.RATHash = ratHash
	m, derr := s.registrar.Register(ctx, a)
	if derr != nil {
		return errorResponse(derr)
	}
	c, err := s.clients.GetClient(ctx, m.ClientID)
	if err != nil {
		return serverError(err)
	}
	return s.respond(ctx, ResultCreated, ActionCreated, fmt.Sprintf("Registered client %s", m.ClientID), m, rat, c)
}

// authorize checks the registration access token of clientID; an unknown
// client, an inactive one and a wrong token get the same UNAUTHORIZED.
func (s *Service) authorize(ctx context.Context, r Request, eventType store.EventType) (*store.Client, *Response) {
	c, err := s.clients.GetClient(ctx, r.ClientID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		resp := serverError(err)
		return nil, &resp
	}
	ok := c != nil && c.Status == store.StatusActive && c.RATHash != "" &&
		subtle.ConstantTimeCompare([]byte(hashRAT(r.Token)), []byte(c.RATHash)) == 1
	if !ok {
		detail := "wrong registration access token"
		switch {
		case c == nil:
			detail = "unknown client"
		case c.Status != store.StatusActive:
			detail = "client is " + c.Status
		case c.RATHash == "":
			detail = "client has no registration access token (registered through POST /register)"
		}
		s.registrar.RecordRefusal(ctx, eventType, r.caller(), r.ClientID, "",
			&dcr.AuthError{Status: 401, Code: "invalid_token", Description: "The registration access token is invalid", Detail: detail})
		resp := unauthorized(": invalid registration access token or unknown client")
		return nil, &resp
	}
	return c, nil
}

// Get is POST /api/{serviceId}/client/registration/get.
func (s *Service) Get(ctx context.Context, r Request) Response {
	c, refusal := s.authorize(ctx, r, store.EventRegistrationRead)
	if refusal != nil {
		return *refusal
	}
	if _, derr := s.registrar.Read(ctx, c, r.caller()); derr != nil {
		return errorResponse(derr)
	}
	var m dcr.Metadata
	if err := json.Unmarshal([]byte(c.Registration), &m); err != nil {
		return serverError(err)
	}
	return s.respond(ctx, ResultOK, ActionOK, "Read client "+c.ID, &m, "", c)
}

// Update is POST /api/{serviceId}/client/registration/update (full replacement).
func (s *Service) Update(ctx context.Context, r Request) Response {
	c, refusal := s.authorize(ctx, r, store.EventRegistrationUpdate)
	if refusal != nil {
		return *refusal
	}
	a := s.attempt(r)
	rat := ""
	if s.rotate {
		rat, a.RATHash = newRAT()
	}
	m, derr := s.registrar.Update(ctx, c, a)
	if derr != nil {
		return errorResponse(derr)
	}
	updated, err := s.clients.GetClient(ctx, c.ID)
	if err != nil {
		return serverError(err)
	}
	return s.respond(ctx, ResultUpdated, ActionUpdated, "Updated client "+c.ID, m, rat, updated)
}

// Delete is POST /api/{serviceId}/client/registration/delete.
func (s *Service) Delete(ctx context.Context, r Request) Response {
	c, refusal := s.authorize(ctx, r, store.EventRegistrationDelete)
	if refusal != nil {
		return *refusal
	}
	if derr := s.registrar.Delete(ctx, c, r.caller()); derr != nil {
		return errorResponse(derr)
	}
	deleted, err := s.clients.GetClient(ctx, c.ID)
	if err != nil {
		return serverError(err)
	}
	resp := Response{ResultCode: ResultDeleted, ResultMessage: "[" + ResultDeleted + "] Deleted client " + c.ID, Action: ActionDeleted}
	resp.Client = s.client(ctx, deleted)
	return resp
}

type oauthBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// respond builds a success response: the registration JSON with the RFC 7592
// fields, and the stored client.
func (s *Service) respond(ctx context.Context, code, action, msg string, m *dcr.Metadata, rat string, c *store.Client) Response {
	body, err := json.Marshal(m)
	if err != nil {
		return serverError(err)
	}
	extra := map[string]string{"registration_client_uri": s.publicURL + "/register/" + m.ClientID}
	if rat != "" {
		extra["registration_access_token"] = rat
	}
	tail, _ := json.Marshal(extra)
	// Append the RFC 7592 members to the registration object.
	content := append(bytes.TrimSuffix(body, []byte("}")), ',')
	content = append(content, tail[1:]...)
	return Response{ResultCode: code, ResultMessage: "[" + code + "] " + msg, Action: action,
		ResponseContent: string(content), Client: s.client(ctx, c)}
}

func errorResponse(derr *dcr.Error) Response {
	if derr.HTTPStatus() >= 500 {
		return serverError(errors.New(derr.Detail))
	}
	if derr.HTTPStatus() == 401 {
		return unauthorized("")
	}
	body, _ := json.Marshal(oauthBody{Error: derr.Code, Description: derr.Description})
	return Response{ResultCode: ResultBadRequest, ResultMessage: fmt.Sprintf("[%s] %s: %s", ResultBadRequest, derr.Code, derr.Description),
		Action: ActionBadRequest, ResponseContent: string(body)}
}

// unauthorized is the one UNAUTHORIZED answer, whatever was wrong (an unknown
// client and a wrong token look alike); detail ends the result message.
func unauthorized(detail string) Response {
	body, _ := json.Marshal(oauthBody{Error: "invalid_token", Description: "The registration access token is invalid or the client is unknown"})
	return Response{ResultCode: ResultUnauthorized, ResultMessage: "[" + ResultUnauthorized + "] Unauthorized" + detail,
		Action: ActionUnauthorized, ResponseContent: string(body)}
}

func serverError(err error) Response {
	body, _ := json.Marshal(oauthBody{Error: "server_error", Description: "The registration could not be processed; try again later."})
	return Response{ResultCode: ResultServerError, ResultMessage: "[" + ResultServerError + "] Internal server error",
		Action: ActionServerError, ResponseContent: string(body), Cause: err}
}

// client maps a stored client to Authlete's Client shape.
func (s *Service) client(ctx context.Context, c *store.Client) *Client {
	var m dcr.Metadata
	_ = json.Unmarshal([]byte(c.Registration), &m)
	rowID, _ := s.clients.ClientRowID(ctx, c.ID)
	return &Client{
		ClientID: rowID, ClientIDAlias: c.ID, ClientIDAliasEnabled: true,
		ClientName: m.ClientName, Description: m.ClientDescription, ClientType: "CONFIDENTIAL",
		ApplicationType: strings.ToUpper(m.ApplicationType), RedirectURIs: nonNil(m.RedirectURIs),
		ResponseTypes: enumList(m.ResponseTypes), GrantTypes: enumList(m.GrantTypes), JWKSURI: m.JWKSURI,
		TokenAuthMethod: strings.ToUpper(m.TokenEndpointAuthMethod), TokenAuthSignAlg: m.TokenEndpointAuthSigningAlg,
		IDTokenSignAlg: m.IDTokenSignedResponseAlg, RequestSignAlg: m.RequestObjectSigningAlg,
		AuthorizationSignAlg: m.AuthorizationSignedResponseAlg, ClientURI: m.ClientURI, LogoURI: m.LogoURI,
		TOSURI: m.TOSURI, PolicyURI: m.PolicyURI, SectorIdentifierURI: m.SectorIdentifierURI, SoftwareID: m.SoftwareID,
		SoftwareStatement: m.SoftwareStatement, Scope: m.Scope, OrgID: m.OrgID, OrgName: m.OrgName,
		LegalEntityID: m.LegalEntityID, LegalEntityName: m.LegalEntityName,
		CreatedAt: c.CreatedAt.UnixMilli(), ModifiedAt: c.UpdatedAt.UnixMilli(), DynamicallyRegistered: true, Status: c.Status,
	}
}

// enumList writes OAuth values as Authlete's enum names: "authorization_code" →
// "AUTHORIZATION_CODE", "code id_token" → "CODE_ID_TOKEN".
func enumList(values []string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		out = append(out, strings.ToUpper(strings.ReplaceAll(v, " ", "_")))
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
