//go:build linux

package store_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/pgtest"
)

// BenchmarkWriterRegistration measures what the database itself costs per
// registration, without HTTP, JWTs or the Register: what one POST /register
// writes (the client row with its JWTs and decoded claims at their usual sizes,
// its search terms, and the audit event), from 16 concurrent callers through
// the group-committing writer, with synchronous=FULL, into a database that
// already holds 10,000 clients and their events. It reports the process's CPU
// per registration and the write and read system calls per registration (from
// /proc/self/io): every page a registration dirties is a WAL frame, written
// with two pwrite calls and later copied into the database by a checkpoint.
//
//	go test ./store -run '^$' -bench BenchmarkWriterRegistration -benchtime 4000x
func BenchmarkWriterRegistration(b *testing.B) {
	if pgtest.DefaultBackend() != pgtest.SQLite {
		b.Skip("the SQLite writer: see BenchmarkPostgresRegistrationTx for PostgreSQL")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var seq atomic.Int64
	var nextEvent int64
	register := func() error {
		c, ev := benchClient(seq.Add(1))
		return db.Tx(ctx, func(tx *store.Tx) error {
			if err := store.CreateClient(tx, c); err != nil {
				return err
			}
			nextEvent++ // the writer runs one transaction at a time
			ev.ID = nextEvent
			return store.AppendAuditEvent(tx, ev)
		})
	}
	const existing = 10000
	if err := runConcurrently(existing, register); err != nil {
		b.Fatal(err)
	}
	st0, cpu0, io0 := db.WriteStats(), benchCPU(), benchIO(b)
	b.ResetTimer()
	if err := runConcurrently(b.N, register); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu1, io1 := benchCPU(), benchIO(b)
	n := float64(b.N)
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/n, "cpu-µs/op")
	b.ReportMetric(float64(io1["syscw"]-io0["syscw"])/n, "writes/op")
	b.ReportMetric(float64(io1["syscr"]-io0["syscr"])/n, "reads/op")
	b.ReportMetric(float64(io1["write_bytes"]-io0["write_bytes"])/n/1024, "disk-KiB/op")
	if st1 := db.WriteStats(); st1.Commits > st0.Commits {
		b.ReportMetric(float64(st1.Transactions-st0.Transactions)/float64(st1.Commits-st0.Commits), "tx/commit")
	}
}

// runConcurrently calls fn n times from 16 goroutines.
func runConcurrently(n int, fn func() error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := fn(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// benchClient is registration i as POST /register stores it: an SSA of about
// 2 kB, a request JWT that carries it (4 kB), their decoded headers and claims,
// and the registration JSON, with ids and names unique to the product.
func benchClient(i int64) (*store.Client, *store.AuditEvent) {
	now := time.Now().UTC()
	id := randText(24)
	sw := "sw-" + strconv.FormatInt(i, 10) + "-" + randText(8)
	org := "org-" + randText(12)
	ssa := randText(2000)
	c := &store.Client{
		ID: id, SoftwareID: sw, ActiveSoftwareID: &sw, Status: store.StatusActive, Source: store.SourceRegister,
		ClientName: fmt.Sprintf("Budget Tracker %d Mobile", i), OrgID: org, OrgName: fmt.Sprintf("Acme Finance %d Pty", i),
		LegalEntityID: "le-" + randText(12), LegalEntityName: fmt.Sprintf("Acme Finance %d Pty Ltd", i),
		IssuedAt: now.Unix(), Registration: randText(1500), SoftwareStatement: ssa,
		RequestJWT: ssa + "." + randText(2000), SSAHeader: `{"alg":"PS256","kid":"` + randText(16) + `","typ":"JWT"}`,
		SSAClaims: randText(1500), SSAKeyID: randText(16), RequestHeader: `{"alg":"ES256","kid":"` + randText(16) + `"}`,
		RequestClaims: randText(2800), JWKSURI: "https://adr.example/" + sw + "/jwks", Scope: "openid cdr:registration bank:accounts.basic:read",
		CreatedAt: now, UpdatedAt: now,
	}
	ev := &store.AuditEvent{
		Time: now, Type: "registration.create", Actor: "adr:" + org, Outcome: "success", SoftwareID: sw, OrgID: org,
		ClientID: id, JTI: randText(22), RemoteAddr: "127.0.0.1", RequestID: randText(22), DurationUS: 1500,
		Data: `{"redirect_uris":["https://adr.example/cb"]}`, PrevHash: strings.Repeat("0", 64), Hash: randText(64),
	}
	return c, ev
}

func randText(n int) string {
	b := make([]byte, n*3/4+1)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// benchCPU is the CPU time (user and system) the process has used.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchIO reads /proc/self/io: syscr and syscw count read and write system calls.
func benchIO(b *testing.B) map[string]int64 {
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		out[k] = n
	}
	return out
}
