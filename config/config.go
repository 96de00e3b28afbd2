// Package config loads and validates dcrconsole's TOML configuration. The struct
// here is the single source of defaults; config.example.toml documents it.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Duration is a time.Duration written in TOML as a Go duration string ("30s", "5m").
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (use a Go duration such as \"30s\" or \"5m\")", string(b))
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Config is the whole configuration of one dcrconsole process.
type Config struct {
	Server   Server   `toml:"server"`
	Holder   Holder   `toml:"holder"`
	Database Database `toml:"database"`
	Register Register `toml:"register"`
	Outbound Outbound `toml:"outbound"`
	TLS      TLS      `toml:"tls"`
	MTLS     MTLS     `toml:"mtls"`
	Console  Console  `toml:"console"`
	Metrics  Metrics  `toml:"metrics"` // config/metrics.go
	API      API      `toml:"api"`
	Log      Log      `toml:"log"`
	Alerts   Alerts   `toml:"alerts"` // config/ops.go
	Audit    Audit    `toml:"audit"`  // config/ops.go
}

// API is the Authlete-compatible registration processing API under /api/{service_id}.
type API struct {
	Enabled   bool   `toml:"enabled"`
	ServiceID string `toml:"service_id"`
	// RotateRegistrationAccessToken issues a new RAT on every update.
	RotateRegistrationAccessToken bool `toml:"rotate_registration_access_token"`
}

// Console is the operator web console under /console.
type Console struct {
	Enabled bool `toml:"enabled"`
	// SessionIdleTimeout ends a session unused this long; SessionAbsoluteTimeout
	// ends any session this long after login.
	SessionIdleTimeout     Duration `toml:"session_idle_timeout"`
	SessionAbsoluteTimeout Duration `toml:"session_absolute_timeout"`
	// DisplayTimezone is the IANA zone the console shows times in (UTC on
	// hover and in exports); see console_display.go.
	DisplayTimezone string `toml:"display_timezone"`
	// ConsoleListener (config/console.go): listen, tls_cert_file, tls_key_file.
	ConsoleListener
	// ConsoleSignIn (config/console_signin.go): MFA, public_url, MFA key.
	ConsoleSignIn
	OIDC OIDC `toml:"oidc"`
}

// TLS terminates HTTPS in the server itself.
type TLS struct {
	CertFile     string `toml:"cert_file"`
	KeyFile      string `toml:"key_file"`
	ClientCAFile string `toml:"client_ca_file"`
	// ClientAuth is none, request (verify a certificate when one is presented) or require.
	ClientAuth string `toml:"client_auth"`
}

// MTLS takes the client-certificate thumbprint from a TLS-terminating gateway.
type MTLS struct {
	// ThumbprintHeader carries the base64url SHA-256 of the client certificate.
	ThumbprintHeader string `toml:"thumbprint_header"`
	// TrustedProxies may set ThumbprintHeader; from anyone else it is ignored.
	TrustedProxies []string `toml:"trusted_proxies"`
}

// MTLSEnabled reports whether the holder requires and binds client certificates.
func (c *Config) MTLSEnabled() bool {
	return c.TLS.ClientAuth == "request" || c.TLS.ClientAuth == "require" || c.MTLS.ThumbprintHeader != ""
}

// Server is the HTTP listener.
type Server struct {
	Listen         string   `toml:"listen"`
	PublicURL      string   `toml:"public_url"`
	TrustedProxies []string `toml:"trusted_proxies"`
	MaxBodyBytes   int64    `toml:"max_body_bytes"`
	// MemoryLimitBytes is the Go runtime's soft memory limit (0: none); the
	// GOMEMLIMIT environment variable, when set, wins.
	MemoryLimitBytes int64 `toml:"memory_limit_bytes"`
}

// Holder describes the Data Holder's authorisation server.
type Holder struct {
	Issuer                      string   `toml:"issuer"`
	ScopesSupported             []string `toml:"scopes_supported"`
	ResponseTypesSupported      []string `toml:"response_types_supported"`
	JARMEncryption              bool     `toml:"jarm_encryption"`
	ClockSkew                   Duration `toml:"clock_skew"`
	AllowDuplicateRegistrations bool     `toml:"allow_duplicate_registrations"`
	// SigningAlg signs the holder's access tokens: ES256 or PS256.
	SigningAlg     string   `toml:"signing_alg"`
	AccessTokenTTL Duration `toml:"access_token_ttl"`
	// HolderEndpoints (config/holder.go) are the authorisation server endpoints discovery carries.
	HolderEndpoints
}

