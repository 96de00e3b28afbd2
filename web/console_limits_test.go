package web

import (
	"net/http"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// TestExportsAreBounded: with every export slot taken, another export is
// refused with 429 (and nothing is recorded as exported).
func TestExportsAreBounded(t *testing.T) {
	h := newHarness(t)
	viewer := h.operator(t, store.RoleViewer)
	s := h.app.server
	for i := 0; i < maxConcurrentExports; i++ {
		s.exports <- struct{}{}
	}
	for _, path := range []string{"/console/audit.csv", "/console/audit.json", "/console/clients.csv"} {
		if r := h.console(http.MethodGet, path, viewer, ""); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Fatalf("%s with every slot taken: %d", path, r.status)
		}
	}
	var exports int64
	storetest.Gorm(t, h.db).Model(&store.AuditEvent{}).Where("type = 'operator.export'").Count(&exports)
	if exports != 0 {
		t.Fatalf("%d refused exports were recorded", exports)
	}
	<-s.exports
	if r := h.console(http.MethodGet, "/console/audit.csv", viewer, ""); r.status != http.StatusOK {
		t.Fatalf("with a free slot: %d", r.status)
	}
}

// TestVerificationRequestIsRecordedFirst: the request to verify the chain is in
// the chain before the run starts.
func TestVerificationRequestIsRecordedFirst(t *testing.T) {
	h := newHarness(t)
	op := h.operator(t, store.RoleOperator)
	if r := h.console(http.MethodPost, "/console/audit/verify", op, ""); r.status != http.StatusSeeOther {
		t.Fatalf("%d", r.status)
	}
	var started int64
	storetest.Gorm(t, h.db).Model(&store.AuditEvent{}).Where("type = 'operator.verify_start' AND actor = 'user:operator-user'").Count(&started)
	if started != 1 {
		t.Fatalf("%d verify_start events", started)
	}
	// Let the background run finish before the test's database goes away.
	for i := 0; i < 500; i++ {
		if _, running, _, _ := h.app.server.verify.Status(); !running {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the verification did not finish")
}
