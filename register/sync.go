package register

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dcrconsole/dcrconsole/store"
)

// A sync keeps no raw Register answer once it is indexed: an answer of a
// 30,000-product Register is tens of megabytes, and the index is all the holder
// reads. What a conditional GET needs (the ETag, a digest to recognise an
// unchanged 200) stays in memory; the body stays in the store, the last good
// copy a restart loads and a later sync re-reads when another endpoint changed.

// snapshotMeta is what a Data keeps of one endpoint's last good answer.
type snapshotMeta struct {
	etag string
	sum  [sha256.Size]byte // of the body
}

func metaOf(etag string, body []byte) snapshotMeta {
	return snapshotMeta{etag: etag, sum: sha256.Sum256(body)}
}

// fetched is one endpoint's answer in a sync.
type fetched struct {
	url     string
	meta    snapshotMeta
	body    []byte // nil when unchanged (a 304, or a 200 with the same ETag and body)
	changed bool   // a 200 with a new body or ETag, to be saved
}

// Sync fetches the three Register endpoints now. It succeeds only when every
// endpoint answers 200 with a valid body or 304; otherwise the previous data
// stays in use and only the failure is recorded. OnChange callbacks run before
// it returns; they must not call Sync themselves.
func (r *Data) Sync(ctx context.Context) error {
	r.current() // after the stored copy, never under it
	r.syncMu.Lock()
	changes, err := r.sync(ctx)
	if err != nil {
		r.syncMu.Unlock()
		return err
	}
	// Run the callbacks outside the sync lock, but in sync order.
	r.cbMu.Lock()
	r.recordHistory(ctx, changes)
	defer r.cbMu.Unlock()
	r.syncMu.Unlock()
	if len(changes) > 0 {
		for _, fn := range r.callbacks {
			fn(ctx, changes)
		}
	}
	for _, fn := range r.synced {
		fn(ctx)
	}
	return nil
}

// OnSynced registers fn to run after every successful sync and after Load, with
// the data in place: for work that must converge on the Register's state whatever
// happened before (a crash between two syncs, a failed earlier attempt).
func (r *Data) OnSynced(fn func(ctx context.Context)) {
	r.cbMu.Lock()
	defer r.cbMu.Unlock()
	r.synced = append(r.synced, fn)
}

func (r *Data) sync(ctx context.Context) ([]ProductChange, error) {
	attempt := r.opts.Now()
	var got [3]fetched
	g, gctx := errgroup.WithContext(ctx)
	for i, ep := range registerEndpoints {
		g.Go(func() (err error) {
			got[i], err = r.fetchEndpoint(gctx, ep)
			return err
		})
	}
	err := g.Wait()
	idx := r.index.Load() // unchanged answers: the index in use is theirs
	if err == nil && (got[0].changed || got[1].changed || got[2].changed) {
		idx, err = r.reindex(ctx, &got)
	}
	next := *r.health.Load()
	next.LastAttemptAt = &attempt
	if err == nil {
		next.LastSuccessAt, next.ConsecutiveFails = &attempt, 0
		err = r.save(ctx, &got, attempt, &next)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // shutting down: not a Register failure
		}
		r.recordFailure(ctx, attempt, err)
		return nil, fmt.Errorf("register sync: %w", err)
	}
	for i := range got {
		r.snaps[got[i].url] = got[i].meta
	}
	r.health.Store(&next)
	changes := diffProducts(r.index.Swap(idx), idx)
	r.log.Info("register sync", "products", len(idx.products), "changes", len(changes))
	return changes, nil
}

// reindex builds the index from the answers, reading the stored copy of the
// endpoints that did not change.
func (r *Data) reindex(ctx context.Context, got *[3]fetched) (*registerIndex, error) {
	var bodies [3][]byte
	for i := range got {
		bodies[i] = got[i].body
		if got[i].body != nil {
			continue
		}
		stored, err := r.db.RegisterSnapshotBody(ctx, got[i].url)
		if err == nil && metaOf(got[i].meta.etag, stored) != got[i].meta {
			err = errors.New("it is not the last good answer")
		}
		if err != nil {
			// The next sync asks for the whole answer again, and stores it.
			delete(r.snaps, got[i].url)
			return nil, fmt.Errorf("%s: stored copy: %w", registerEndpoints[i].name, err)
		}
		bodies[i] = stored
	}
	return r.buildIndex(bodies)
}

// save stores the changed answers and the health in one transaction.
func (r *Data) save(ctx context.Context, got *[3]fetched, at time.Time, health *store.RegisterSync) error {
	return r.db.Tx(ctx, func(tx *store.Tx) error {
		for i := range got {
			if got[i].changed {
				snap := store.RegisterSnapshot{Endpoint: got[i].url, ETag: got[i].meta.etag, Body: got[i].body, FetchedAt: at}
				if err := store.SaveRegisterSnapshot(tx, &snap); err != nil {
					return fmt.Errorf("saving snapshot: %w", err)
				}
			}
		}
		return store.SaveRegisterSyncHealth(tx, health)
	})
}

func (r *Data) recordFailure(ctx context.Context, at time.Time, cause error) {
	next := *r.health.Load()
	next.LastAttemptAt, next.LastErrorAt = &at, &at
	next.LastError = cause.Error()
	next.ConsecutiveFails++
	r.health.Store(&next)
	r.log.Warn("register sync failed; keeping the last good data", "err", cause, "consecutive_fails", next.ConsecutiveFails)
	if err := r.db.Tx(ctx, func(tx *store.Tx) error { return store.SaveRegisterSyncHealth(tx, &next) }); err != nil {
		r.log.Error("register sync: saving health", "err", err)
	}
}

// fetchEndpoint makes one conditional GET; the body is checked by buildIndex.
func (r *Data) fetchEndpoint(ctx context.Context, ep registerEndpoint) (fetched, error) {
	u := r.url(ep)
	prev, havePrev := r.snaps[u]
	h := http.Header{"Accept": {"application/json"}, "X-V": {ep.version}, "X-Min-V": {ep.minimum}}
	if havePrev && prev.etag != "" {
		h.Set("If-None-Match", prev.etag)
	}
	resp, err := r.f.Get(ctx, u, h)
	if err != nil {
		return fetched{}, fmt.Errorf("%s: %w", ep.name, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && havePrev:
		return fetched{url: u, meta: prev}, nil
	case resp.StatusCode != http.StatusOK:
		return fetched{}, fmt.Errorf("%s: HTTP status %d", ep.name, resp.StatusCode)
	}
	meta := metaOf(resp.Header.Get("ETag"), resp.Body)
	if havePrev && meta == prev {
		return fetched{url: u, meta: prev}, nil
	}
	return fetched{url: u, meta: meta, body: resp.Body, changed: true}, nil
}
