package config

import (
	"strings"
	"testing"
	"time"
)

func TestOpsKeysNameTheKey(t *testing.T) {
	tests := []struct{ name, toml, wantKey string }{
		{"webhook not a url", "[alerts]\nwebhook_url = \"hooks\"", "alerts.webhook_url"},
		{"webhook format", "[alerts]\nwebhook_format = \"xml\"", "alerts.webhook_format"},
		{"smtp addr without port", "[alerts]\nsmtp_addr = \"mail\"\nsmtp_from = \"a@b.c\"\nsmtp_to = [\"d@e.f\"]", "alerts.smtp_addr"},
		{"smtp without from", "[alerts]\nsmtp_addr = \"mail:25\"\nsmtp_to = [\"d@e.f\"]", "alerts.smtp_from"},
		{"smtp without to", "[alerts]\nsmtp_addr = \"mail:25\"\nsmtp_from = \"a@b.c\"", "alerts.smtp_to"},
		{"smtp bad to", "[alerts]\nsmtp_addr = \"mail:25\"\nsmtp_from = \"a@b.c\"\nsmtp_to = [\"nobody\"]", "alerts.smtp_to"},
		{"smtp to without addr", "[alerts]\nsmtp_to = [\"d@e.f\"]", "alerts.smtp_addr"},
		{"stale after zero", "[alerts]\nregister_sync_stale_after = \"0\"", "alerts.register_sync_stale_after"},
		{"threshold over 1", "[alerts]\nrejection_rate_threshold = 1.5", "alerts.rejection_rate_threshold"},
		{"threshold zero", "[alerts]\nrejection_rate_threshold = 0.0", "alerts.rejection_rate_threshold"},
		{"window too long", "[alerts]\nrejection_window = \"48h\"", "alerts.rejection_window"},
		{"min attempts", "[alerts]\nrejection_min_attempts = 0", "alerts.rejection_min_attempts"},
		{"negative key age", "[alerts]\nsigning_key_max_age = \"-1h\"", "alerts.signing_key_max_age"},
		{"evaluate too often", "[alerts]\nevaluate_every = \"1ms\"", "alerts.evaluate_every"},
		{"stream scheme", "[audit]\nstream = \"syslog://siem:514\"", "audit.stream"},
		{"stream file without path", "[audit]\nstream = \"file:\"", "audit.stream"},
		{"stream syslog without port", "[audit]\nstream = \"syslog+tls://siem\"", "audit.stream"},
		{"stream ca file", "[audit]\nstream_ca_file = \"/does/not/exist.pem\"", "audit.stream_ca_file"},
		{"verify negative", "[audit]\nverify_every = \"-1s\"", "audit.verify_every"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.toml, "test.toml")
			if err == nil {
				t.Fatal("expected an error")
			}
			if !strings.Contains(err.Error(), tc.wantKey) {
				t.Errorf("error %q does not name %q", err, tc.wantKey)
			}
		})
	}
}

func TestOpsKeysParse(t *testing.T) {
	cfg, err := Parse(`[alerts]
webhook_url = "https://hooks.example/x"
webhook_format = "slack"
smtp_addr = "mail.example:587"
smtp_from = "dcr@bank.example"
smtp_to = ["ops@bank.example", "Sec <sec@bank.example>"]
smtp_username = "dcr"
register_sync_stale_after = "5m"
rejection_rate_threshold = 0.25
rejection_window = "10m"
[audit]
stream = "syslog+tls://siem.example:6514"
stream_server_name = "siem"
verify_every = "0"
`, "ops.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Alerts.WebhookFormat != "slack" || len(cfg.Alerts.SMTPTo) != 2 || cfg.Alerts.RejectionRateThreshold != 0.25 ||
		cfg.Alerts.RegisterSyncStaleAfter.Duration != 5*time.Minute || cfg.Audit.VerifyEvery.Duration != 0 ||
		cfg.Audit.Stream != "syslog+tls://siem.example:6514" {
		t.Errorf("parsed %+v %+v", cfg.Alerts, cfg.Audit)
	}
}
