package store

import (
	"context"
	"strings"
	"testing"
)

// TestWriteFailuresOfEveryReplica: a write failure on one replica reaches the
// others' ClusterWriteFailures once reported, added to their own; a report with
// nothing new writes nothing.
func TestWriteFailuresOfEveryReplica(t *testing.T) {
	dbs := replicas(t, 2)
	leader, other := dbs[0], dbs[1]
	ctx := context.Background()
	fail := func(db *DB, table string) {
		t.Helper()
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.g.Exec(`INSERT INTO ` + table + ` VALUES (1)`).Error }); err == nil {
			t.Fatal("the insert into a missing table succeeded")
		}
	}
	check := func(step string, wantCount uint64, wantReplicas int, wantErr string) WriteFailure {
		t.Helper()
		wf, err := leader.ClusterWriteFailures(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if wf.Count != wantCount || wf.Replicas != wantReplicas || !strings.Contains(wf.Err, wantErr) {
			t.Fatalf("%s: %+v, want %d failures on %d replicas, error with %q", step, wf, wantCount, wantReplicas, wantErr)
		}
		return wf
	}
	check("nothing failed", 0, 0, "")
	fail(other, "missing_on_the_other")
	fail(other, "missing_on_the_other")
	check("not yet reported", 0, 0, "")
	if err := other.ReportWriteFailures(ctx); err != nil {
		t.Fatal(err)
	}
	if wf := check("reported", 2, 1, "missing_on_the_other"); wf.Replica != other.Replica() || wf.Last.IsZero() {
		t.Fatalf("last failure not the other replica's: %+v", wf)
	}
	fail(leader, "missing_on_the_leader")
	if wf := check("the leader's own too", 3, 2, "missing_on_the_leader"); wf.Replica != leader.Replica() {
		t.Fatalf("last failure not the leader's: %+v", wf)
	}
	// Nothing new: no write (the row's reported_at stays).
	var before, after ReplicaWriteFailure
	leader.r.Where("replica = ?", other.Replica()).Take(&before)
	if err := other.ReportWriteFailures(ctx); err != nil {
		t.Fatal(err)
	}
	leader.r.Where("replica = ?", other.Replica()).Take(&after)
	if !after.ReportedAt.Equal(before.ReportedAt) {
		t.Fatalf("a report with nothing new wrote: %v then %v", before.ReportedAt, after.ReportedAt)
	}
}
