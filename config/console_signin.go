package config

import (
	"fmt"
	"net/url"
	"strings"
)

// ConsoleSignIn is how local accounts sign in to the console: second factors
// and the public address passkeys are bound to (keys of [console]).
type ConsoleSignIn struct {
	// RequireMFA is which local accounts must have a second factor: "none",
	// "admin" (default) or "all".
	RequireMFA string `toml:"require_mfa"`
	// PublicURL is the URL operators open the console at (scheme://host[:port]);
	// its host is the passkeys' relying party id and its origin the only one
	// they accept, and the base of the SSO redirect URI. "" (default): see
	// Config.ConsolePublicURL (config/console.go).
	PublicURL string `toml:"public_url"`
	// MFAKeyFile holds the key that seals TOTP secrets and keys the hashes of
	// recovery codes, outside the database; created on first start when
	// missing. "" (default): database.path + ".mfa-key".
	MFAKeyFile string `toml:"mfa_key_file"`
}

func defaultConsoleSignIn() ConsoleSignIn { return ConsoleSignIn{RequireMFA: "admin"} }

// MFAKeyEnv provides the MFA key (64 hex digits) instead of a file; it wins
// over console.mfa_key_file, so a secret store can hand it to every replica.
const MFAKeyEnv = "DCRCONSOLE_MFA_KEY"

// MFAKeyPath is the MFA key file: console.mfa_key_file, or beside the SQLite
// database; "" on PostgreSQL, whose replicas must be given one shared key
// (console.mfa_key_file or DCRCONSOLE_MFA_KEY).
func (c *Config) MFAKeyPath() string {
	switch {
	case c.Console.MFAKeyFile != "":
		return c.Console.MFAKeyFile
	case c.Database.Postgres():
		return ""
	}
	return c.Database.Path + ".mfa-key"
}

func (c *Config) validateConsoleSignIn() error {
	switch c.Console.RequireMFA {
	case "none", "admin", "all":
	default:
		return fmt.Errorf("console.require_mfa: %q is not one of none, admin, all", c.Console.RequireMFA)
	}
	if c.Console.PublicURL != "" {
		if err := absoluteHTTPURL("console.public_url", c.Console.PublicURL); err != nil {
			return err
		}
		u, _ := url.Parse(c.Console.PublicURL)
		if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
			return fmt.Errorf("console.public_url: %q must be an origin (scheme://host[:port]) without a path", c.Console.PublicURL)
		}
		c.Console.PublicURL = strings.TrimRight(c.Console.PublicURL, "/")
	}
	return nil
}
