// Package pgtest starts a real, throwaway PostgreSQL cluster from the Debian
// packages (initdb + postgres in a temporary directory, on a free port of
// 127.0.0.1), for tests and for the load command. Nothing is mocked: the
// store's PostgreSQL dialect is exercised against the server it runs on in
// production.
//
// When the process runs as root, the cluster runs as an unprivileged user
// (postgres, the user Debian's package creates, else nobody): PostgreSQL
// refuses to run as root.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options tune a cluster.
type Options struct {
	// Durable keeps fsync, synchronous_commit and full_page_writes on, as in
	// production (the load command's figures). Tests run without them: a test
	// database dies with the test.
	Durable bool
	// MaxConnections is PostgreSQL's max_connections (default 400).
	MaxConnections int
}

// Cluster is one running PostgreSQL server and its data directory.
type Cluster struct {
	dir, data string
	port      int
	opts      Options
	cred      *syscall.Credential
	bin       string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	next int
}

// BinDir finds the directory of initdb and postgres: $PG_BINDIR, else the
// newest /usr/lib/postgresql/*/bin.
func BinDir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("pgtest: no PostgreSQL server binaries (apt-get install -y postgresql)")
}

func versionOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Start creates and starts a cluster in a new temporary directory.
func Start(opts Options) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	if opts.MaxConnections == 0 {
		opts.MaxConnections = 400
	}
	dir, err := os.MkdirTemp("", "dcrconsole-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, data: filepath.Join(dir, "data"), opts: opts, bin: bin}
	if c.cred, err = unprivileged(); err != nil {
		c.removeDir()
		return nil, err
	}
	if c.cred != nil {
		if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			c.removeDir()
			return nil, err
		}
	}
	if err := c.initdb(); err != nil {
		c.removeDir()
		return nil, err
	}
	if c.port, err = freePort(); err != nil {
		c.removeDir()
		return nil, err
	}
	if err := c.Start(); err != nil {
		c.removeDir()
		return nil, err
	}
	return c, nil
}

// unprivileged is the user to run PostgreSQL as: nil when not root.
func unprivileged() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return nil, errors.New("pgtest: running as root and neither user postgres nor nobody exists")
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = []string{"LC_ALL=C", "LANG=C", "PATH=/usr/bin:/bin", "HOME=" + c.dir}
	// Pdeathsig: a test binary killed mid-run takes its server with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	return cmd
}

func (c *Cluster) initdb() error {
	out, err := c.command("initdb", "-D", c.data, "-U", "postgres", "--auth=trust",
		"--no-locale", "-E", "UTF8", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start (re)starts the server on its data directory and port, and waits until
// it accepts connections.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		return nil
	}
	onOff := map[bool]string{true: "on", false: "off"}[c.opts.Durable]
	args := []string{"-D", c.data, "-p", strconv.Itoa(c.port), "-k", c.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=" + strconv.Itoa(c.opts.MaxConnections),
		"-c", "fsync=" + onOff, "-c", "synchronous_commit=" + onOff, "-c", "full_page_writes=" + onOff,
		"-c", "logging_collector=off", "-c", "log_min_messages=warning"}
	cmd := c.command("postgres", args...)
	logf, err := os.OpenFile(c.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	c.cmd, c.done = cmd, done
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		cancel()
		if err == nil {
			_ = conn.Close(context.Background())
			return nil
		}
		select {
		case <-done:
			c.cmd = nil
			return fmt.Errorf("pgtest: postgres exited: %s", c.logTail())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres not ready after 30s: %v: %s", err, c.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) logPath() string { return filepath.Join(c.dir, "postgres.log") }

func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.logPath())
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// Stop shuts the server down (fast shutdown: clients are disconnected,
// committed work is kept) and waits for it. The data directory stays, so Start
// brings the same databases back: a restart of PostgreSQL under load.
func (c *Cluster) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	c.cmd = nil
}

// Close stops the server and removes its directory.
func (c *Cluster) Close() {
	c.Stop()
	c.removeDir()
}

func (c *Cluster) removeDir() { _ = os.RemoveAll(c.dir) }

// Port is the TCP port the server listens on (127.0.0.1).
func (c *Cluster) Port() int { return c.port }

// URL is the connection URL of database name, as the superuser postgres.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// CreateDatabase creates a new, empty database and returns its URL.
func (c *Cluster) CreateDatabase(ctx context.Context, prefix string) (string, error) {
	c.mu.Lock()
	c.next++
	name := fmt.Sprintf("%s_%d", sanitize(prefix), c.next)
	c.mu.Unlock()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE DATABASE "`+name+`" TEMPLATE template0`); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return c.URL(name), nil
}

// sanitize makes prefix a short, lower-case identifier.
func sanitize(prefix string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(prefix) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	if b.Len() == 0 {
		return "db"
	}
	return b.String()
}