// Register locates the CDR Register.
type Register struct {
	JWKSURI         string   `toml:"jwks_uri"`
	BaseURI         string   `toml:"base_uri"`
	Industry        string   `toml:"industry"`
	CheckStatus     bool     `toml:"check_status"`
	RefreshInterval Duration `toml:"refresh_interval"`
	// MaxResponseBytes bounds every answer from the Register (data recipients,
	// statuses, JWKS): 65536..268435456. The Register is trusted and its data
	// grows with the ecosystem, so it has its own limit, far above the ADRs'.
	MaxResponseBytes int64 `toml:"max_response_bytes"`
}

// Outbound bounds every fetch dcrconsole makes (Register, ADR JWKS, sector
// identifiers); MaxResponseBytes applies to URLs an ADR controls, the Register
// has register.max_response_bytes.
type Outbound struct {
	Timeout              Duration `toml:"timeout"`
	MaxResponseBytes     int64    `toml:"max_response_bytes"`
	CAFile               string   `toml:"ca_file"`
	AllowPrivateNetworks bool     `toml:"allow_private_networks"`
	JWKSCacheTTL         Duration `toml:"jwks_cache_ttl"`
	// MaxRSAKeyBits is the largest RSA modulus kept from a JWKS (Register and
	// ADRs) and verified with: 2048..8192. Larger keys cost far more CPU per
	// verification, also for a bogus JWT, so they are dropped when the JWKS is read.
	MaxRSAKeyBits int `toml:"max_rsa_key_bits"`
}

// Log selects the log format and level.
type Log struct {
	Format string `toml:"format"`
	Level  string `toml:"level"`
}

// DefaultScopes are the CDR scopes a holder supports unless configured otherwise.
var DefaultScopes = []string{
	"openid", "profile", "cdr:registration",
	"common:customer.basic:read", "common:customer.detail:read",
	"bank:accounts.basic:read", "bank:accounts.detail:read", "bank:transactions:read",
	"bank:payees:read", "bank:regular_payments:read",
	"energy:electricity.servicepoints.basic:read", "energy:electricity.servicepoints.detail:read",
	"energy:electricity.usage:read", "energy:electricity.der:read",
	"energy:accounts.basic:read", "energy:accounts.detail:read",
	"energy:accounts.paymentschedule:read", "energy:accounts.concessions:read",
	"energy:billing:read",
}

// Default returns the configuration used for every key the file leaves out.
func Default() Config {
	return Config{
		Server: Server{Listen: "127.0.0.1:8080", PublicURL: "http://127.0.0.1:8080", MaxBodyBytes: 64 << 10},
		Holder: Holder{
			Issuer:                 "http://127.0.0.1:8080",
			ScopesSupported:        append([]string(nil), DefaultScopes...),
			ResponseTypesSupported: []string{"code"},
			ClockSkew:              Duration{30 * time.Second},
			SigningAlg:             "ES256",
			AccessTokenTTL:         Duration{300 * time.Second},
			HolderEndpoints:        defaultHolderEndpoints(),
		},
		Database: defaultDatabase(),
		Register: Register{
			JWKSURI:          "https://api.cdr.gov.au/cdr-register/v1/jwks",
			BaseURI:          "https://api.cdr.gov.au/cdr-register/v1",
			Industry:         "all",
			CheckStatus:      true,
			RefreshInterval:  Duration{5 * time.Minute},
			MaxResponseBytes: 32 << 20,
		},
		Outbound: Outbound{
			Timeout:          Duration{10 * time.Second},
			MaxResponseBytes: 1 << 20,
			JWKSCacheTTL:     Duration{5 * time.Minute},
			MaxRSAKeyBits:    4096,
		},
		TLS: TLS{ClientAuth: "none"},
		Console: Console{
			Enabled:                true,
			SessionIdleTimeout:     Duration{30 * time.Minute},
			SessionAbsoluteTimeout: Duration{12 * time.Hour},
			DisplayTimezone:        DefaultDisplayTimezone,
			ConsoleSignIn:          defaultConsoleSignIn(),
			OIDC:                   defaultOIDC(),
		},
		Log:    Log{Format: "text", Level: "info"},
		Alerts: defaultAlerts(),
		Audit:  defaultAudit(),
	}
}

