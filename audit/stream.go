package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// Defaults of StreamOptions.
const (
	DefaultStreamPoll       = time.Second
	DefaultStreamBatch      = 500
	DefaultStreamMaxBackoff = time.Minute
	DefaultCheckpointEvery  = time.Hour
)

// streamCursorKey prefixes the meta key holding a sink's cursor: the id of the
// last event delivered to it. Each target has its own, so pointing the stream
// at a new sink sends it the whole chain.
const streamCursorKey = "audit_stream.cursor "

// StreamOptions configure a Stream.
type StreamOptions struct {
	// Target is "stdout", "file:PATH" or "syslog+tls://host:port" (audit.stream).
	Target string
	// Sink replaces the sink Target names (tests; Target still keys the cursor).
	Sink Sink
	// Syslog is the TLS of a syslog+tls target.
	Syslog SyslogOptions
	// CheckpointEvery is how often a checkpoint record (head id and hash) follows the events.
	CheckpointEvery time.Duration
	Poll            time.Duration // how often to look for new events
	Batch           int           // events per write
	MaxBackoff      time.Duration // the longest wait between retries after a sink failure
}

// Sink receives the stream: Write delivers records in order or fails; after a
// failure the stream calls Reset and writes again from its cursor.
type Sink interface {
	Write(recs []Record) error
	Reset()
	Close() error
}

// Record is one line of the stream: an event, or a checkpoint.
type Record struct {
	Line       []byte    // one JSON object and a newline
	Time       time.Time // the event's time, or the checkpoint's
	Checkpoint bool
}

// StreamStatus is what the stream has done, for the console and the logs.
type StreamStatus struct {
	Target     string
	Cursor     int64 // the last event delivered
	LastError  string
	LastErrAt  time.Time
	Checkpoint time.Time // the last checkpoint delivered
}

// Stream delivers every audit event, in chain order and at least once, to a
// sink, resuming from a cursor persisted in the database: a restart or an
// outage of the sink loses nothing. A SIEM de-duplicates on the event id.
type Stream struct {
	log  *Log
	db   *store.DB
	sink Sink
	opts StreamOptions
	logr *slog.Logger

	mu     sync.Mutex
	status StreamStatus
	done   chan struct{} // closed when Run returns
}

// NewStream returns the stream of l to opts.Target.
func NewStream(l *Log, opts StreamOptions, log *slog.Logger) (*Stream, error) {
	if opts.Poll <= 0 {
		opts.Poll = DefaultStreamPoll
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultStreamBatch
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultStreamMaxBackoff
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = DefaultCheckpointEvery
	}
	sink := opts.Sink
	if sink == nil {
		var err error
		if sink, err = OpenSink(opts.Target, opts.Syslog); err != nil {
			return nil, err
		}
	}
	return &Stream{log: l, db: l.db, sink: sink, opts: opts, logr: log, status: StreamStatus{Target: opts.Target},
		done: make(chan struct{})}, nil
}

