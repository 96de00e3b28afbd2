package web

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// The console benchmarks run against a database seeded with 100,000 clients and
// 1,000,000 audit events (a valid hash chain over 60 days). Seeding takes a few
// minutes, so the file is kept in the temp directory and reused by later runs:
//
//	go test ./web -run '^$' -bench 'BenchmarkConsole' -benchtime 200x -timeout 60m
const (
	seedClients = 100_000
	seedEvents  = 1_000_000
	seedVersion = "v1"
)

func seededDatabase(b *testing.B) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("dcrconsole-bench-%s-s%d.db", seedVersion, store.SchemaVersion()))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	h := newHarness(b)
	// One real registration gives realistic row sizes to copy.
	template, err := h.db.GetClient(context.Background(), h.registered(b))
	if err != nil {
		b.Fatal(err)
	}
	tmp := path + ".building"
	for _, s := range []string{"", "-wal", "-shm"} {
		os.Remove(tmp + s)
	}
	db, err := store.Open(context.Background(), tmp, store.Options{Synchronous: "OFF"})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	ids := seedClientRows(b, db, template)
	seedAuditEvents(b, db, ids)
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	for _, s := range []string{"-wal", "-shm"} {
		os.Remove(tmp + s)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d clients and %d audit events in %s: %s", seedClients, seedEvents, time.Since(start).Round(time.Second), path)
	return path
}

var (
	seedWords    = []string{"Budget", "Money", "Saver", "Insight", "Ledger", "Pocket", "Wealth", "Smart", "Energy", "Compare", "Tracker", "Plus"}
	seedStatuses = []string{store.StatusActive, store.StatusActive, store.StatusActive, store.StatusActive, store.StatusRevoked, store.StatusDeleted, store.StatusRemoved}
)

