package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store/pgtest"
)

// BenchmarkPostgresRegistrationTx measures durable registration transactions
// (consume the request's jti, insert the client, append the audit event: what
// dcr's commit does) from 16 goroutines, on one replica and on two sharing the
// database, on a cluster of its own with fsync and synchronous_commit on. It
// isolates the commit path from the request's signature checks, which loadgen
// includes.
//
//	go test ./store -run '^$' -bench PostgresRegistrationTx -benchtime 4000x
func BenchmarkPostgresRegistrationTx(b *testing.B) {
	c, err := pgtest.Start(pgtest.Options{Durable: true})
	if err != nil {
		pgtest.Unavailable(b, err)
	}
	b.Cleanup(c.Close)
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			url, err := c.CreateDatabase(context.Background(), b.Name())
			if err != nil {
				b.Fatal(err)
			}
			dbs := make([]*DB, n)
			for i := range dbs {
				if dbs[i], err = Open(context.Background(), url, Options{MaxOpenConns: 32}); err != nil {
					b.Fatal(err)
				}
				defer dbs[i].Close()
			}
			benchRegistrations(b, dbs)
		})
	}
}

func benchRegistrations(b *testing.B, dbs []*DB) {
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			if err := dbs[int(i)%len(dbs)].Tx(context.Background(), func(tx *Tx) error {
				return registrationLike(tx, fmt.Sprintf("bench-%d", i))
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
	var commits uint64
	for _, db := range dbs {
		commits += db.WriteStats().Commits
	}
	b.ReportMetric(float64(b.N)/float64(max(commits, 1)), "tx/commit")
}

// registrationLike writes what a registration writes, in one transaction.
func registrationLike(tx *Tx, id string) error {
	if err := ConsumeJTI(tx, JTIRegistrationRequest, id, time.Now().Add(time.Hour)); err != nil {
		return err
	}
	if err := CreateClient(tx, testClient(id, "sw-"+id)); err != nil {
		return err
	}
	head, hash, ok, err := AuditHead(tx)
	if err != nil {
		return err
	}
	if !ok {
		hash = "genesis"
	}
	return AppendAuditEvent(tx, &AuditEvent{ID: head + 1, Time: time.Now().UTC(), Type: EventRegistrationCreate,
		Outcome: OutcomeSuccess, ClientID: id, PrevHash: hash, Hash: fmt.Sprintf("h%d", head+1)})
}
