package web

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// recordEvents appends n stand-alone audit events.
func (h *harness) recordEvents(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		ev := &store.AuditEvent{Type: store.EventOperatorInspect, Actor: "test", Outcome: store.OutcomeSuccess, Reason: "event " + string(rune('a'+i%26))}
		if err := h.app.Audit.Record(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
}

// chain is every event in the database, by id.
func (h *harness) chain(t *testing.T) map[int64]store.AuditEvent {
	t.Helper()
	var evs []store.AuditEvent
	if err := storetest.Gorm(t, h.db).Order("id").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	out := make(map[int64]store.AuditEvent, len(evs))
	for _, e := range evs {
		out[e.ID] = e
	}
	return out
}

// streamLine is the part of a stream line the tests look at.
type streamLine struct {
	ID       int64  `json:"id"`
	Type     string `json:"type"`
	HeadID   int64  `json:"head_id"`
	HeadHash string `json:"head_hash"`
}

// checkDelivery checks that lines carry every event of chain at least once,
// in chain order (a resend goes back, never skips ahead), each exactly the
// JSON export's line, and that checkpoints anchor real events.
func checkDelivery(t *testing.T, lines []string, chain map[int64]store.AuditEvent) (events, checkpoints int) {
	t.Helper()
	var highest int64
	seen := map[int64]bool{}
	for _, l := range lines {
		var x streamLine
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		if x.Type == audit.CheckpointType {
			if e, ok := chain[x.HeadID]; !ok || e.Hash != x.HeadHash || x.HeadID > highest {
				t.Errorf("checkpoint %d %s does not anchor a delivered event", x.HeadID, x.HeadHash)
			}
			checkpoints++
			continue
		}
		if x.ID > highest+1 {
			t.Fatalf("event %d arrived after %d: events %d..%d skipped", x.ID, highest, highest+1, x.ID-1)
		}
		highest = max(highest, x.ID)
		e := chain[x.ID]
		if want := strings.TrimSuffix(string(audit.JSONLine(&e)), "\n"); l != want {
			t.Errorf("event %d:\n got %s\nwant %s", x.ID, l, want)
		}
		seen[x.ID] = true
		events++
	}
	for id := range chain {
		if !seen[id] {
			t.Errorf("event %d never arrived", id)
		}
	}
	return events, checkpoints
}

func TestAuditStreamSyslogOutageLosesNothing(t *testing.T) {
	siemCA, err := cdrsim.NewCA() // the SIEM's own CA, trusted through audit.stream_ca_file
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "siem-ca.pem")
	if err := os.WriteFile(caFile, siemCA.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	tc, err := siemCA.ServerTLSConfig("siem.test")
	if err != nil {
		t.Fatal(err)
	}
	siem := newSyslogReceiver(t)
	h := newHarness(t, func(c *config.Config) {
		c.Audit.Stream = "syslog+tls://" + siem.addr
		c.Audit.StreamCAFile, c.Audit.StreamServerName = caFile, "siem.test"
		c.Audit.StreamCheckpointEvery = config.Duration{Duration: 50 * time.Millisecond}
	})
	siem.start(tc)
	h.startOps(t)
	h.recordEvents(t, 10)
	received := func() bool {
		msgs, _ := siem.messages()
		head, _, _ := h.app.Audit.Head(context.Background())
		return len(msgs) > 0 && strings.Contains(msgs[len(msgs)-1].MSG, `"head_id":`+strconv.FormatInt(head, 10)+`,`)
	}
	waitFor(t, "every event and a checkpoint before the outage", received)

	siem.stop()
	h.recordEvents(t, 25)
	waitFor(t, "the stream to notice the outage", func() bool { return h.app.Stream.Status().LastError != "" })
	siem.start(tc)
	h.recordEvents(t, 5)
	waitFor(t, "every event and a checkpoint after the outage", received)

	msgs, bad := siem.messages()
	if len(bad) > 0 {
		t.Fatalf("malformed frames: %q", bad)
	}
	lines := make([]string, len(msgs))
	for i, m := range msgs {
		if m.PRI != "<110>" || m.App != "dcrconsole" || (m.MsgID != "audit" && m.MsgID != "checkpoint") {
			t.Fatalf("message header: %+v", m)
		}
		lines[i] = m.MSG
	}
	events, checkpoints := checkDelivery(t, lines, h.chain(t))
	if checkpoints < 2 || events < len(h.chain(t)) {
		t.Errorf("%d events, %d checkpoints", events, checkpoints)
	}
}

func TestAuditStreamResendsFromPersistedCursorAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	h := newHarness(t, func(c *config.Config) { c.Audit.Stream = "file:" + path })
	ctx := context.Background()
	caughtUp := func() bool {
		head, _, _ := h.app.Audit.Head(ctx)
		cursor, err := h.app.Audit.StreamCursor(ctx, h.cfg.Audit.Stream)
		return err == nil && cursor == head
	}
	stop := h.startOps(t)
	h.recordEvents(t, 7)
	waitFor(t, "the cursor to reach the head", caughtUp)
	stop()
	<-h.app.Stream.Done()

	h.recordEvents(t, 9) // while the server is down
	h.startOps(t)        // a new server on the same database: it reads the cursor
	waitFor(t, "the cursor to reach the head again", caughtUp)

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	chain := h.chain(t)
	events, checkpoints := checkDelivery(t, lines, chain)
	// A clean restart resends nothing: every event exactly once.
	if events != len(chain) || checkpoints < 1 {
		t.Errorf("%d event lines for %d events, %d checkpoints", events, len(chain), checkpoints)
	}
}