func seedClientRows(b *testing.B, db *store.DB, template *store.Client) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]string, seedClients)
	base := time.Now().UTC().Add(-60 * 24 * time.Hour)
	err := db.Tx(context.Background(), func(tx *store.Tx) error {
		for i := range seedClients {
			c := *template
			c.ID = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, rng.Uint64()&0xffffffffffff)
			c.SoftwareID = fmt.Sprintf("%08x-5eed-4000-8000-%012x", i, rng.Uint64()&0xffffffffffff)
			c.Status = seedStatuses[rng.IntN(len(seedStatuses))]
			c.ActiveSoftwareID = nil
			if c.Status == store.StatusActive {
				sid := c.SoftwareID
				c.ActiveSoftwareID = &sid
			}
			c.ClientName = seedWords[rng.IntN(len(seedWords))] + " " + seedWords[rng.IntN(len(seedWords))] + " " + strconv.Itoa(i)
			c.OrgName = "Brand " + strconv.Itoa(i%5000)
			c.OrgID = fmt.Sprintf("brand-%05d", i%5000)
			c.LegalEntityName = "Entity " + strconv.Itoa(i%2000) + " Pty Ltd"
			c.LegalEntityID = fmt.Sprintf("le-%05d", i%2000)
			if i%10 == 0 {
				c.Source = store.SourceAPI
			}
			c.CreatedAt = base.Add(time.Duration(i) * 50 * time.Second)
			c.UpdatedAt = c.CreatedAt
			if err := store.CreateClient(tx, &c); err != nil {
				return err
			}
			ids[i] = c.ID
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return ids
}

func seedAuditEvents(b *testing.B, db *store.DB, ids []string) {
	rng := rand.New(rand.NewPCG(3, 4))
	log := audit.New(db)
	base := time.Now().UTC().Add(-60 * 24 * time.Hour)
	step := 60 * 24 * time.Hour / seedEvents
	const chunk = 100_000
	for from := 0; from < seedEvents; from += chunk {
		err := db.Tx(context.Background(), func(tx *store.Tx) error {
			for i := from; i < from+chunk; i++ {
				id := ids[rng.IntN(len(ids))]
				e := &store.AuditEvent{Time: base.Add(time.Duration(i) * step), ClientID: id, Outcome: store.OutcomeSuccess,
					Actor: "client:" + id, RemoteAddr: "203.0.113." + strconv.Itoa(rng.IntN(250)), RequestID: strconv.Itoa(i), DurationUS: int64(rng.IntN(5000))}
				switch r := rng.IntN(10); {
				case r < 4:
					e.Type = store.EventTokenIssue
				case r < 7:
					e.Type = store.EventRegistrationRead
				case r < 9:
					e.Type = store.EventRegistrationCreate
				default:
					e.Type, e.Outcome, e.ClientID = store.EventRegistrationCreate, store.OutcomeRejected, ""
					e.ErrorCode, e.Step = "invalid_client_metadata", "request_signature"
					e.Reason = "ERR-DCR-004: Client Registration Request validation failed. | request expired"
					e.Data = `{"source_bytes":12,"body_prefix":"seeded"}`
				}
				if err := log.Append(tx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchHarness is a harness on the seeded database with a signed-in viewer.
func benchHarness(b *testing.B) (*harness, string) {
	path := seededDatabase(b)
	h := newHarness(b, func(c *config.Config) { c.Database.Path = path })
	name := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	if _, err := h.app.Auth.CreateUser(context.Background(), "bench", name, testPassword, store.RoleViewer, false, ""); err != nil {
		b.Fatal(err)
	}
	return h, h.signIn(b, name, testPassword)
}

// measurePages requests each path in turn b.N times and reports server-time
// percentiles (the handler through the real engine, no network).
func measurePages(b *testing.B, h *harness, cookie string, paths func(i int) string) {
	durations := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		r := h.console(http.MethodGet, paths(i), cookie, "")
		durations = append(durations, time.Since(start))
		if r.status != http.StatusOK {
			b.Fatalf("%s: %d %.300s", paths(i), r.status, r.body)
		}
	}
	b.StopTimer()
	slices.Sort(durations)
	pct := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

func BenchmarkConsoleClientsPage(b *testing.B) {
	h, cookie := benchHarness(b)
	queries := []string{"", "q=budget", "q=brand+42", "status=revoked", "sort=name&asc=1", "source=api&sort=org", "q=000001"}
	measurePages(b, h, cookie, func(i int) string { return "/console/clients?" + queries[i%len(queries)] })
}

func BenchmarkConsoleClientDetail(b *testing.B) {
	h, cookie := benchHarness(b)
	var ids []string
	storetest.Gorm(b, h.db).Raw("SELECT id FROM clients ORDER BY random() LIMIT 500").Scan(&ids)
	measurePages(b, h, cookie, func(i int) string { return "/console/clients/" + ids[i%len(ids)] })
}

func BenchmarkConsoleAuditPage(b *testing.B) {
	h, cookie := benchHarness(b)
	var client string
	storetest.Gorm(b, h.db).Raw("SELECT client_id FROM audit_events WHERE client_id != '' LIMIT 1").Scan(&client)
	queries := []string{"", "type=token.issue", "outcome=rejected", "client=" + client, "before=500000", "before=20",
		"from=" + time.Now().AddDate(0, 0, -3).Format("2006-01-02")}
	measurePages(b, h, cookie, func(i int) string { return "/console/audit?" + queries[i%len(queries)] })
}

func BenchmarkConsoleAttemptsPage(b *testing.B) {
	h, cookie := benchHarness(b)
	queries := []string{"", "code=invalid_client_metadata", "step=request_signature", "before=500000",
		"from=" + time.Now().AddDate(0, 0, -3).Format("2006-01-02")}
	measurePages(b, h, cookie, func(i int) string { return "/console/attempts?" + queries[i%len(queries)] })
}

// BenchmarkConsoleAuditExport streams the CSV export of all 1,000,000 events and
// reports the process's peak RSS (VmHWM): memory must not grow with the export.
// Run it on its own, after the database is seeded, so the peak is the export's:
//
//	go test ./web -run '^$' -bench BenchmarkConsoleAuditExport -benchtime 1x -timeout 60m
func BenchmarkConsoleAuditExport(b *testing.B) {
	h, cookie := benchHarness(b)
	// A real server and a client that discards what it reads: a recorder would
	// hold the whole export in memory and measure itself.
	srv := httptest.NewServer(h.app.Engine)
	defer srv.Close()
	runtime.GC()
	before := peakRSSMB()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/console/audit.csv", nil)
		req.Header.Set("Cookie", cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || n < seedEvents*50 {
			b.Fatalf("%d, %d bytes, %v", resp.StatusCode, n, err)
		}
		b.ReportMetric(float64(n)/(1<<20), "MB-exported")
	}
	b.StopTimer()
	b.ReportMetric(before, "peakRSS-before-MB")
	b.ReportMetric(peakRSSMB(), "peakRSS-MB")
}

// peakRSSMB is the process's peak resident set size from /proc/self/status.
func peakRSSMB() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return float64(kb) / 1024
		}
	}
	return 0
}
