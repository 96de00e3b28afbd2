package dcrapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/dcr"
)

// clientCertThumbprint is the base64url SHA-256 thumbprint of the caller's client
// certificate, or "" when there is none. Behind a gateway it comes from
// mtls.thumbprint_header, believed only from mtls.trusted_proxies (the TCP peer,
// never a forwarded address); otherwise from the verified TLS connection.
func (s *Server) clientCertThumbprint(c *gin.Context) string {
	if s.cfg.MTLS.ThumbprintHeader != "" {
		v := c.GetHeader(s.cfg.MTLS.ThumbprintHeader)
		if v == "" {
			return ""
		}
		if !s.fromGateway(c.Request.RemoteAddr) {
			s.log.Warn("mtls: thumbprint header from an untrusted address ignored", "remote", c.Request.RemoteAddr, "request_id", c.GetString(requestIDKey))
			return ""
		}
		return normalizeThumbprint(v)
	}
	return tlsThumbprint(c.Request)
}

func (s *Server) fromGateway(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, p := range s.cfg.MTLS.TrustedProxies {
		if _, n, err := net.ParseCIDR(p); err == nil {
			if n.Contains(ip) {
				return true
			}
		} else if other := net.ParseIP(p); other != nil && other.Equal(ip) {
			return true
		}
	}
	return false
}

// normalizeThumbprint accepts the gateway's thumbprint as base64url, base64 or hex
// SHA-256 and returns it as base64url, or "" when it is none of those.
func normalizeThumbprint(v string) string {
	v = strings.TrimSpace(v)
	if b, err := hex.DecodeString(strings.ReplaceAll(v, ":", "")); err == nil && len(b) == sha256.Size {
		return base64.RawURLEncoding.EncodeToString(b)
	}
	v = strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(v), "=")
	if b, err := base64.RawURLEncoding.DecodeString(v); err == nil && len(b) == sha256.Size {
		return v
	}
	return ""
}

// tlsThumbprint is the thumbprint of the verified TLS client certificate, or "".
func tlsThumbprint(r *http.Request) string {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return ""
	}
	sum := sha256.Sum256(r.TLS.PeerCertificates[0].Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// requireClientCertificate is the ERR-MTLS-002 check of /register and /token.
func (s *Server) requireClientCertificate(thumbprint string) *dcr.Error {
	if !s.cfg.MTLSEnabled() || thumbprint != "" {
		return nil
	}
	return &dcr.Error{Status: http.StatusForbidden, Code: "client_certificate_required",
		Description: "ERR-MTLS-002: No client certificate was found on request", Step: dcr.StepTransport,
		Detail: "mTLS is on and the request carried no client certificate"}
}
