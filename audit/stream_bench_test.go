package audit

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// BenchmarkStreamToFile is the audit stream's cost per event: reading the
// events after the cursor, encoding each as the export's line, appending them
// to a file with an fsync per batch and saving the cursor.
//
//	go test ./audit -run '^$' -bench BenchmarkStreamToFile -benchtime 20000x
func BenchmarkStreamToFile(b *testing.B) {
	db := openDB(b, store.Options{})
	l := New(db)
	ctx := context.Background()
	for done := 0; done < b.N; done += 1000 {
		err := db.Tx(ctx, func(tx *store.Tx) error {
			for i := done; i < min(done+1000, b.N); i++ {
				if err := l.Append(tx, sampleEvent(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	head, _, _ := l.Head(ctx)
	s, err := NewStream(l, StreamOptions{Target: "file:" + filepath.Join(b.TempDir(), "a.jsonl")}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	b.ReportAllocs()
	b.ResetTimer()
	go s.Run(sctx)
	for s.Status().Cursor < head {
		sleep(ctx, time.Millisecond)
	}
	b.StopTimer()
	cancel()
	<-s.Done()
	b.ReportMetric(float64(head)/b.Elapsed().Seconds(), "events/s")
}
