package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is the dcrconsole binary running as a process of its own, on a
// loopback port, with a temp database and a generated config.
type server struct {
	bin     string
	dir     string
	config  string
	dbPath  string
	baseURL string
	logFile *os.File

	cmd  *exec.Cmd
	done chan struct{}
}

// serverEndpoints is what the generated config points the server at.
type serverEndpoints struct {
	registerJWKSURI, registerBaseURI, caFile string
}

// buildServer builds the dcrconsole binary into dir and returns its path.
func buildServer(dir string) (string, error) {
	bin := filepath.Join(dir, "dcrconsole")
	cmd := exec.Command("go", "build", "-tags", "nomsgpack", "-o", bin, "github.com/dcrconsole/dcrconsole")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build dcrconsole: %w", err)
	}
	return bin, nil
}

// newServer writes the config for a server on a free loopback port.
//
// With dbURL the server runs on that PostgreSQL database; issuer, when not
// empty, is the issuer of the replicas behind one address (the first one's URL).
func newServer(bin, dir string, ep serverEndpoints, dbURL, issuer string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{bin: bin, dir: dir, config: filepath.Join(dir, "dcrconsole.toml"),
		dbPath: filepath.Join(dir, "dcrconsole.db"), baseURL: "http://127.0.0.1:" + strconv.Itoa(port)}
	if issuer == "" {
		issuer = s.baseURL
	}
	database := fmt.Sprintf("path = %q", s.dbPath)
	if dbURL != "" {
		s.dbPath = dbURL // what audit verify --db takes
		database = fmt.Sprintf("driver = \"postgres\"\nurl = %q\nmax_open_conns = 32", dbURL)
	}
	cfg := fmt.Sprintf(`[server]
listen = "127.0.0.1:%d"
public_url = %q
[holder]
issuer = %q
[database]
%s
[register]
jwks_uri = %q
base_uri = %q
max_response_bytes = 268435456
[outbound]
ca_file = %q
allow_private_networks = true
[console]
enabled = false
[log]
level = "warn"
`, port, issuer, issuer, database, ep.registerJWKSURI, ep.registerBaseURI, ep.caFile)
	if err := os.WriteFile(s.config, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	s.logFile, err = os.Create(filepath.Join(dir, "server.log"))
	return s, err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs the server and waits for /readyz to answer 200; it returns the
// time from exec to the first 200.
func (s *server) start(ctx context.Context) (time.Duration, error) {
	s.cmd = exec.Command(s.bin, "--config", s.config)
	if os.Getenv("DCRCONSOLE_MFA_KEY") == "" {
		// On PostgreSQL every replica must seal second factors with one key
		// outside the database; the run's replicas share this one.
		s.cmd.Env = append(os.Environ(), "DCRCONSOLE_MFA_KEY="+runMFAKey)
	}
	s.cmd.Stdout, s.cmd.Stderr = s.logFile, s.logFile
	began := time.Now()
	if err := s.cmd.Start(); err != nil {
		return 0, err
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-s.done:
			return 0, fmt.Errorf("dcrconsole exited before ready (log: %s)", s.logFile.Name())
		case <-ctx.Done():
			return 0, ctx.Err()
		default:
		}
		if resp, err := client.Get(s.baseURL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(began), nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// pid returns the running server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// kill9 kills the server with SIGKILL and waits until it is gone.
func (s *server) kill9() error {
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-s.done
	return nil
}

// stop ends the server with SIGTERM (SIGKILL after 10 s).
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.kill9()
	}
}

// auditVerify runs `dcrconsole audit verify --db` on the (stopped) server's
// database and returns its output.
func (s *server) auditVerify() (string, error) {
	out, err := exec.Command(s.bin, "audit", "verify", "--db", s.dbPath).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// procSample is the server's CPU time and memory high-water mark at one moment.
type procSample struct {
	cpu   time.Duration // utime + stime
	hwmKB int64         // VmHWM: peak resident set size
	rssKB int64         // VmRSS: resident set size now
}

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat (100 on Linux).
const clockTick = 10 * time.Millisecond

// sampleProc reads /proc/PID/stat and /proc/PID/status.
func sampleProc(pid int) (procSample, error) {
	var p procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	// Fields after the parenthesised command name, which may hold spaces.
	rest := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(rest) < 13 {
		return p, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, _ := strconv.ParseInt(rest[11], 10, 64) // field 14
	stime, _ := strconv.ParseInt(rest[12], 10, 64) // field 15
	p.cpu = time.Duration(utime+stime) * clockTick
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmHWM:":
			p.hwmKB, _ = strconv.ParseInt(f[1], 10, 64)
		case "VmRSS:":
			p.rssKB, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return p, nil
}

// runMFAKey is the MFA sealing key of this run's servers (64 hex digits).
var runMFAKey = func() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}()
