package main

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// killedMidway runs the registration phase and, once half the products are
// acknowledged, stops sending (requests in flight are cut off: their outcome
// is unknown, so they are not counted) and kills the server with SIGKILL.
// CPU and peak RSS are taken just before the kill.
func (l *loadRun) killedMidway(ctx context.Context, r *runner, ph phase, acked *atomic.Int64, at int64) phaseResult {
	pid := l.srv.pid()
	before, _ := sampleProc(pid)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var atKill procSample
	killed := make(chan error, 1)
	go func() {
		for acked.Load() < at && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		atKill, _ = sampleProc(pid)
		cancel()
		killed <- l.srv.kill9()
	}()
	res := r.run(ctx, ph)
	cancel()
	if err := <-killed; err != nil {
		res.note = fmt.Sprintf("kill -9 failed: %v", err)
		return res
	}
	res.serverCPU, res.peakRSSKB = atKill.cpu-before.cpu, atKill.hwmKB
	res.note = fmt.Sprintf("kill -9 after %d acknowledged registrations (requests in flight not counted)", acked.Load())
	return res
}

// checkAfterKill9 verifies the audit chain of the killed server's database,
// restarts the server on it and checks that every acknowledged registration
// is there: a token for it and a GET of it both succeed. It returns how many
// acknowledged registrations were lost.
func (l *loadRun) checkAfterKill9(ctx context.Context, acked []*client) (int, error) {
	out, err := l.srv.auditVerify()
	fmt.Fprintf(l.w, "audit verify after kill -9: %s\n", out)
	if err != nil {
		return 0, fmt.Errorf("audit verify after kill -9: %w", err)
	}
	ready, err := l.srv.start(ctx)
	if err != nil {
		return 0, fmt.Errorf("restart after kill -9: %w", err)
	}
	fmt.Fprintf(l.w, "server restarted on the same database: pid=%d start_to_readyz=%s\n", l.srv.pid(), ready.Round(100*time.Microsecond))
	forms := make([]string, len(acked))
	if err := signAll(forms, func(i int) (string, error) { return l.eco.tokenForm(acked[i].id, l.srv.baseURL) }); err != nil {
		return 0, err
	}
	r := newRunner(l.srv.baseURL, l.o.concurrency)
	r.run(ctx, phase{name: "verify-token",
		next: func(i int) (request, bool) {
			if i >= len(forms) {
				return request{}, false
			}
			return request{method: http.MethodPost, path: "/token", contentType: "application/x-www-form-urlencoded", body: forms[i], wantStatus: http.StatusOK}, true
		},
		onOK: func(i int, body []byte) { storeToken(acked[i], body) },
	})
	var present atomic.Int64
	r.run(ctx, phase{name: "verify-get",
		next: func(i int) (request, bool) {
			if i >= len(acked) {
				return request{}, false
			}
			c := acked[i]
			token := ""
			if t := c.token.Load(); t != nil {
				token = *t
			}
			return request{method: http.MethodGet, path: "/register/" + c.id, bearer: token, wantStatus: http.StatusOK}, true
		},
		onOK: func(int, []byte) { present.Add(1) },
	})
	lost := len(acked) - int(present.Load())
	fmt.Fprintf(l.w, "kill -9 check: acknowledged=%d present_after_restart=%d lost=%d\n", len(acked), present.Load(), lost)
	return lost, ctx.Err()
}
