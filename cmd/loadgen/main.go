// Command loadgen measures dcrconsole over HTTP: it builds the server (or takes
// -bin), runs it as a separate process on 127.0.0.1 with a temp database,
// simulates the CDR Register and one ADR listener (every software product with
// a JWKS URI of its own) over TLS in this process, signs every request before
// the timer, and prints per phase (registration, token, GET, PUT) the request
// rate, latency percentiles, errors, server CPU per request and peak RSS.
//
//	go run ./cmd/loadgen -products 10000 -c 16 -duration 10s
//	go run ./cmd/loadgen -products 2000 -kill9   # kill -9 mid-registration, check no 201 was lost
//	go run ./cmd/loadgen -pg -replicas 2          # a throwaway PostgreSQL (durable), two replicas on it
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/dcrconsole/dcrconsole/store/pgtest"
)

// options are the command's flags.
type options struct {
	products    int
	concurrency int
	duration    time.Duration
	count       int
	presignRate int
	bin         string
	kill9       bool
	keep        bool
	database    string // a postgres:// URL of an empty database
	pg          bool   // start a throwaway, durable PostgreSQL cluster
	replicas    int
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.products, "products", 10000, "software products in the simulated Register, each with its own JWKS URI; each registers once")
	fs.IntVar(&o.concurrency, "c", 16, "concurrent requests (connections)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of the token, GET and PUT phases (0: -n requests, or one per client)")
	fs.IntVar(&o.count, "n", 0, "requests per token, GET and PUT phase (0: as many as -duration allows)")
	fs.IntVar(&o.presignRate, "presign-rate", 5000, "req/s assumed when sizing the pre-signed token and PUT pools for -duration")
	fs.StringVar(&o.bin, "bin", "", "dcrconsole binary to run (default: go build the module into the temp dir)")
	fs.BoolVar(&o.kill9, "kill9", false, "kill -9 the server halfway through the registration phase, restart it and check every acknowledged (201) registration")
	fs.BoolVar(&o.keep, "keep", false, "keep the temp dir (database, config, server log)")
	fs.StringVar(&o.database, "database", "", "run on this PostgreSQL database (postgres:// URL of an empty database) instead of SQLite")
	fs.BoolVar(&o.pg, "pg", false, "run on a throwaway PostgreSQL cluster (Debian's packages; fsync and synchronous_commit on)")
	fs.IntVar(&o.replicas, "replicas", 1, "server processes on the one PostgreSQL database; requests go round-robin (PostgreSQL only above 1)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.replicas < 1 || (o.replicas > 1 && o.database == "" && !o.pg) || (o.kill9 && o.replicas > 1) {
		fmt.Fprintln(stderr, "loadgen: -replicas must be positive; more than 1 needs -pg or -database, and not -kill9")
		return 2
	}
	if o.products < 1 || o.concurrency < 1 || o.count < 0 || o.presignRate < 1 {
		fmt.Fprintln(stderr, "loadgen: -products, -c and -presign-rate must be positive, -n not negative")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	lost, err := load(ctx, o, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	if lost > 0 {
		return 1
	}
	return 0
}

// load sets everything up, runs the phases and returns the number of lost
// acknowledged registrations (-kill9).
func load(ctx context.Context, o options, w io.Writer) (int, error) {
	dir, err := os.MkdirTemp("", "dcrconsole-loadgen-")
	if err != nil {
		return 0, err
	}
	if o.keep {
		fmt.Fprintln(w, "temp dir:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if o.bin == "" {
		if o.bin, err = buildServer(dir); err != nil {
			return 0, err
		}
	}
	if o.pg {
		c, err := pgtest.Start(pgtest.Options{Durable: true})
		if err != nil {
			return 0, err
		}
		defer c.Close()
		if o.database, err = c.CreateDatabase(ctx, "loadgen"); err != nil {
			return 0, err
		}
	}
	eco, err := newEcosystem(o.products, dir)
	if err != nil {
		return 0, err
	}
	defer eco.Close()
	srv, err := newServer(o.bin, dir, eco.endpoints(), o.database, "")
	if err != nil {
		return 0, err
	}
	defer srv.stop()
	l := &loadRun{o: o, w: w, eco: eco, srv: srv}
	if err := l.startServer(ctx); err != nil {
		return 0, err
	}
	for i := 1; i < o.replicas; i++ {
		rdir := filepath.Join(dir, fmt.Sprintf("replica-%d", i))
		if err := os.Mkdir(rdir, 0o700); err != nil {
			return 0, err
		}
		r, err := newServer(o.bin, rdir, eco.endpoints(), o.database, srv.baseURL)
		if err != nil {
			return 0, err
		}
		defer r.stop()
		if _, err := r.start(ctx); err != nil {
			return 0, err
		}
		replicaURLs = append(replicaURLs, r.baseURL)
	}
	return l.phases(ctx)
}

// startServer starts the server and prints start-to-ready time and idle RSS.
func (l *loadRun) startServer(ctx context.Context) error {
	ready, err := l.srv.start(ctx)
	if err != nil {
		return err
	}
	// Let the first Register sync finish before taking the idle figure.
	time.Sleep(time.Second)
	idle, err := sampleProc(l.srv.pid())
	if err != nil {
		return err
	}
	backend := "sqlite"
	if l.o.database != "" {
		backend = "postgres"
	}
	fmt.Fprintf(l.w, "loadgen: products=%d c=%d duration=%s n=%d kill9=%v database=%s replicas=%d\n",
		l.o.products, l.o.concurrency, l.o.duration, l.o.count, l.o.kill9, backend, l.o.replicas)
	fmt.Fprintf(l.w, "server: pid=%d start_to_readyz=%s idle_rss=%.1fMB\n",
		l.srv.pid(), ready.Round(100*time.Microsecond), float64(idle.rssKB)/1024)
	return nil
}

// phases runs registration (with -kill9 and its check), token, GET and PUT.
func (l *loadRun) phases(ctx context.Context) (int, error) {
	acked, err := l.registrationPhase(ctx)
	if err != nil {
		return 0, err
	}
	lost := 0
	if l.o.kill9 {
		if lost, err = l.checkAfterKill9(ctx, acked); err != nil {
			return lost, err
		}
	}
	if err := l.tokenPhase(ctx, acked); err != nil {
		return lost, err
	}
	l.getPhase(ctx, acked)
	if err := l.putPhase(ctx, acked); err != nil {
		return lost, err
	}
	l.srv.stop()
	out, err := l.srv.auditVerify()
	fmt.Fprintf(l.w, "audit verify after the run: %s\n", out)
	if err != nil {
		return lost, fmt.Errorf("audit verify: %w", err)
	}
	return lost, nil
}