// Load reads a TOML file over the defaults and validates the result. Unknown keys
// and bad values are errors that name the key.
func Load(path string) (Config, error) {
	cfg := Default()
	if path == "" {
		cfg.Database.applyEnv()
		return cfg, cfg.Validate()
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if cfg, err = decode(string(raw), path); err != nil {
		return cfg, err
	}
	cfg.Database.applyEnv()
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes TOML text (name is used in messages) over the defaults and validates it.
func Parse(text, name string) (Config, error) {
	cfg, err := decode(text, name)
	if err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config %s: %w", name, err)
	}
	return cfg, nil
}

// decode decodes TOML text over the defaults, refusing unknown keys.
func decode(text, name string) (Config, error) {
	cfg := Default()
	md, err := toml.Decode(text, &cfg)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			if perr.LastKey != "" {
				return cfg, fmt.Errorf("config %s: %s: %s (line %d)", name, perr.LastKey, perr.Message, perr.Position.Line)
			}
			return cfg, fmt.Errorf("config %s: %s", name, perr.ErrorWithPosition())
		}
		return cfg, fmt.Errorf("config %s: %w", name, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		keys := make([]string, len(undecoded))
		for i, k := range undecoded {
			keys[i] = k.String()
		}
		return cfg, fmt.Errorf("config %s: unknown key(s): %s", name, strings.Join(keys, ", "))
	}
	return cfg, nil
}

// Validate checks every value and names the first key that is wrong.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
		return fmt.Errorf("server.listen: %q is not host:port", c.Server.Listen)
	}
	if err := absoluteHTTPURL("server.public_url", c.Server.PublicURL); err != nil {
		return err
	}
	c.Server.PublicURL = strings.TrimRight(c.Server.PublicURL, "/")
	for _, p := range c.Server.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return fmt.Errorf("server.trusted_proxies: %q is neither an IP address nor a CIDR", p)
			}
		}
	}
	if c.Server.MaxBodyBytes < 1024 || c.Server.MaxBodyBytes > 1<<20 {
		return fmt.Errorf("server.max_body_bytes: %d is outside 1024..1048576", c.Server.MaxBodyBytes)
	}
	if l := c.Server.MemoryLimitBytes; l != 0 && (l < 16<<20 || l > 1<<40) {
		return fmt.Errorf("server.memory_limit_bytes: %d is neither 0 (no limit) nor within 16777216..1099511627776", l)
	}
	if strings.TrimSpace(c.Holder.Issuer) == "" {
		return errors.New("holder.issuer: must not be empty")
	}
	if len(c.Holder.ScopesSupported) == 0 {
		return errors.New("holder.scopes_supported: must list at least one scope")
	}
	if len(c.Holder.ResponseTypesSupported) == 0 {
		return errors.New("holder.response_types_supported: must list at least one response type")
	}
	for _, rt := range c.Holder.ResponseTypesSupported {
		if rt != "code" && rt != "code id_token" {
			return fmt.Errorf("holder.response_types_supported: %q is not one of \"code\", \"code id_token\"", rt)
		}
	}
	if c.Holder.ClockSkew.Duration < 0 || c.Holder.ClockSkew.Duration > 5*time.Minute {
		return fmt.Errorf("holder.clock_skew: %s is outside 0s..5m", c.Holder.ClockSkew)
	}
	if c.Holder.SigningAlg != "ES256" && c.Holder.SigningAlg != "PS256" {
		return fmt.Errorf("holder.signing_alg: %q is not one of ES256, PS256", c.Holder.SigningAlg)
	}
	if c.Holder.AccessTokenTTL.Duration < 2*time.Minute || c.Holder.AccessTokenTTL.Duration > 10*time.Minute {
		return fmt.Errorf("holder.access_token_ttl: %s is outside 2m..10m", c.Holder.AccessTokenTTL)
	}
	if err := c.Holder.validateEndpoints(); err != nil {
		return err
	}
	if err := c.Database.validate(); err != nil {
		return err
	}
	if err := absoluteHTTPURL("register.jwks_uri", c.Register.JWKSURI); err != nil {
		return err
	}
	if err := absoluteHTTPURL("register.base_uri", c.Register.BaseURI); err != nil {
		return err
	}
	c.Register.BaseURI = strings.TrimRight(c.Register.BaseURI, "/")
	switch c.Register.Industry {
	case "all", "banking", "energy", "telco":
	default:
		return fmt.Errorf("register.industry: %q is not one of all, banking, energy, telco", c.Register.Industry)
	}
	if c.Register.RefreshInterval.Duration < 10*time.Second || c.Register.RefreshInterval.Duration > 5*time.Minute {
		return fmt.Errorf("register.refresh_interval: %s is outside 10s..5m (holders must react within 5 minutes)", c.Register.RefreshInterval)
	}
	if c.Register.MaxResponseBytes < 64<<10 || c.Register.MaxResponseBytes > 256<<20 {
		return fmt.Errorf("register.max_response_bytes: %d is outside 65536..268435456", c.Register.MaxResponseBytes)
	}
	if c.Outbound.Timeout.Duration <= 0 || c.Outbound.Timeout.Duration > time.Minute {
		return fmt.Errorf("outbound.timeout: %s is outside (0s..1m]", c.Outbound.Timeout)
	}
	if c.Outbound.MaxResponseBytes < 1024 || c.Outbound.MaxResponseBytes > 64<<20 {
		return fmt.Errorf("outbound.max_response_bytes: %d is outside 1024..67108864", c.Outbound.MaxResponseBytes)
	}
	if c.Outbound.CAFile != "" {
		if _, err := os.Stat(c.Outbound.CAFile); err != nil {
			return fmt.Errorf("outbound.ca_file: %w", err)
		}
	}
	if c.Outbound.JWKSCacheTTL.Duration < time.Second || c.Outbound.JWKSCacheTTL.Duration > 24*time.Hour {
		return fmt.Errorf("outbound.jwks_cache_ttl: %s is outside 1s..24h", c.Outbound.JWKSCacheTTL)
	}
	if c.Outbound.MaxRSAKeyBits < 2048 || c.Outbound.MaxRSAKeyBits > 8192 {
		return fmt.Errorf("outbound.max_rsa_key_bits: %d is outside 2048..8192", c.Outbound.MaxRSAKeyBits)
	}
	if err := c.validateTLS(); err != nil {
		return err
	}
	if c.Console.SessionIdleTimeout.Duration < time.Minute || c.Console.SessionIdleTimeout.Duration > 24*time.Hour {
		return fmt.Errorf("console.session_idle_timeout: %s is outside 1m..24h", c.Console.SessionIdleTimeout)
	}
	if c.Console.SessionAbsoluteTimeout.Duration < c.Console.SessionIdleTimeout.Duration || c.Console.SessionAbsoluteTimeout.Duration > 7*24*time.Hour {
		return fmt.Errorf("console.session_absolute_timeout: %s must be at least the idle timeout and at most 168h", c.Console.SessionAbsoluteTimeout)
	}
	if err := c.Console.validateDisplay(); err != nil {
		return err
	}
	if err := c.validateConsoleSignIn(); err != nil {
		return err
	}
	if err := c.validateConsoleListener(); err != nil {
		return err
	}
	if err := c.validateOIDC(); err != nil {
		return err
	}
	if err := c.validateMetrics(); err != nil {
		return err
	}
	if c.API.Enabled {
		if c.API.ServiceID == "" || strings.ContainsAny(c.API.ServiceID, "/?#% ") || len(c.API.ServiceID) > 64 {
			return fmt.Errorf("api.service_id: %q must be 1 to 64 characters without '/', '?', '#', '%%' or spaces when the API is enabled", c.API.ServiceID)
		}
	}
	if err := c.validateOps(); err != nil {
		return err
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format: %q is not one of text, json", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	return nil
}

