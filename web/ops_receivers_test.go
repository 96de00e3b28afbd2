package web

// Real receivers for the operations tests: a webhook (httptest), an SMTP
// server (go-smtp, with STARTTLS) and a syslog-over-TLS listener that reads
// RFC 5425 octet-counted RFC 5424 messages.

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dcrconsole/dcrconsole/alerts"
)

// waitFor polls cond until it holds or the deadline passes: conditions, never timings.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// webhookReceiver records every JSON body posted to it.
type webhookReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []alerts.WebhookPayload
	fail int // answer 503 to this many posts first
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	w := &webhookReceiver{}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var p alerts.WebhookPayload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(rw, "bad body", http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.fail > 0 {
			w.fail--
			http.Error(rw, "try later", http.StatusServiceUnavailable)
			return
		}
		w.got = append(w.got, p)
	}))
	t.Cleanup(w.Close)
	return w
}

// find returns the first payload about kind with status, if any.
func (w *webhookReceiver) find(kind alerts.Kind, status string) (alerts.WebhookPayload, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.got {
		if p.Alert == string(kind) && p.Status == status {
			return p, true
		}
	}
	return alerts.WebhookPayload{}, false
}

// smtpReceiver is an in-process SMTP server that keeps every message.
type smtpReceiver struct {
	srv  *smtp.Server
	ln   net.Listener
	mu   sync.Mutex
	msgs []smtpMessage
}

type smtpMessage struct {
	From string
	To   []string
	Data string
	TLS  bool
}

// newSMTPReceiver listens now; serve starts it once its TLS is known.
func newSMTPReceiver(t *testing.T) *smtpReceiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &smtpReceiver{ln: ln}
	r.srv = smtp.NewServer(r)
	r.srv.Domain = "127.0.0.1"
	r.srv.ReadTimeout, r.srv.WriteTimeout = 10*time.Second, 10*time.Second
	t.Cleanup(func() { r.srv.Close() })
	return r
}

func (r *smtpReceiver) Addr() string { return r.ln.Addr().String() }

func (r *smtpReceiver) serve(tc *tls.Config) {
	r.srv.TLSConfig = tc
	go r.srv.Serve(r.ln)
}

func (r *smtpReceiver) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{r: r, c: c}, nil
}

func (r *smtpReceiver) messages() []smtpMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]smtpMessage(nil), r.msgs...)
}

type smtpSession struct {
	r    *smtpReceiver
	c    *smtp.Conn
	from string
	to   []string
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *smtpSession) Data(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	_, isTLS := s.c.TLSConnectionState()
	s.r.mu.Lock()
	s.r.msgs = append(s.r.msgs, smtpMessage{From: s.from, To: s.to, Data: string(b), TLS: isTLS})
	s.r.mu.Unlock()
	return nil
}

// syslogReceiver is a syslog-over-TLS listener (RFC 5425) that can be stopped
// and started again on the same address.
type syslogReceiver struct {
	t    *testing.T
	addr string
	tc   *tls.Config

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
	msgs  []syslogMessage
	bad   []string
}

// syslogMessage is one RFC 5424 message: its header fields and the JSON MSG.
type syslogMessage struct {
	PRI, Timestamp, Host, App, ProcID, MsgID string
	MSG                                      string
}

func newSyslogReceiver(t *testing.T) *syslogReceiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &syslogReceiver{t: t, addr: ln.Addr().String(), ln: ln}
	t.Cleanup(r.stop)
	return r
}

// start serves on the listener (the first time) or listens again on the same address.
func (r *syslogReceiver) start(tc *tls.Config) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tc = tc
	if r.ln == nil {
		ln, err := net.Listen("tcp", r.addr)
		if err != nil {
			r.t.Fatal(err)
		}
		r.ln = ln
	}
	go r.accept(tls.NewListener(r.ln, tc))
}

// stop closes the listener and every connection: the receiver is down.
func (r *syslogReceiver) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
	}
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

func (r *syslogReceiver) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.conns = append(r.conns, c)
		r.mu.Unlock()
		go r.read(c)
	}
}

// read parses octet-counted frames: "LEN SP MSG".
func (r *syslogReceiver) read(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		lenText, err := br.ReadString(' ')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSuffix(lenText, " "))
		if err != nil || n <= 0 || n > 1<<20 {
			r.record(syslogMessage{}, fmt.Sprintf("bad frame length %q", lenText))
			return
		}
		frame := make([]byte, n)
		if _, err := io.ReadFull(br, frame); err != nil {
			return // the connection died mid-frame: the sender must resend
		}
		m, err := parseRFC5424(string(frame))
		if err != nil {
			r.record(m, err.Error())
			continue
		}
		r.record(m, "")
	}
}

func (r *syslogReceiver) record(m syslogMessage, bad string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if bad != "" {
		r.bad = append(r.bad, bad)
		return
	}
	r.msgs = append(r.msgs, m)
}

func (r *syslogReceiver) messages() ([]syslogMessage, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]syslogMessage(nil), r.msgs...), append([]string(nil), r.bad...)
}

// parseRFC5424 splits "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG".
func parseRFC5424(s string) (syslogMessage, error) {
	f := strings.SplitN(s, " ", 8)
	if len(f) != 8 {
		return syslogMessage{}, fmt.Errorf("not RFC 5424: %q", s)
	}
	if !strings.HasPrefix(f[0], "<") || !strings.HasSuffix(f[0], ">1") {
		return syslogMessage{}, fmt.Errorf("bad PRI/VERSION %q", f[0])
	}
	if _, err := time.Parse(time.RFC3339Nano, f[1]); err != nil {
		return syslogMessage{}, fmt.Errorf("bad TIMESTAMP %q", f[1])
	}
	if f[6] != "-" {
		return syslogMessage{}, errors.New("unexpected STRUCTURED-DATA " + f[6])
	}
	return syslogMessage{PRI: strings.TrimSuffix(f[0], "1"), Timestamp: f[1], Host: f[2], App: f[3], ProcID: f[4], MsgID: f[5], MSG: f[7]}, nil
}
