package audit

import (
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// fullEvent has every field set to a distinct value, so that changing any one of
// them is a real change.
func fullEvent() store.AuditEvent {
	e := *sampleEvent(7)
	e.ID = 42
	e.Time = time.Date(2025, 6, 30, 23, 59, 58, 123456000, time.UTC)
	e.PrevHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	return e
}

// TestHashGolden pins the v1 encoding: every stored event was hashed with it, so
// a change here would make Verify call the whole log edited. Change the encoding
// only under a new version tag.
func TestHashGolden(t *testing.T) {
	e := fullEvent()
	const want = "a7bbb6032e71fcece1e0d802ea45d167bc1de5eebc9b48156613893b48393086"
	if got := Hash(&e); got != want {
		t.Fatalf("Hash = %s, want %s", got, want)
	}
	minimal := store.AuditEvent{ID: 1, Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Type: store.EventOperatorLogin, Outcome: store.OutcomeSuccess, PrevHash: Genesis}
	const wantEncoding = "2:v1,1:1,20:2025-01-02T03:04:05Z,14:operator.login,0:,7:success," +
		"0:,0:,0:,0:,0:,0:,0:,0:,0:,0:,1:0,0:,64:" + Genesis + ","
	if got := string(appendCanonical(nil, &minimal)); got != wantEncoding {
		t.Fatalf("encoding =\n%s\nwant\n%s", got, wantEncoding)
	}
}

func TestHashIsDeterministic(t *testing.T) {
	e := fullEvent()
	copied := e
	if Hash(&e) != Hash(&e) || Hash(&e) != Hash(&copied) {
		t.Fatal("Hash differs for the same event")
	}
	// The same instant in another zone is the same event: SQLite and callers may
	// attach any zone to it.
	inSydney := e
	inSydney.Time = e.Time.In(time.FixedZone("AEST", 10*3600))
	if Hash(&inSydney) != Hash(&e) {
		t.Error("Hash depends on the time zone of the same instant")
	}
	// Hash covers the content, not the stored hash of it.
	rehashed := e
	rehashed.Hash = "anything"
	if Hash(&rehashed) != Hash(&e) {
		t.Error("Hash depends on the Hash field")
	}
}

func TestHashChangesWithEveryField(t *testing.T) {
	base := fullEvent()
	baseHash := Hash(&base)
	cases := map[string]func(e *store.AuditEvent){
		"ID":             func(e *store.AuditEvent) { e.ID++ },
		"Time":           func(e *store.AuditEvent) { e.Time = e.Time.Add(time.Microsecond) },
		"Time (ns)":      func(e *store.AuditEvent) { e.Time = e.Time.Add(time.Nanosecond) },
		"Type":           func(e *store.AuditEvent) { e.Type = store.EventRegistrationUpdate },
		"Actor":          func(e *store.AuditEvent) { e.Actor += "x" },
		"Outcome":        func(e *store.AuditEvent) { e.Outcome = store.OutcomeError },
		"ErrorCode":      func(e *store.AuditEvent) { e.ErrorCode = "invalid_redirect_uri" },
		"Step":           func(e *store.AuditEvent) { e.Step = "request" },
		"Reason":         func(e *store.AuditEvent) { e.Reason = "" },
		"SoftwareID":     func(e *store.AuditEvent) { e.SoftwareID += "x" },
		"OrgID":          func(e *store.AuditEvent) { e.OrgID = "org-2" },
		"ClientID":       func(e *store.AuditEvent) { e.ClientID += "x" },
		"JTI":            func(e *store.AuditEvent) { e.JTI += "x" },
		"RemoteAddr":     func(e *store.AuditEvent) { e.RemoteAddr = "192.0.2.8:51234" },
		"CertThumbprint": func(e *store.AuditEvent) { e.CertThumbprint = "" },
		"RequestID":      func(e *store.AuditEvent) { e.RequestID += "x" },
		"DurationUS":     func(e *store.AuditEvent) { e.DurationUS = -e.DurationUS },
		"Data":           func(e *store.AuditEvent) { e.Data = "{}" },
		"PrevHash":       func(e *store.AuditEvent) { e.PrevHash = Genesis },
		// Without length prefixes these would encode alike.
		"a character moved between fields": func(e *store.AuditEvent) {
			e.Actor, e.Outcome = e.Actor+string(e.Outcome[:1]), e.Outcome[1:]
		},
		"a field emptied into the next": func(e *store.AuditEvent) {
			e.Step, e.Reason = "", e.Step+e.Reason
		},
	}
	seen := map[string]string{baseHash: "base"}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			e := base
			change(&e)
			h := Hash(&e)
			if other, ok := seen[h]; ok {
				t.Fatalf("hash %s equals the hash of %s", h, other)
			}
			seen[h] = name
		})
	}
}

// TestHashAllocations keeps hashing cheap on the registration path: with a warm
// buffer the only allocation is the returned string.
func TestHashAllocations(t *testing.T) {
	e := fullEvent()
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { _ = hashTo(&buf, &e) }); n > 1 {
		t.Fatalf("hashTo allocates %v times, want at most 1", n)
	}
}

func BenchmarkHash(b *testing.B) {
	e := fullEvent()
	b.ReportAllocs()
	for b.Loop() {
		_ = Hash(&e)
	}
}
