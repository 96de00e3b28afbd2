package audit

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// TestStreamSendsOnlyWhileActive: on a replica that does not lead, the stream
// sends nothing; when it leads again it takes up the cursor another replica
// left in the database instead of resending from its own.
func TestStreamSendsOnlyWhileActive(t *testing.T) {
	db := openDB(t, store.Options{})
	l := New(db)
	ctx := context.Background()
	appendN := func(from, n int) {
		t.Helper()
		err := db.Tx(ctx, func(tx *store.Tx) error {
			for i := from; i < from+n; i++ {
				if err := l.Append(tx, sampleEvent(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	appendN(0, 5)
	path := filepath.Join(t.TempDir(), "a.jsonl")
	target := "file:" + path
	s, err := NewStream(l, StreamOptions{Target: target, Poll: time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var active atomic.Bool
	sctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); <-s.Done() }()
	go s.RunWhile(sctx, active.Load)

	// Another replica, leading, streamed the first 5 events and saved its cursor.
	if err := db.SetMeta(ctx, streamCursorKey+target, "5"); err != nil {
		t.Fatal(err)
	}
	appendN(5, 3)
	time.Sleep(30 * time.Millisecond)
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Fatalf("a stream that does not lead sent:\n%s", b)
	}
	active.Store(true)
	deadline := time.Now().Add(10 * time.Second)
	for s.Status().Cursor < 8 {
		if time.Now().After(deadline) {
			t.Fatalf("cursor %d, want 8", s.Status().Cursor)
		}
		time.Sleep(time.Millisecond)
	}
	b, _ := os.ReadFile(path)
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !strings.Contains(line, "stream.checkpoint") {
			lines = append(lines, line)
		}
	}
	if len(lines) != 3 || !strings.Contains(lines[0], `"id":6`) {
		t.Fatalf("sent %d lines, want events 6..8 only:\n%s", len(lines), b)
	}
}
