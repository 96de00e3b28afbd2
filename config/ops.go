package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strings"
	"time"
)

// SMTPPasswordEnv names the environment variable that holds the SMTP password
// (alerts.smtp_username's): secrets stay out of the configuration file.
const SMTPPasswordEnv = "DCRCONSOLE_SMTP_PASSWORD"

// Alerts are the built-in alerts: evaluated in the product, delivered to a
// webhook and by mail, shown on the console's Alerts page.
type Alerts struct {
	WebhookURL string `toml:"webhook_url"`
	// WebhookFormat is "json" (an object per notification) or "slack"
	// ({"text": ...}, which Slack and Teams incoming webhooks accept).
	WebhookFormat string   `toml:"webhook_format"`
	SMTPAddr      string   `toml:"smtp_addr"` // host:port; STARTTLS when the server offers it
	SMTPFrom      string   `toml:"smtp_from"`
	SMTPTo        []string `toml:"smtp_to"`
	// SMTPUsername authenticates (PLAIN, over TLS only) with the password in
	// the environment variable DCRCONSOLE_SMTP_PASSWORD.
	SMTPUsername           string   `toml:"smtp_username"`
	RegisterSyncStaleAfter Duration `toml:"register_sync_stale_after"`
	RejectionRateThreshold float64  `toml:"rejection_rate_threshold"`
	RejectionWindow        Duration `toml:"rejection_window"`
	// RejectionMinAttempts keeps one refused attempt in a quiet window from paging anyone.
	RejectionMinAttempts int `toml:"rejection_min_attempts"`
	// SigningKeyMaxAge fires when the holder's signing key is older ("0" disables).
	SigningKeyMaxAge Duration `toml:"signing_key_max_age"`
	EvaluateEvery    Duration `toml:"evaluate_every"`
	// RepeatEvery re-sends a firing, unacknowledged alert ("0": never).
	RepeatEvery Duration `toml:"repeat_every"`
}

// Audit is the audit log's stream to a SIEM and its scheduled verification.
type Audit struct {
	// Stream is "", "stdout", "file:PATH" or "syslog+tls://host:port".
	Stream string `toml:"stream"`
	// StreamCAFile is the PEM CA bundle a syslog+tls receiver's certificate is
	// verified against ("" : the system roots); StreamServerName the name it
	// must carry ("" : the host of stream).
	StreamCAFile          string   `toml:"stream_ca_file"`
	StreamServerName      string   `toml:"stream_server_name"`
	StreamCheckpointEvery Duration `toml:"stream_checkpoint_every"`
	// VerifyEvery verifies the whole chain on a schedule ("0" disables).
	VerifyEvery Duration `toml:"verify_every"`
}

func defaultAlerts() Alerts {
	return Alerts{
		WebhookFormat:          "json",
		SMTPTo:                 []string{},
		RegisterSyncStaleAfter: Duration{15 * time.Minute},
		RejectionRateThreshold: 0.5,
		RejectionWindow:        Duration{15 * time.Minute},
		RejectionMinAttempts:   10,
		SigningKeyMaxAge:       Duration{90 * 24 * time.Hour},
		EvaluateEvery:          Duration{30 * time.Second},
		RepeatEvery:            Duration{time.Hour},
	}
}

func defaultAudit() Audit {
	return Audit{StreamCheckpointEvery: Duration{time.Hour}, VerifyEvery: Duration{24 * time.Hour}}
}

// validateOps checks [alerts] and [audit], naming the first bad key.
func (c *Config) validateOps() error {
	a := &c.Alerts
	if a.WebhookURL != "" {
		if err := absoluteHTTPURL("alerts.webhook_url", a.WebhookURL); err != nil {
			return err
		}
	}
	if a.WebhookFormat != "json" && a.WebhookFormat != "slack" {
		return fmt.Errorf("alerts.webhook_format: %q is not one of json, slack", a.WebhookFormat)
	}
	if err := a.validateSMTP(); err != nil {
		return err
	}
	for _, d := range []struct {
		key      string
		v        Duration
		min, max time.Duration
	}{
		{"alerts.register_sync_stale_after", a.RegisterSyncStaleAfter, time.Second, 7 * 24 * time.Hour},
		{"alerts.rejection_window", a.RejectionWindow, time.Second, 24 * time.Hour},
		{"alerts.evaluate_every", a.EvaluateEvery, 10 * time.Millisecond, time.Hour},
		{"alerts.repeat_every", a.RepeatEvery, 0, 7 * 24 * time.Hour},
		{"alerts.signing_key_max_age", a.SigningKeyMaxAge, 0, 10 * 365 * 24 * time.Hour},
		{"audit.stream_checkpoint_every", c.Audit.StreamCheckpointEvery, 10 * time.Millisecond, 24 * time.Hour},
		{"audit.verify_every", c.Audit.VerifyEvery, 0, 365 * 24 * time.Hour},
	} {
		if d.v.Duration < d.min || d.v.Duration > d.max {
			return fmt.Errorf("%s: %s is outside %s..%s", d.key, d.v, d.min, d.max)
		}
	}
	if a.RejectionRateThreshold <= 0 || a.RejectionRateThreshold > 1 {
		return fmt.Errorf("alerts.rejection_rate_threshold: %g is outside (0..1]", a.RejectionRateThreshold)
	}
	if a.RejectionMinAttempts < 1 {
		return fmt.Errorf("alerts.rejection_min_attempts: %d must be at least 1", a.RejectionMinAttempts)
	}
	return c.Audit.validate()
}

func (a *Alerts) validateSMTP() error {
	if a.SMTPAddr == "" {
		if a.SMTPFrom != "" || len(a.SMTPTo) > 0 || a.SMTPUsername != "" {
			return errors.New("alerts.smtp_addr: must be set when smtp_from, smtp_to or smtp_username is")
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(a.SMTPAddr); err != nil {
		return fmt.Errorf("alerts.smtp_addr: %q is not host:port", a.SMTPAddr)
	}
	if _, err := mail.ParseAddress(a.SMTPFrom); err != nil {
		return fmt.Errorf("alerts.smtp_from: %q is not a mail address", a.SMTPFrom)
	}
	if len(a.SMTPTo) == 0 {
		return errors.New("alerts.smtp_to: must list at least one address when smtp_addr is set")
	}
	for _, to := range a.SMTPTo {
		if _, err := mail.ParseAddress(to); err != nil {
			return fmt.Errorf("alerts.smtp_to: %q is not a mail address", to)
		}
	}
	return nil
}

func (a *Audit) validate() error {
	switch s := a.Stream; {
	case s == "", s == "stdout":
	case strings.HasPrefix(s, "file:"):
		if strings.TrimPrefix(s, "file:") == "" {
			return errors.New(`audit.stream: "file:" needs a path`)
		}
	case strings.HasPrefix(s, "syslog+tls://"):
		u, err := url.Parse(s)
		if err != nil || u.Hostname() == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("audit.stream: %q is not syslog+tls://host:port", s)
		}
	default:
		return fmt.Errorf(`audit.stream: %q is not one of "", "stdout", "file:PATH", "syslog+tls://host:port"`, s)
	}
	if a.StreamCAFile != "" {
		if _, err := os.Stat(a.StreamCAFile); err != nil {
			return fmt.Errorf("audit.stream_ca_file: %w", err)
		}
	}
	return nil
}
