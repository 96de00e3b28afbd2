package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestConcurrentIDsAcrossReplicas: notes, Register status history rows and
// alerts inserted at once through two handles on one PostgreSQL (two replicas,
// READ COMMITTED) all get distinct ids and are all stored: MAX(id)+1 would hand
// both the same id and fail one with 23505.
func TestConcurrentIDsAcrossReplicas(t *testing.T) {
	dbs := replicas(t, 2)
	const perReplica = 40
	kinds := []struct {
		table  string
		insert func(tx *Tx, i int) error
		rows   int // rows per insert
	}{
		{"client_notes", func(tx *Tx, i int) error {
			return AddClientNote(tx, &ClientNote{ClientID: "c1", Author: "op", Body: fmt.Sprint("note ", i), CreatedAt: time.Now()})
		}, 1},
		{"register_status_history", func(tx *Tx, i int) error {
			return AddRegisterStatusChanges(tx, []RegisterStatusChange{
				{SoftwareID: fmt.Sprint("sw-a-", i), NewStatus: "ACTIVE", ChangedAt: time.Now()},
				{SoftwareID: fmt.Sprint("sw-b-", i), NewStatus: "INACTIVE", ChangedAt: time.Now()}})
		}, 2},
		{"alerts", func(tx *Tx, i int) error {
			return InsertAlert(tx, &Alert{Kind: fmt.Sprint("kind-", i), State: AlertResolved, FiredAt: time.Now()})
		}, 1},
	}
	for _, k := range kinds {
		t.Run(k.table, func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 2*perReplica)
			start := make(chan struct{})
			for r, db := range dbs {
				for i := range perReplica {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						errs <- db.Tx(context.Background(), func(tx *Tx) error { return k.insert(tx, r*perReplica+i) })
					}()
				}
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("insert: %v", err)
				}
			}
			var n, distinct int64
			if err := dbs[0].r.Raw(`SELECT COUNT(*), COUNT(DISTINCT id) FROM `+k.table).Row().Scan(&n, &distinct); err != nil {
				t.Fatal(err)
			}
			if want := int64(2 * perReplica * k.rows); n != want || distinct != want {
				t.Fatalf("%s: %d rows, %d distinct ids; want %d", k.table, n, distinct, want)
			}
		})
	}
}
