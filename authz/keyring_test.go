package authz

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/pgtest"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestConcurrentFirstKeyIsOne: several replicas starting at once on one empty
// database each find no holder key; exactly one first key is stored and every
// replica signs with it.
func TestConcurrentFirstKeyIsOne(t *testing.T) {
	const replicas = 4
	for _, backend := range pgtest.Backends() {
		t.Run(backend, func(t *testing.T) {
			dsn := pgtest.DSN(t, backend, filepath.Join(t.TempDir(), "dcr.db"))
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			dbs := make([]*store.DB, replicas)
			for i := range dbs {
				db, err := store.Open(context.Background(), dsn, store.Options{MaxOpenConns: 4})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				dbs[i] = db
			}
			rings := make([]*KeyRing, replicas)
			errs := make([]error, replicas)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range dbs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					rings[i], errs[i] = NewKeyRing(context.Background(), dbs[i], "ES256", nil, log)
				}()
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("replica %d: %v", i, err)
				}
			}
			var n int64
			if err := storetest.Gorm(t, dbs[0]).Model(&store.HolderKey{}).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("%d holder keys after %d concurrent starts, want 1", n, replicas)
			}
			for i, r := range rings {
				if r.SigningKeyID() != rings[0].SigningKeyID() {
					t.Fatalf("replica %d signs with %s, replica 0 with %s", i, r.SigningKeyID(), rings[0].SigningKeyID())
				}
			}
		})
	}
}
