package dcrapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAllSizedMatchesReadAll: whatever the declared length says, the body
// and the error are those io.ReadAll gives, including the limit's MaxBytesError.
func TestReadAllSizedMatchesReadAll(t *testing.T) {
	big := strings.Repeat("x", 3*bodySizeHintCap+17)
	for _, tc := range []struct {
		name     string
		body     string
		declared int64
		limit    int64 // http.MaxBytesReader limit; 0: none
		errAfter bool  // the reader fails after its data
	}{
		{"declared exactly", "header.payload.signature", 24, 0, false},
		{"unknown length", big, -1, 0, false},
		{"declared shorter than sent", big, 10, 0, false},
		{"declared longer than sent", "abc", 5000, 0, false},
		{"declared beyond the hint cap", big, int64(len(big)), 0, false},
		{"empty", "", 0, 0, false},
		{"over the body limit", big, int64(len(big)), 1000, false},
		{"reader error", "partial", 7, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := func() io.Reader {
				var r io.Reader = strings.NewReader(tc.body)
				if tc.errAfter {
					r = io.MultiReader(r, iotest.ErrReader(io.ErrUnexpectedEOF))
				}
				if tc.limit > 0 {
					r = http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(r), tc.limit)
				}
				return r
			}
			want, wantErr := io.ReadAll(open())
			got, err := readAllSized(open(), tc.declared)
			if !bytes.Equal(got, want) || errText(err) != errText(wantErr) {
				t.Fatalf("readAllSized = %d bytes, %v; io.ReadAll = %d bytes, %v", len(got), err, len(want), wantErr)
			}
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) != errors.As(wantErr, &maxErr) {
				t.Fatalf("MaxBytesError: got %v, io.ReadAll %v", err, wantErr)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