// Status returns what the stream has done so far.
func (s *Stream) Status() StreamStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// StreamCursor reads the persisted cursor of target: the last event delivered.
func (l *Log) StreamCursor(ctx context.Context, target string) (int64, error) {
	v, err := l.db.GetMeta(ctx, streamCursorKey+target)
	if err != nil || v == "" {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// Done is closed once Run has returned and the sink is closed.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Run streams until ctx ends, then closes the sink. Call it once.
func (s *Stream) Run(ctx context.Context) { s.RunWhile(ctx, nil) }

// RunWhile is Run for one of several replicas: it sends only while active()
// is true (the leader), and on becoming active again takes up the cursor as
// the other replica left it in the database. A nil active means always.
func (s *Stream) RunWhile(ctx context.Context, active func() bool) {
	defer close(s.done)
	defer s.sink.Close()
	cursor, err := s.log.StreamCursor(ctx, s.opts.Target)
	for err != nil {
		s.failed(fmt.Errorf("reading the cursor: %w", err))
		if !sleep(ctx, s.opts.Poll) {
			return
		}
		cursor, err = s.log.StreamCursor(ctx, s.opts.Target)
	}
	s.setCursor(cursor)
	var lastCheckpoint time.Time
	backoff := time.Duration(0)
	// previous is the cursor before the last batch written: after a failure the
	// stream resends from there, in case that batch was accepted by the network
	// but never reached the receiver (syslog over TCP has no acknowledgement).
	previous := cursor
	buf := make([]store.AuditEvent, 0, s.opts.Batch)
	for ctx.Err() == nil {
		if active != nil && !active() {
			// Another replica streams: pick up its cursor when this one leads again.
			sleep(ctx, s.opts.Poll)
			if c, err := s.log.StreamCursor(ctx, s.opts.Target); err == nil {
				previous, cursor = c, c
				s.setCursor(c)
			}
			continue
		}
		next, wrote, err := s.step(ctx, cursor, &lastCheckpoint, buf[:0])
		if err != nil {
			s.failed(err)
			if errors.As(err, new(*sinkError)) {
				s.sink.Reset()
				cursor = previous
			}
			backoff = min(max(2*backoff, time.Second), s.opts.MaxBackoff)
			sleep(ctx, backoff)
			continue
		}
		backoff = 0
		if next != cursor {
			previous, cursor = cursor, next
			s.setCursor(cursor)
			if err := s.db.SetMeta(context.WithoutCancel(ctx), streamCursorKey+s.opts.Target, strconv.FormatInt(cursor, 10)); err != nil {
				// Not fatal: after a restart the stream resends from the older cursor.
				s.logr.Warn("audit stream: saving the cursor", "cursor", cursor, "error", err)
			}
		}
		if !wrote {
			sleep(ctx, s.opts.Poll)
		}
	}
}

// step writes the next batch after cursor, or a checkpoint when the stream is
// caught up and one is due. It returns the new cursor and whether it wrote.
func (s *Stream) step(ctx context.Context, cursor int64, lastCheckpoint *time.Time, buf []store.AuditEvent) (int64, bool, error) {
	events, err := s.db.AuditEventsAfter(ctx, cursor, s.opts.Batch, buf)
	if len(events) == 0 && err != nil {
		return cursor, false, fmt.Errorf("reading events after %d: %w", cursor, err)
	}
	if len(events) > 0 {
		recs := make([]Record, len(events))
		for i := range events {
			recs[i] = Record{Line: JSONLine(&events[i]), Time: events[i].Time}
		}
		if err := s.sink.Write(recs); err != nil {
			return cursor, false, &sinkError{err}
		}
		return events[len(events)-1].ID, true, nil
	}
	if time.Since(*lastCheckpoint) < s.opts.CheckpointEvery {
		return cursor, false, nil
	}
	id, hash, err := s.log.Head(ctx)
	if err != nil || id != cursor || id == 0 {
		return cursor, false, err // not caught up after all (events first), or nothing to anchor
	}
	now := time.Now().UTC()
	if err := s.sink.Write([]Record{{Line: CheckpointLine(id, hash, now), Time: now, Checkpoint: true}}); err != nil {
		return cursor, false, &sinkError{err}
	}
	*lastCheckpoint = now
	s.mu.Lock()
	s.status.Checkpoint = now
	s.mu.Unlock()
	return cursor, true, nil
}

// sinkError is a failure of the sink (not of reading the log).
type sinkError struct{ err error }

func (e *sinkError) Error() string { return "sink: " + e.err.Error() }
func (e *sinkError) Unwrap() error { return e.err }

// CheckpointType is the "type" of a checkpoint record in the stream.
const CheckpointType = "stream.checkpoint"

// CheckpointLine is the stream's checkpoint record: the chain's head as it was
// when every event up to it had been delivered, so the SIEM holds an anchor of
// the chain outside the database.
func CheckpointLine(headID int64, headHash string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{"type": CheckpointType, "time": at.UTC().Format(time.RFC3339Nano),
		"head_id": headID, "head_hash": headHash})
	return append(b, '\n')
}

func (s *Stream) setCursor(c int64) {
	s.mu.Lock()
	s.status.Cursor = c
	s.mu.Unlock()
}

func (s *Stream) failed(err error) {
	s.mu.Lock()
	s.status.LastError, s.status.LastErrAt = err.Error(), time.Now().UTC()
	s.mu.Unlock()
	s.logr.Warn("audit stream: delivery failed; retrying from the cursor", "target", s.opts.Target, "error", err)
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
