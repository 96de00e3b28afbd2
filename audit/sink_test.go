package audit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

func TestOpenSinkTargets(t *testing.T) {
	tests := []struct {
		target  string
		wantErr string
	}{
		{"stdout", ""},
		{"file:/var/log/dcr/audit.jsonl", ""},
		{"syslog+tls://siem.example:6514", ""},
		{"syslog+tls://[::1]:6514", ""},
		{"file:", "needs a path"},
		{"syslog+tls://siem.example", "not syslog+tls://host:port"},
		{"syslog+tls://siem.example:6514/path", "not syslog+tls://host:port"},
		{"syslog://siem.example:514", "is not one of"},
		{"stderr", "is not one of"},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			err := ParseStreamTarget(tc.target)
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "audit.stream")) {
				t.Fatalf("error %v, want one naming audit.stream and %q", err, tc.wantErr)
			}
		})
	}
}

func TestSyslogFormatIsRFC5424(t *testing.T) {
	s, _ := newSyslogSink("siem:6514", SyslogOptions{Hostname: "dh1"})
	at := time.Date(2026, 12, 2, 3, 4, 5, 123456000, time.UTC)
	ev := &store.AuditEvent{ID: 7, Time: at, Type: store.EventTokenIssue, Outcome: store.OutcomeSuccess, Reason: "a\nb"}
	msg := s.format(Record{Line: JSONLine(ev), Time: at})
	want := "<110>1 2026-12-02T03:04:05.123456Z dh1 dcrconsole "
	if !strings.HasPrefix(msg, want) || !strings.Contains(msg, " audit - {\"id\":7,") || strings.Contains(msg, "\n") {
		t.Fatalf("message %q", msg)
	}
	cp := s.format(Record{Line: CheckpointLine(7, "abc", at), Time: at, Checkpoint: true})
	if !strings.Contains(cp, " checkpoint - {") {
		t.Fatalf("checkpoint %q", cp)
	}
}

func TestJSONLineIsTheExportsElement(t *testing.T) {
	db := openDB(t, store.Options{})
	l := New(db)
	for _, r := range []string{"first", "<script>&", "ünïcode\n"} {
		if err := l.Record(t.Context(), &store.AuditEvent{Type: store.EventOperatorInspect, Outcome: store.OutcomeSuccess, Reason: r}); err != nil {
			t.Fatal(err)
		}
	}
	var export strings.Builder
	if _, err := l.ExportJSON(t.Context(), &export, Filter{}); err != nil {
		t.Fatal(err)
	}
	var all []json.RawMessage
	if err := json.Unmarshal([]byte(export.String()), &all); err != nil {
		t.Fatal(err)
	}
	for i, raw := range all {
		e, err := l.Get(t.Context(), int64(len(all)-i))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSuffix(string(JSONLine(e)), "\n"); got != string(raw) {
			t.Errorf("event %d:\nstream %s\nexport %s", e.ID, got, raw)
		}
		if Hash(e) != e.Hash {
			t.Errorf("event %d does not re-hash", e.ID)
		}
	}
}

func TestFileSinkAppendsAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := OpenSink("file:"+path, SyslogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"{\"id\":1}\n", "{\"id\":2}\n"} {
		if err := s.Write([]Record{{Line: []byte(line)}}); err != nil {
			t.Fatal(err)
		}
		s.Reset() // as after a failure: the next write reopens the file
	}
	s.Close()
	b, _ := os.ReadFile(path)
	if string(b) != "{\"id\":1}\n{\"id\":2}\n" {
		t.Fatalf("file: %q", b)
	}
}
