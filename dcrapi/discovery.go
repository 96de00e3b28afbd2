package dcrapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

var signingAlgValues = []string{"PS256", "ES256"}

// discoveryDocument is the holder's RFC 8414 / OpenID Discovery metadata. The
// authorization endpoint belongs to the Data Holder's AS ([holder] in config):
// without it no response type and no grant that needs it is advertised
// (RFC 8414 section 2); with it the document is OpenID metadata too, which
// requires subject_types_supported.
func (s *Server) discoveryDocument() map[string]any {
	h := s.cfg.Holder
	base := s.cfg.Server.PublicURL
	doc := map[string]any{
		"issuer":                                h.Issuer,
		"registration_endpoint":                 base + "/register",
		"token_endpoint":                        base + "/token",
		"jwks_uri":                              base + "/jwks",
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": signingAlgValues,
		"grant_types_supported":                            []string{"client_credentials"},
		// REQUIRED by RFC 8414 even when empty: nothing here takes a response_type.
		"response_types_supported":                    []string{},
		"scopes_supported":                            h.ScopesSupported,
		"id_token_signing_alg_values_supported":       signingAlgValues,
		"request_object_signing_alg_values_supported": signingAlgValues,
		"authorization_signing_alg_values_supported":  signingAlgValues,
		"tls_client_certificate_bound_access_tokens":  s.cfg.MTLSEnabled(),
	}
	if h.JWKSURI != "" {
		doc["jwks_uri"] = h.JWKSURI
	}
	if h.AuthorizationEndpoint != "" {
		doc["authorization_endpoint"] = h.AuthorizationEndpoint
		doc["response_types_supported"] = h.ResponseTypesSupported
		doc["grant_types_supported"] = []string{"authorization_code", "client_credentials", "refresh_token"}
		doc["subject_types_supported"] = h.SubjectTypesSupported
	}
	for key, value := range map[string]string{
		"pushed_authorization_request_endpoint": h.PushedAuthorizationRequestEndpoint,
		"userinfo_endpoint":                     h.UserinfoEndpoint,
		"introspection_endpoint":                h.IntrospectionEndpoint,
		"revocation_endpoint":                   h.RevocationEndpoint,
	} {
		if value != "" {
			doc[key] = value
		}
	}
	return doc
}

// Discovery: GET and HEAD /.well-known/openid-configuration and
// /.well-known/oauth-authorization-server — the same document at both. HEAD
// answers the GET's headers, Content-Length included, without the body.
func (s *Server) Discovery(c *gin.Context) {
	body, err := json.Marshal(s.discoveryDocument())
	if err != nil { // strings, lists and a bool: cannot fail, but never answer half a document
		s.log.Error("discovery document", "request_id", c.GetString(requestIDKey), "error", err)
		c.JSON(http.StatusInternalServerError, OAuthError{Error: "server_error"})
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Header("Content-Type", "application/json; charset=utf-8")
	c.Header("Content-Length", strconv.Itoa(len(body)))
	c.Status(http.StatusOK)
	if c.Request.Method == http.MethodHead {
		return
	}
	_, _ = c.Writer.Write(body)
}

// JWKS: GET /jwks — the holder's public signing keys.
func (s *Server) JWKS(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=60")
	c.Data(http.StatusOK, "application/json", s.keys.JWKS())
}