func absoluteHTTPURL(key, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s: %q is not an absolute http(s) URL", key, raw)
	}
	return nil
}

func (c *Config) validateTLS() error {
	switch c.TLS.ClientAuth {
	case "none", "request", "require":
	default:
		return fmt.Errorf("tls.client_auth: %q is not one of none, request, require", c.TLS.ClientAuth)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return errors.New("tls.cert_file and tls.key_file: set both or neither")
	}
	for key, path := range map[string]string{"tls.cert_file": c.TLS.CertFile, "tls.key_file": c.TLS.KeyFile, "tls.client_ca_file": c.TLS.ClientCAFile} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	if c.TLS.ClientAuth != "none" {
		if c.TLS.CertFile == "" {
			return fmt.Errorf("tls.client_auth: %q needs tls.cert_file and tls.key_file (the server must terminate TLS)", c.TLS.ClientAuth)
		}
		if c.TLS.ClientCAFile == "" {
			return fmt.Errorf("tls.client_auth: %q needs tls.client_ca_file to verify client certificates", c.TLS.ClientAuth)
		}
		if c.MTLS.ThumbprintHeader != "" {
			return errors.New("mtls.thumbprint_header: cannot be combined with tls.client_auth; choose direct TLS or a gateway")
		}
	}
	if c.MTLS.ThumbprintHeader != "" && len(c.MTLS.TrustedProxies) == 0 {
		return errors.New("mtls.trusted_proxies: must list the gateway addresses allowed to set mtls.thumbprint_header")
	}
	for _, p := range c.MTLS.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return fmt.Errorf("mtls.trusted_proxies: %q is neither an IP address nor a CIDR", p)
			}
		}
	}
	return nil
}
