package audit

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// OpenSink returns the sink of an audit.stream target: "stdout", "file:PATH"
// or "syslog+tls://host:port".
func OpenSink(target string, syslog SyslogOptions) (Sink, error) {
	switch {
	case target == "stdout":
		return &writerSink{w: os.Stdout}, nil
	case strings.HasPrefix(target, "file:"):
		path := strings.TrimPrefix(target, "file:")
		if path == "" {
			return nil, errors.New("audit.stream: file: needs a path")
		}
		return &fileSink{path: path}, nil
	case strings.HasPrefix(target, "syslog+tls://"):
		u, err := url.Parse(target)
		if err != nil || u.Host == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("audit.stream: %q is not syslog+tls://host:port", target)
		}
		return newSyslogSink(u.Host, syslog)
	}
	return nil, fmt.Errorf("audit.stream: %q is not one of \"\", \"stdout\", \"file:PATH\", \"syslog+tls://host:port\"", target)
}

// ParseStreamTarget checks an audit.stream value without opening anything.
func ParseStreamTarget(target string) error {
	if target == "" {
		return nil
	}
	_, err := OpenSink(target, SyslogOptions{})
	return err
}

// writerSink writes lines to w (standard output).
type writerSink struct {
	w io.Writer
}

func (s *writerSink) Write(recs []Record) error {
	bw := bufio.NewWriter(s.w)
	for _, r := range recs {
		if _, err := bw.Write(r.Line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func (s *writerSink) Reset()       {}
func (s *writerSink) Close() error { return nil }

// fileSink appends lines to a file, synced after each batch, and reopens it
// after a failure (a rotated or remounted file).
type fileSink struct {
	path string
	f    *os.File
}

func (s *fileSink) Write(recs []Record) error {
	if s.f == nil {
		f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		s.f = f
	}
	bw := bufio.NewWriterSize(s.f, 64<<10)
	for _, r := range recs {
		if _, err := bw.Write(r.Line); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return s.f.Sync()
}

func (s *fileSink) Reset() { _ = s.Close() }

func (s *fileSink) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// SyslogOptions are the TLS settings of a syslog+tls sink.
type SyslogOptions struct {
	RootCAs    *x509.CertPool // nil: the system roots
	ServerName string         // "" : the target's host
	Hostname   string         // the HOSTNAME of each message ("" : os.Hostname)
	Timeout    time.Duration  // dial and write timeout (default 10 s)
}

// syslogFacilitySeverity is PRI = facility 13 (log audit) * 8 + severity 6 (informational).
const syslogFacilitySeverity = 13*8 + 6

// syslogSink sends each record as an RFC 5424 message over TLS, framed by
// octet counting (RFC 5425, RFC 6587): "LEN SP MSG".
type syslogSink struct {
	addr string
	opts SyslogOptions
	pid  int

	mu   sync.Mutex
	conn *tls.Conn
}

func newSyslogSink(addr string, opts SyslogOptions) (*syslogSink, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
	}
	if opts.Hostname == "" {
		opts.Hostname = "-"
	}
	return &syslogSink{addr: addr, opts: opts, pid: os.Getpid()}, nil
}

func (s *syslogSink) dial() (*tls.Conn, error) {
	host, _, _ := net.SplitHostPort(s.addr)
	name := s.opts.ServerName
	if name == "" {
		name = host
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: s.opts.Timeout},
		Config: &tls.Config{RootCAs: s.opts.RootCAs, ServerName: name, MinVersion: tls.VersionTLS12}}
	c, err := d.Dial("tcp", s.addr)
	if err != nil {
		return nil, err
	}
	return c.(*tls.Conn), nil
}

// alive reports whether the receiver has not closed the connection: a
// receiver only ever sends its close, so anything readable means it is gone.
func alive(c *tls.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
	var b [1]byte
	_, err := c.Read(b[:])
	_ = c.SetReadDeadline(time.Time{})
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *syslogSink) Write(recs []Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil && !alive(s.conn) {
		s.resetLocked()
	}
	if s.conn == nil {
		c, err := s.dial()
		if err != nil {
			return err
		}
		s.conn = c
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.opts.Timeout))
	bw := bufio.NewWriterSize(s.conn, 64<<10)
	for _, r := range recs {
		msg := s.format(r)
		if _, err := fmt.Fprintf(bw, "%d %s", len(msg), msg); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// format is r as an RFC 5424 message: PRI VERSION TIMESTAMP HOSTNAME APP-NAME
// PROCID MSGID STRUCTURED-DATA MSG, the MSG being the JSON line.
func (s *syslogSink) format(r Record) string {
	msgid := "audit"
	if r.Checkpoint {
		msgid = "checkpoint"
	}
	return fmt.Sprintf("<%d>1 %s %s dcrconsole %d %s - %s", syslogFacilitySeverity,
		r.Time.UTC().Format("2006-01-02T15:04:05.000000Z07:00"), s.opts.Hostname, s.pid, msgid,
		strings.TrimSuffix(string(r.Line), "\n"))
}

func (s *syslogSink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

func (s *syslogSink) resetLocked() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

func (s *syslogSink) Close() error {
	s.Reset()
	return nil
}
