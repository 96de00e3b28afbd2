package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
)

// ConsoleListener serves the console on a listener of its own, away from the
// ADR-facing API: its own address and TLS, so the main listener's
// tls.client_auth does not ask operators for client certificates and the
// console can be bound to an internal network.
type ConsoleListener struct {
	// Listen is host:port of the console's own listener; "" keeps the console
	// on the main listener (server.listen).
	Listen string `toml:"listen"`
	// TLSCertFile and TLSKeyFile are the console listener's certificate and
	// key; both empty serve plain HTTP (for an internal network behind a
	// TLS-terminating proxy).
	TLSCertFile string `toml:"tls_cert_file"`
	TLSKeyFile  string `toml:"tls_key_file"`
}

// OIDC is single sign-on with the operators' OpenID Connect provider.
type OIDC struct {
	// Issuer enables "Sign in with SSO": the IdP's issuer URL, whose
	// /.well-known/openid-configuration is read at the first SSO sign-in.
	Issuer   string `toml:"issuer"`
	ClientID string `toml:"client_id"`
	// ClientSecretEnv names the environment variable holding the client secret
	// (client_secret_basic); ignored when PrivateKeyFile is set.
	ClientSecretEnv string `toml:"client_secret_env"`
	// PrivateKeyFile is a PEM private key (RSA or EC P-256) for private_key_jwt
	// client authentication instead of a secret.
	PrivateKeyFile string   `toml:"private_key_file"`
	Scopes         []string `toml:"scopes"`
	// RoleClaim is the ID token claim (a string or a list of strings) whose
	// values Roles maps to console roles; the highest mapped role wins.
	RoleClaim string            `toml:"role_claim"`
	Roles     map[string]string `toml:"roles"`
	// AllowLocalLogin false leaves password sign-in to administrators only
	// (break-glass accounts); everyone else signs in with SSO.
	AllowLocalLogin bool `toml:"allow_local_login"`
}

// Enabled reports whether SSO is configured.
func (o *OIDC) Enabled() bool { return o.Issuer != "" }

func defaultOIDC() OIDC {
	return OIDC{
		ClientSecretEnv: "DCRCONSOLE_OIDC_CLIENT_SECRET",
		Scopes:          []string{"openid", "profile", "email"},
		RoleClaim:       "groups",
		Roles:           map[string]string{},
		AllowLocalLogin: true,
	}
}

// validateConsoleListener checks console.listen and its TLS files.
func (c *Config) validateConsoleListener() error {
	l := c.Console.ConsoleListener
	if (l.TLSCertFile == "") != (l.TLSKeyFile == "") {
		return errors.New("console.tls_cert_file and console.tls_key_file: set both or neither")
	}
	if l.Listen == "" {
		if l.TLSCertFile != "" {
			return errors.New("console.tls_cert_file: needs console.listen (the main listener uses tls.cert_file)")
		}
	} else {
		if _, _, err := net.SplitHostPort(l.Listen); err != nil {
			return fmt.Errorf("console.listen: %q is not host:port", l.Listen)
		}
		if l.Listen == c.Server.Listen {
			return fmt.Errorf("console.listen: %q is server.listen; give the console another address or leave it empty", l.Listen)
		}
	}
	for key, path := range map[string]string{"console.tls_cert_file": l.TLSCertFile, "console.tls_key_file": l.TLSKeyFile} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return nil
}

// ConsolePublicURL is the origin operators reach the console at (the base of
// the SSO redirect URI and the passkeys' origin): console.public_url, else the
// console's own listener when it has one (https with a certificate), else
// server.public_url.
func (c *Config) ConsolePublicURL() string {
	l := c.Console.ConsoleListener
	switch {
	case c.Console.PublicURL != "":
		return c.Console.PublicURL
	case l.Listen == "":
		return c.Server.PublicURL
	case l.TLSCertFile != "":
		return "https://" + l.Listen
	default:
		return "http://" + l.Listen
	}
}

// validateOIDC checks [console.oidc] when an issuer is set.
func (c *Config) validateOIDC() error {
	o := &c.Console.OIDC
	if !o.Enabled() {
		return nil
	}
	u, err := url.Parse(o.Issuer)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		(u.Scheme != "https" && (u.Scheme != "http" || !loopbackHost(u.Hostname()))) {
		return fmt.Errorf("console.oidc.issuer: %q is not an https URL (plain http only on a loopback address)", o.Issuer)
	}
	if strings.TrimSpace(o.ClientID) == "" {
		return errors.New("console.oidc.client_id: must not be empty when console.oidc.issuer is set")
	}
	if o.PrivateKeyFile != "" {
		if _, err := os.Stat(o.PrivateKeyFile); err != nil {
			return fmt.Errorf("console.oidc.private_key_file: %w", err)
		}
	} else if strings.TrimSpace(o.ClientSecretEnv) == "" {
		return errors.New("console.oidc.client_secret_env: must name an environment variable unless console.oidc.private_key_file is set")
	}
	if !slices.Contains(o.Scopes, "openid") {
		return fmt.Errorf("console.oidc.scopes: %q must include \"openid\"", o.Scopes)
	}
	if strings.TrimSpace(o.RoleClaim) == "" {
		return errors.New("console.oidc.role_claim: must not be empty when console.oidc.issuer is set")
	}
	if len(o.Roles) == 0 {
		return errors.New("console.oidc.roles: map at least one value of the role claim to a role (viewer, operator, admin); with none, nobody could sign in with SSO")
	}
	for group, role := range o.Roles {
		if strings.TrimSpace(group) == "" {
			return errors.New("console.oidc.roles: a claim value must not be empty")
		}
		if role != "viewer" && role != "operator" && role != "admin" {
			return fmt.Errorf("console.oidc.roles: %q maps to %q, which is not one of viewer, operator, admin", group, role)
		}
	}
	return nil
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
