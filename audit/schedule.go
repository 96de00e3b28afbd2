package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// SchedulerActor is the actor of scheduled verifications.
const SchedulerActor = "scheduler"

// RunSchedule verifies the chain every interval until ctx ends, recording each
// result as store.EventAuditVerifyScheduled (the last result is what
// LastVerification reads, so it survives a restart). The first run is due an
// interval after the last verification of any kind, so restarting the server
// neither skips nor repeats one. A run already going (an operator's) is waited
// for instead of doubled. interval <= 0 disables the schedule.
func (j *VerifyJob) RunSchedule(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	var ranAt time.Time // this loop's last run: a run whose record failed still counts
	for {
		wait := interval
		if last, err := j.log.LastVerification(ctx); err == nil && last != nil {
			wait = time.Until(last.Time.Add(interval))
		} else if err != nil && ctx.Err() == nil {
			log.Warn("scheduled audit verification: reading the last result", "error", err)
		}
		if !ranAt.IsZero() {
			wait = max(wait, time.Until(ranAt.Add(interval)))
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		ranAt = time.Now()
		j.start(store.EventAuditVerifyScheduled, store.AuditEvent{Actor: SchedulerActor})
		if err := j.Wait(ctx); err != nil {
			return
		}
		if _, _, last, ok := j.Status(); ok && (!last.Result.OK || last.Err != "") {
			log.Error("scheduled audit verification failed", "summary", last.Summary())
		}
	}
}
