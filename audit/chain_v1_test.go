package audit

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// openChainV1 opens a copy of testdata/chain-v1.db, a database written by the
// code at b0fed98, before the audit vocabulary and SQL moved to store.
func openChainV1(t *testing.T) *store.DB {
	t.Helper()
	src, err := os.Open(filepath.Join("testdata", "chain-v1.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "chain-v1.db")
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestChainV1StillVerifies: the stored strings are hashed, so typing them must
// not change a byte: an existing database's chain still verifies.
func TestChainV1StillVerifies(t *testing.T) {
	l := New(openChainV1(t))
	res, err := l.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Events != 32 || res.HeadID != 32 {
		t.Fatalf("chain-v1 no longer verifies: %+v", res)
	}
	id, hash, err := l.Head(context.Background())
	if err != nil || id != 32 || hash != res.HeadHash {
		t.Fatalf("head %d %s %v, verify says %d %s", id, hash, err, res.HeadID, res.HeadHash)
	}
}

// TestChainV1ReadsAsBefore: every type and outcome it holds is in the
// vocabulary, and its reasons split as the console and dashboard always split
// them (the text before the first " | " is public), whatever variant wrote them.
func TestChainV1ReadsAsBefore(t *testing.T) {
	db := openChainV1(t)
	l := New(db)
	ctx := context.Background()
	var events []store.AuditEvent
	if err := l.Each(ctx, Filter{}, func(e *store.AuditEvent) error { events = append(events, *e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(events) != 32 {
		t.Fatalf("%d events", len(events))
	}
	for _, e := range events {
		if !slices.Contains(store.EventTypes(), e.Type) || !e.Outcome.Valid() {
			t.Errorf("event %d: type %q outcome %q not in the vocabulary", e.ID, e.Type, e.Outcome)
		}
		oldDesc, oldDetail, _ := strings.Cut(e.Reason, " | ") // the readers at b0fed98
		if desc, detail := e.ReasonParts(); desc != oldDesc || detail != oldDetail || e.PublicReason() != oldDesc {
			t.Errorf("event %d: %q reads as %q / %q", e.ID, e.Reason, desc, detail)
		}
	}
	byID := func(id int64) store.AuditEvent { return events[len(events)-int(id)] }
	for id, want := range map[int64]string{
		5:  "wrong password",                                           // an operator action: no detail
		11: "Content-Type must be application/jwt",                     // registrar: description | detail
		14: "The client assertion is not a valid JWT",                  // token endpoint
		17: "401 ",                                                     // management: the HTTP status first, no description
		29: "[DCR-A032] Missing, invalid or revoked API key",           // processing API
		22: "The software product has been blocked by the Data Holder", // a pipeline step
		24: "active -> revoked: ADR asked",                             // client.status
		32: "chain intact: 31 events, head 31 " + byID(31).Hash,        // verification
	} {
		if got := byID(id).PublicReason(); got != want {
			t.Errorf("event %d: public reason %q, want %q", id, got, want)
		}
	}
	if e := byID(17); e.Type != store.EventRegistrationRead || e.Step != "authorization" {
		t.Errorf("event 17 is not the management refusal: %+v", e)
	}

	reasons, err := db.TopRejectionReasons(ctx, time.Time{}, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reasons {
		e := byID(r.LastID)
		if old, _, _ := strings.Cut(e.Reason, " | "); r.Description != old {
			t.Errorf("dashboard reason of %d: %q, was %q", r.LastID, r.Description, old)
		}
	}
	if len(reasons) == 0 {
		t.Error("no rejection reasons on the dashboard")
	}

	last, err := l.LastVerification(ctx)
	if err != nil || last == nil || !last.Finished || !last.OK || last.By != "user:operator-user" {
		t.Fatalf("last verification %+v %v", last, err)
	}
}
