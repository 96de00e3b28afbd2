package web

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/fetch"
	"github.com/dcrconsole/dcrconsole/sso"
	"github.com/dcrconsole/dcrconsole/store"
)

// SSOCallbackPath is the console's redirect URI path, registered at the IdP
// after the console's public URL.
const SSOCallbackPath = "/console/sso/callback"

// newSSO is the console's OpenID Connect relying party, or nil without
// console.oidc.issuer. The issuer is the operator's choice, so its requests do
// not go through the guarded fetcher (public addresses only): a corporate IdP
// is often on an internal network. They are bounded by outbound.timeout and
// trust the system roots plus outbound.ca_file.
func newSSO(cfg config.Config, db *store.DB, opts BuildOptions) (*sso.Client, error) {
	o := cfg.Console.OIDC
	if !cfg.Console.Enabled || !o.Enabled() {
		return nil, nil
	}
	so := sso.Options{Issuer: o.Issuer, ClientID: o.ClientID, Scopes: o.Scopes, RoleClaim: o.RoleClaim, Roles: o.Roles,
		RedirectURL: cfg.ConsolePublicURL() + SSOCallbackPath,
		Once: func(ctx context.Context, state string, until time.Time) error {
			return db.ConsumeOnce(ctx, store.JTISSOState, state, until)
		}}
	if o.PrivateKeyFile != "" {
		pem, err := os.ReadFile(o.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("console.oidc.private_key_file: %w", err)
		}
		if so.PrivateKey, err = sso.ParsePrivateKey(pem); err != nil {
			return nil, fmt.Errorf("console.oidc.private_key_file: %w", err)
		}
	} else if so.ClientSecret = os.Getenv(o.ClientSecretEnv); so.ClientSecret == "" {
		return nil, fmt.Errorf("console.oidc.client_secret_env: the environment variable %s is empty; set it to the client secret, or set console.oidc.private_key_file", o.ClientSecretEnv)
	}
	roots := opts.RootCAs
	if roots == nil {
		var err error
		if roots, err = x509.SystemCertPool(); err != nil {
			roots = x509.NewCertPool()
		}
	}
	if extra, err := fetch.LoadCAFile(cfg.Outbound.CAFile); err != nil {
		return nil, err
	} else if len(extra) > 0 {
		roots = roots.Clone()
		roots.AppendCertsFromPEM(extra)
	}
	so.HTTPClient = &http.Client{Timeout: cfg.Outbound.Timeout.Duration, Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: cfg.Outbound.Timeout.Duration, ResponseHeaderTimeout: cfg.Outbound.Timeout.Duration}}
	return sso.New(so)
}
