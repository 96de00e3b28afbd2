package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// VerifyRun is one run of Verify started by an operator.
type VerifyRun struct {
	By       string    // the actor who started it
	Started  time.Time // UTC
	Finished time.Time // zero while the run is going
	Result   Result
	// Err is why the walk could not finish ("" when it did); Result then holds
	// what was checked before it stopped.
	Err string
	// AuditErr is why the run's own audit record could not be written ("" when it was).
	AuditErr string
}

// Running reports whether the run has not finished yet.
func (r VerifyRun) Running() bool { return r.Finished.IsZero() }

// VerifyJob runs Verify in the background, one run at a time, and keeps the last
// finished run for the console. Verify takes seconds per million events: too long
// for a request, and pointless to run twice at once.
type VerifyJob struct {
	log     *Log
	timeout time.Duration

	mu      sync.Mutex
	current *VerifyRun // the run going now, or nil
	last    *VerifyRun // the last finished run, or nil
	done    chan struct{}
}

// NewVerifyJob returns a job that verifies l, giving up on a run after timeout.
func NewVerifyJob(l *Log, timeout time.Duration) *VerifyJob {
	return &VerifyJob{log: l, timeout: timeout}
}

// Start begins a run in the background unless one is going. who carries the
// Actor, RemoteAddr and RequestID of the operator who asked; the run is audited
// as store.EventOperatorVerify with its result when it finishes. Start returns the run
// that is going now and whether this call started it.
func (j *VerifyJob) Start(who store.AuditEvent) (VerifyRun, bool) {
	return j.start(store.EventOperatorVerify, who)
}

// start begins a run whose result is audited as an event of type result.
func (j *VerifyJob) start(result store.EventType, who store.AuditEvent) (VerifyRun, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.current != nil {
		return *j.current, false
	}
	who.Type = result
	run := &VerifyRun{By: who.Actor, Started: time.Now().UTC()}
	j.current, j.done = run, make(chan struct{})
	go j.run(*run, who, j.done)
	return *run, true
}

// run walks the chain and records the result as who.Type.
func (j *VerifyJob) run(run VerifyRun, who store.AuditEvent, done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithTimeout(context.Background(), j.timeout)
	defer cancel()
	res, err := j.log.Verify(ctx)
	run.Result = res
	if err != nil {
		run.Err = err.Error()
	}
	run.Finished = time.Now().UTC()
	// Record before publishing, so that whoever sees the result finds its audit record.
	ev := verifyEvent(run, who)
	if err := j.log.Record(context.Background(), ev); err != nil {
		run.AuditErr = err.Error()
	}
	j.mu.Lock()
	j.current, j.last = nil, &run
	j.mu.Unlock()
}

// Status returns the run going now (ok false when none) and the last finished
// run (ok false when there has been none).
func (j *VerifyJob) Status() (current VerifyRun, running bool, last VerifyRun, finished bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.current != nil {
		current, running = *j.current, true
	}
	if j.last != nil {
		last, finished = *j.last, true
	}
	return current, running, last, finished
}

// Wait blocks until the run going now (if any) has finished or ctx ends.
func (j *VerifyJob) Wait(ctx context.Context) error {
	j.mu.Lock()
	done := j.done
	j.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Summary says in one sentence what a finished run found.
func (r VerifyRun) Summary() string {
	switch {
	case r.Err != "":
		return fmt.Sprintf("verification did not finish after %d intact events: %s", r.Result.Events, r.Err)
	case r.Result.OK:
		return fmt.Sprintf("chain intact: %d events, head %d %s", r.Result.Events, r.Result.HeadID, r.Result.HeadHash)
	default:
		return fmt.Sprintf("chain broken at event %d after %d intact events: %s", r.Result.BrokenID, r.Result.Events, r.Result.Problem)
	}
}

func verifyEvent(run VerifyRun, who store.AuditEvent) *store.AuditEvent {
	outcome := store.OutcomeSuccess
	if run.Err != "" {
		outcome = store.OutcomeError
	}
	data, _ := json.Marshal(map[string]any{
		"ok": run.Result.OK, "events": run.Result.Events, "broken_id": run.Result.BrokenID,
		"problem": run.Result.Problem, "head_id": run.Result.HeadID, "head_hash": run.Result.HeadHash,
		"started": run.Started.Format(time.RFC3339Nano), "duration_ms": run.Finished.Sub(run.Started).Milliseconds(),
	})
	return &store.AuditEvent{Type: who.Type, Actor: who.Actor, Outcome: outcome, Reason: run.Summary(),
		RemoteAddr: who.RemoteAddr, RequestID: who.RequestID, DurationUS: run.Finished.Sub(run.Started).Microseconds(),
		Data: string(data)}
}

// Verification is what the audit log says of the latest chain verification.
type Verification struct {
	ID      int64 // the audit event that records it
	Time    time.Time
	By      string // the actor who started it
	Summary string // VerifyRun.Summary at the time
	// Finished reports that the walk reached its end (or a break); false when it
	// could not finish (the database failed).
	Finished bool
	// OK reports that the walk found the chain intact.
	OK bool
}

// LastVerification reads the audit record of the latest chain verification,
// by an operator or scheduled (one seek per type in the (type, id) index); nil
// when there has been none.
func (l *Log) LastVerification(ctx context.Context) (*Verification, error) {
	var latest *store.AuditEvent
	for _, t := range []store.EventType{store.EventOperatorVerify, store.EventAuditVerifyScheduled} {
		rows, _, err := l.List(ctx, Filter{Type: string(t), Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 && (latest == nil || rows[0].ID > latest.ID) {
			latest = &rows[0]
		}
	}
	if latest == nil {
		return nil, nil
	}
	var data struct {
		OK bool `json:"ok"`
	}
	_ = json.Unmarshal([]byte(latest.Data), &data)
	finished := latest.Outcome == store.OutcomeSuccess
	return &Verification{ID: latest.ID, Time: latest.Time, By: latest.Actor, Summary: latest.Reason,
		Finished: finished, OK: finished && data.OK}, nil
}
