package alerts

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Webhook posts each notification as JSON: an object of its own ("json") or
// {"text": ...}, which Slack and Microsoft Teams incoming webhooks accept ("slack").
type Webhook struct {
	URL    string
	Format string // "json" or "slack"
	client *http.Client
}

// NewWebhook returns the webhook channel; rootCAs nil means the system roots.
func NewWebhook(url, format string, rootCAs *x509.CertPool) *Webhook {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: rootCAs, MinVersion: tls.VersionTLS12}
	return &Webhook{URL: url, Format: format, client: &http.Client{Transport: tr, Timeout: 15 * time.Second,
		// A webhook that redirects is misconfigured; following could post alerts elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Name is "webhook".
func (w *Webhook) Name() string { return "webhook" }

// WebhookPayload is the "json" body.
type WebhookPayload struct {
	AlertID int64  `json:"alert_id"`
	Alert   string `json:"alert"`
	Title   string `json:"title"`
	Status  string `json:"status"`
	Repeat  bool   `json:"repeat"`
	Message string `json:"message"`
	Since   string `json:"since"`
	Time    string `json:"time"`
	Server  string `json:"server"`
}

// Send posts n; any status but 2xx is a failure.
func (w *Webhook) Send(ctx context.Context, n Notification) error {
	var body any = WebhookPayload{AlertID: n.AlertID, Alert: string(n.Kind), Title: n.Kind.Title(), Status: n.Status,
		Repeat: n.Repeat, Message: n.Message, Since: n.Since.UTC().Format(time.RFC3339), Time: n.Time.UTC().Format(time.RFC3339),
		Server: n.Server}
	if w.Format == "slack" {
		body = map[string]string{"text": Text(n)}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "dcrconsole-alerts")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// Text is n in one line of text: the Slack/Teams message and the mail's first line.
func Text(n Notification) string {
	state := strings.ToUpper(n.Status)
	if n.Repeat {
		state = "STILL FIRING"
	}
	s := fmt.Sprintf("[%s] %s: %s (since %s)", state, n.Kind.Title(), n.Message, n.Since.UTC().Format(time.RFC3339))
	if n.Server != "" {
		s += " on " + n.Server
	}
	return s
}
