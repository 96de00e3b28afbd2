package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

var signingAlgValues = []string{"PS256", "ES256"}

// openIDConfiguration: GET /.well-known/openid-configuration — the holder's metadata.
func (s *Server) openIDConfiguration(c *gin.Context) {
	base := s.cfg.Server.PublicURL
	c.Header("Cache-Control", "public, max-age=300")
	c.JSON(http.StatusOK, gin.H{
		"issuer":                                s.cfg.Holder.Issuer,
		"registration_endpoint":                 base + "/register",
		"token_endpoint":                        base + "/token",
		"jwks_uri":                              base + "/jwks",
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": signingAlgValues,
		"grant_types_supported":                            []string{"authorization_code", "client_credentials", "refresh_token"},
		"response_types_supported":                         s.cfg.Holder.ResponseTypesSupported,
		"scopes_supported":                                 s.cfg.Holder.ScopesSupported,
		"id_token_signing_alg_values_supported":            signingAlgValues,
		"request_object_signing_alg_values_supported":      signingAlgValues,
		"authorization_signing_alg_values_supported":       signingAlgValues,
		"tls_client_certificate_bound_access_tokens":       s.cfg.MTLSEnabled(),
	})
}

// jwks: GET /jwks — the holder's public signing keys.
func (s *Server) jwks(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=60")
	c.Data(http.StatusOK, "application/json", s.keys.JWKS())
}
