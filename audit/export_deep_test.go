package audit

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/store"
)

// TestExportsNeverExpandData: an event whose data nests 9,000 deep is exported
// as the exact text that was hashed, never indented or decoded, so an export
// grows by the stored size of an event and no more, and stays verifiable.
func TestExportsNeverExpandData(t *testing.T) {
	db := openDB(t, store.Options{Synchronous: "NORMAL"})
	l := New(db)
	ev := sampleEvent(1)
	ev.Data = `{"x":` + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + `}`
	if err := l.Record(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		export func(*bytes.Buffer) error
		data   func([]byte) (string, error)
	}{
		{"CSV", func(b *bytes.Buffer) error { _, err := l.ExportCSV(context.Background(), b, Filter{}); return err },
			func(out []byte) (string, error) {
				rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
				if err != nil || len(rows) != 2 {
					return "", err
				}
				return rows[1][16], nil
			}},
		{"JSON", func(b *bytes.Buffer) error { _, err := l.ExportJSON(context.Background(), b, Filter{}); return err },
			func(out []byte) (string, error) {
				var got []exportEvent
				if err := json.Unmarshal(out, &got); err != nil || len(got) != 1 {
					return "", err
				}
				return got[0].Data, nil
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.export(&buf); err != nil {
				t.Fatal(err)
			}
			if limit := len(ev.Data) + 2<<10; buf.Len() > limit {
				t.Fatalf("export of %d bytes for %d bytes of data", buf.Len(), len(ev.Data))
			}
			if data, err := tc.data(buf.Bytes()); err != nil || data != ev.Data {
				t.Fatalf("data not exported verbatim (%v)", err)
			}
		})
	}
}
