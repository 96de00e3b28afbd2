package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/dcrconsole/dcrconsole/store"
)

// Result is the outcome of Verify.
type Result struct {
	// Events is how many events were found intact: all of them when OK, else the
	// events before BrokenID.
	Events int64
	// OK reports that every event matches its hash, links to the one before it,
	// and that ids run from 1 without a gap.
	OK bool
	// BrokenID is the id of the first event that fails a check (0 when OK). When
	// events are missing it is the event found after the gap, since the missing
	// ones have no row to point at.
	BrokenID int64
	// Problem says in one sentence what is wrong with BrokenID ("" when OK).
	Problem string
	// HeadID and HeadHash are the last intact event: the head of the whole log when
	// OK, else the last event before the break (0 and Genesis when there is none).
	// Compare them with an anchor kept outside the database to detect a truncated
	// or rewritten tail, which the chain alone cannot show.
	HeadID   int64
	HeadHash string
}

// verifyBatch bounds how many events Verify holds at once, so memory stays constant
// however long the log is, and each read transaction stays short (a long-lived
// reader would keep SQLite from checkpointing the WAL).
const verifyBatch = 1000

// Verify walks the whole chain in id order, recomputing each event's hash and
// checking that it links to the previous event and that ids are consecutive from 1.
// It stops at the first broken event. A non-nil error means the walk could not
// finish (the database failed or ctx ended), not that the log is broken.
//
// Events appended while Verify runs are checked too, when they are reached.
func (l *Log) Verify(ctx context.Context) (Result, error) {
	res := Result{HeadHash: Genesis}
	batch := make([]store.AuditEvent, 0, verifyBatch)
	buf := make([]byte, 0, 4096)
	for {
		var err error
		batch, err = l.db.AuditEventsAfter(ctx, res.HeadID, verifyBatch, batch[:0])
		var unreadable *store.UnreadableAuditEventError
		if err != nil && !errors.As(err, &unreadable) {
			return res, err
		}
		for i := range batch {
			e := &batch[i]
			if problem := check(e, res.HeadID, res.HeadHash, &buf); problem != "" {
				res.BrokenID, res.Problem = e.ID, problem
				return res, nil
			}
			res.Events++
			res.HeadID, res.HeadHash = e.ID, e.Hash
		}
		if unreadable != nil {
			// A row whose columns no longer scan (a NULL, a number in the time
			// column) was edited outside dcrconsole: report it as a break, not as
			// a failure of Verify, so the operator sees where the log was touched.
			res.BrokenID = unreadable.ID
			if res.Problem = gapProblem(unreadable.ID, res.HeadID); res.Problem == "" {
				res.Problem = fmt.Sprintf("event %d: its content cannot be read (edited?): %v", unreadable.ID, unreadable.Err)
			}
			return res, nil
		}
		if len(batch) < verifyBatch {
			res.OK = true
			return res, nil
		}
	}
}

// check returns what is wrong with e, given the id and hash of the intact event
// before it (0 and Genesis for the first), or "" when e is intact. The checks run
// in the order that names the likeliest tampering: a gap means deleted events, a
// hash mismatch an edited event, and a bad link (with a matching hash) an event
// rewritten and rehashed, or events deleted or reordered.
func check(e *store.AuditEvent, prevID int64, prevHash string, buf *[]byte) string {
	if problem := gapProblem(e.ID, prevID); problem != "" {
		return problem
	}
	if hashTo(buf, e) != e.Hash {
		return fmt.Sprintf("event %d: hash does not match its content (edited?)", e.ID)
	}
	if e.PrevHash != prevHash {
		if prevID == 0 {
			return fmt.Sprintf("event %d: prev_hash is not the genesis value (events deleted before it?)", e.ID)
		}
		return fmt.Sprintf("event %d: prev_hash does not match event %d (deleted or reordered?)", e.ID, prevID)
	}
	return ""
}

// gapProblem describes the events missing between prevID and id, or returns "".
func gapProblem(id, prevID int64) string {
	want := prevID + 1
	if id == want {
		return ""
	}
	missing := fmt.Sprintf("event %d is missing", want)
	if id-want > 1 {
		missing = fmt.Sprintf("events %d to %d are missing", want, id-1)
	}
	if prevID == 0 {
		return fmt.Sprintf("event %d is the first event: %s", id, missing)
	}
	return fmt.Sprintf("event %d follows %d: %s", id, prevID, missing)
}
