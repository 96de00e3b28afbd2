package audit

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// ExportColumns are the CSV header and the JSON keys, in order: every field of an
// event, hashes included. The JSON export carries the values exactly and can be
// re-hashed against the chain; the CSV is for reading in a spreadsheet, where a
// cell starting with = + - @ tab or CR gets a leading ' (so re-hash from JSON).
var ExportColumns = []string{"id", "time", "type", "actor", "outcome", "error_code", "step", "reason",
	"software_id", "org_id", "client_id", "jti", "remote_addr", "cert_thumbprint", "request_id",
	"duration_us", "data", "prev_hash", "hash"}

// exportFlushEvery is how many events go out between flushes: often enough that
// a slow download streams, rarely enough that flushing costs nothing.
const exportFlushEvery = 1000

// exportBufferSize is the write buffer between the rows and the client.
const exportBufferSize = 64 << 10

// flusher is an http.ResponseWriter that can push what it has to the client.
type flusher interface{ Flush() }

// ExportCSV writes the events f selects to w as CSV (RFC 4180, header first,
// newest first), streaming: memory stays constant however many events there are.
// Cells that a spreadsheet would run as a formula are quoted (see CSVSafe). It
// returns how many events it wrote.
func (l *Log) ExportCSV(ctx context.Context, w io.Writer, f Filter) (int64, error) {
	bw := bufio.NewWriterSize(w, exportBufferSize)
	cw := csv.NewWriter(bw)
	if err := cw.Write(ExportColumns); err != nil {
		return 0, err
	}
	var n int64
	rec := make([]string, len(ExportColumns))
	err := l.Each(ctx, f, func(e *store.AuditEvent) error {
		rec[0] = strconv.FormatInt(e.ID, 10)
		rec[1] = e.Time.UTC().Format(time.RFC3339Nano)
		for i, s := range [...]string{string(e.Type), e.Actor, string(e.Outcome), e.ErrorCode, e.Step, e.Reason, e.SoftwareID,
			e.OrgID, e.ClientID, e.JTI, e.RemoteAddr, e.CertThumbprint, e.RequestID} {
			rec[2+i] = CSVSafe(s)
		}
		rec[15] = strconv.FormatInt(e.DurationUS, 10)
		rec[16], rec[17], rec[18] = CSVSafe(e.Data), CSVSafe(e.PrevHash), CSVSafe(e.Hash)
		if err := cw.Write(rec); err != nil {
			return err
		}
		n++
		if n%exportFlushEvery == 0 {
			cw.Flush()
			return flush(w, bw, cw.Error())
		}
		return nil
	})
	cw.Flush()
	if ferr := flush(w, bw, cw.Error()); err == nil {
		err = ferr
	}
	return n, err
}

// exportEvent is an event as the JSON export writes it.
type exportEvent struct {
	ID             int64  `json:"id"`
	Time           string `json:"time"`
	Type           string `json:"type"`
	Actor          string `json:"actor"`
	Outcome        string `json:"outcome"`
	ErrorCode      string `json:"error_code"`
	Step           string `json:"step"`
	Reason         string `json:"reason"`
	SoftwareID     string `json:"software_id"`
	OrgID          string `json:"org_id"`
	ClientID       string `json:"client_id"`
	JTI            string `json:"jti"`
	RemoteAddr     string `json:"remote_addr"`
	CertThumbprint string `json:"cert_thumbprint"`
	RequestID      string `json:"request_id"`
	DurationUS     int64  `json:"duration_us"`
	// Data stays a string: the exact text that was hashed, so the export can be verified.
	Data     string `json:"data"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// exportOf is e as the JSON export (and the audit stream) writes it.
func exportOf(e *store.AuditEvent) exportEvent {
	return exportEvent{ID: e.ID, Time: e.Time.UTC().Format(time.RFC3339Nano), Type: string(e.Type), Actor: e.Actor,
		Outcome: string(e.Outcome), ErrorCode: e.ErrorCode, Step: e.Step, Reason: e.Reason, SoftwareID: e.SoftwareID,
		OrgID: e.OrgID, ClientID: e.ClientID, JTI: e.JTI, RemoteAddr: e.RemoteAddr, CertThumbprint: e.CertThumbprint,
		RequestID: e.RequestID, DurationUS: e.DurationUS, Data: e.Data, PrevHash: e.PrevHash, Hash: e.Hash}
}

// JSONLine is e as one line of JSON (newline included) with exactly the fields
// and values of the JSON export, so a line re-hashes to e.Hash.
func JSONLine(e *store.AuditEvent) []byte {
	x := exportOf(e)
	b, _ := json.Marshal(&x) // strings and integers only: cannot fail
	return append(b, '\n')
}

// ExportJSON writes the events f selects to w as one JSON array, newest first,
// one element per line (after the first, each line opens with the comma that
// separates it), streaming element by element: memory stays constant.
// A failure part-way leaves the array unclosed, so a truncated export never
// parses as a complete one. It returns how many events it wrote.
func (l *Log) ExportJSON(ctx context.Context, w io.Writer, f Filter) (int64, error) {
	bw := bufio.NewWriterSize(w, exportBufferSize)
	enc := json.NewEncoder(bw)
	if _, err := bw.WriteString("["); err != nil {
		return 0, err
	}
	var n int64
	var x exportEvent
	err := l.Each(ctx, f, func(e *store.AuditEvent) error {
		sep := ","
		if n == 0 {
			sep = "\n"
		}
		if _, err := bw.WriteString(sep); err != nil {
			return err
		}
		x = exportOf(e)
		// Encode ends each element with a newline: one event per line.
		if err := enc.Encode(&x); err != nil {
			return err
		}
		n++
		if n%exportFlushEvery == 0 {
			return flush(w, bw, nil)
		}
		return nil
	})
	if err != nil {
		_ = flush(w, bw, nil)
		return n, err
	}
	_, err = bw.WriteString("]\n")
	if ferr := flush(w, bw, nil); err == nil {
		err = ferr
	}
	return n, err
}

// flush pushes the buffer to w, and on to the client when w is a ResponseWriter.
func flush(w io.Writer, bw *bufio.Writer, prior error) error {
	if prior != nil {
		return prior
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if f, ok := w.(flusher); ok {
		f.Flush()
	}
	return nil
}

// CSVSafe defuses a cell a spreadsheet would read as a formula (or as the start
// of one, after a tab or carriage return) by prefixing a single quote, the
// OWASP-recommended escape. Everything else is returned unchanged.
func CSVSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
