package alerts

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"os"
	"strings"
	"time"
)

// Mail sends each notification by SMTP (net/smtp), upgrading to TLS with
// STARTTLS whenever the server offers it, and authenticating (PLAIN, which
// net/smtp sends only over TLS or to localhost) when Username is set.
type Mail struct {
	Addr     string // host:port
	From     string
	To       []string
	Username string
	Password string
	RootCAs  *x509.CertPool // nil: the system roots
}

// Name is "smtp".
func (m *Mail) Name() string { return "smtp" }

// Send delivers n to every recipient in one transaction.
func (m *Mail) Send(ctx context.Context, n Notification) error {
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return err
	}
	conn, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := m.session(c, host, n); err != nil {
		return err
	}
	return c.Quit()
}

func (m *Mail) session(c *smtp.Client, host string, n Notification) error {
	local, _ := os.Hostname()
	if local == "" {
		local = "localhost"
	}
	if err := c.Hello(local); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, RootCAs: m.RootCAs, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if m.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the SMTP server offers no AUTH, but alerts.smtp_username is set")
		}
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return err
	}
	for _, to := range m.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("rcpt %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(m.message(n)); err != nil {
		return err
	}
	return w.Close()
}

// message is the RFC 5322 message of n. The subject is fixed text; the body,
// which quotes error messages, never reaches a header.
func (m *Mail) message(n Notification) []byte {
	state := strings.ToUpper(n.Status)
	if n.Repeat {
		state = "STILL FIRING"
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	domain := "dcrconsole"
	if at := strings.LastIndex(m.From, "@"); at >= 0 {
		domain = strings.Trim(m.From[at+1:], "> ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", m.From)
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(m.To, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", "[dcrconsole] "+state+": "+n.Kind.Title()))
	fmt.Fprintf(&b, "Date: %s\r\n", n.Time.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id[:]), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	body := fmt.Sprintf("%s\n\nAlert:   %s (%s)\nStatus:  %s\nSince:   %s\nMessage: %s\nServer:  %s\n",
		Text(n), n.Kind.Title(), n.Kind, state, n.Since.UTC().Format(time.RFC3339), n.Message, n.Server)
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(body, "\r", ""), "\n", "\r\n"))
	return []byte(b.String())
}
