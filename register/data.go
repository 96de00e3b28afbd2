// Package register owns the holder's copy of the CDR Register: the data
// recipients, brands and software products with their statuses, polled through
// a fetch.Fetcher (ETags, a last good copy kept in the store), indexed for
// lookups on every registration and token request, and diffed into change
// events for the registrar. What a status means for a client is package dcr's
// (and authz's) call, not this package's.
package register

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/dcrconsole/dcrconsole/fetch"
	"github.com/dcrconsole/dcrconsole/store"
)

// Defaults of Options.
const (
	DefaultInterval                 = time.Minute
	DefaultForcedRefreshMinInterval = 10 * time.Second
)

// Options configure Data.
type Options struct {
	BaseURI  string // e.g. https://api.cdr.gov.au/cdr-register/v1
	Industry string // "all" when empty
	// Interval is the poll period (register.refresh_interval; default 1 min,
	// the standards require reacting to changes within 5 minutes).
	Interval time.Duration
	// ForcedRefreshMinInterval is the least time between two syncs forced by an
	// unknown product. Zero means DefaultForcedRefreshMinInterval; a negative
	// value means no minimum (tests).
	ForcedRefreshMinInterval time.Duration
	Now                      func() time.Time // default time.Now
}

// Data keeps the CDR Register's data recipients, brands and software
// products with their statuses, polled from the Register and persisted so the
// holder keeps working, with the last good copy, when the Register is down.
type Data struct {
	db   *store.DB
	f    *fetch.Fetcher
	opts Options
	log  *slog.Logger

	index atomic.Pointer[registerIndex] // immutable; swapped after each good sync
	// loaded is closed once the stored copy is in place (at once, unless
	// StartLoad runs); ready caches that, to spare the hot path the channel.
	loaded atomic.Pointer[chan struct{}]
	ready  atomic.Bool

	syncMu sync.Mutex              // one sync at a time; guards snaps and health writes
	snaps  map[string]snapshotMeta // last good response per endpoint URL, without its body
	health atomic.Pointer[store.RegisterSync]

	forced     singleflight.Group
	forcedMu   sync.Mutex
	lastForced time.Time

	cbMu      sync.Mutex // serialises change callbacks, in sync order
	callbacks []func(ctx context.Context, changes []ProductChange)
	synced    []func(ctx context.Context)
}

// New builds a Data; call Load, then Run.
func New(db *store.DB, f *fetch.Fetcher, opts Options, log *slog.Logger) *Data {
	if opts.Industry == "" {
		opts.Industry = "all"
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.ForcedRefreshMinInterval == 0 {
		opts.ForcedRefreshMinInterval = DefaultForcedRefreshMinInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts.BaseURI = strings.TrimRight(opts.BaseURI, "/")
	r := &Data{db: db, f: f, opts: opts, log: log, snaps: map[string]snapshotMeta{}}
	r.index.Store(&registerIndex{})
	open := make(chan struct{})
	close(open)
	r.loaded.Store(&open)
	r.ready.Store(true)
	r.health.Store(&store.RegisterSync{ID: 1})
	return r
}

type registerEndpoint struct {
	name    string // in error messages
	path    string
	version string
	minimum string
	decode  func([]byte) (any, error)
}

// registerEndpoints are polled together; the order is the order of buildIndex's bodies.
var registerEndpoints = [3]registerEndpoint{
	{"data-recipients", "/data-recipients", "4", "3", decodeDataRecipients},
	{"data-recipients/status", "/data-recipients/status", "3", "1", decodeLegalEntityStatuses},
	{"software-products/status", "/data-recipients/brands/software-products/status", "3", "1", decodeProductStatuses},
}

func (r *Data) url(ep registerEndpoint) string {
	return r.opts.BaseURI + "/" + r.opts.Industry + ep.path
}

// Load builds the index from the stored snapshots and restores the sync
// health, without the network (at start, before the first sync).
func (r *Data) Load(ctx context.Context) error {
	return r.loadThenOpen(ctx, nil)
}

// StartLoad runs Load in the background, so that a start does not wait for
// it; the channel gets Load's result. Until the stored copy is in place, every
// reader of the data (Product, LookupRefreshing, Products, Health, the
// console's queries) and Sync wait for it: nothing is answered from an empty
// copy, and a sync never lands before the older stored copy. Call it before
// serving, once.
func (r *Data) StartLoad(ctx context.Context) <-chan error {
	gate := make(chan struct{})
	r.ready.Store(false)
	r.loaded.Store(&gate)
	done := make(chan error, 1)
	go func() { done <- r.loadThenOpen(ctx, gate) }()
	return done
}

// loadThenOpen loads the stored copy, opens the gate (when there is one) and
// runs the OnSynced callbacks, ahead of any sync's.
func (r *Data) loadThenOpen(ctx context.Context, gate chan struct{}) error {
	loaded, err := r.load(ctx)
	r.cbMu.Lock()
	defer r.cbMu.Unlock()
	if gate != nil {
		r.ready.Store(true)
		close(gate)
	}
	if err != nil || !loaded {
		return err
	}
	for _, fn := range r.synced {
		fn(ctx)
	}
	return nil
}

// current is the index in use, once the stored copy is in place.
func (r *Data) current() *registerIndex {
	if !r.ready.Load() {
		<-*r.loaded.Load()
	}
	return r.index.Load()
}

func (r *Data) load(ctx context.Context) (bool, error) {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	rows, err := r.db.RegisterSnapshots(ctx)
	if err != nil {
		return false, fmt.Errorf("register data: load snapshots: %w", err)
	}
	h, err := r.db.RegisterSyncHealth(ctx)
	if err != nil {
		return false, fmt.Errorf("register data: load sync health: %w", err)
	}
	byURL := make(map[string]store.RegisterSnapshot, len(rows))
	for _, s := range rows {
		byURL[s.Endpoint] = s
	}
	snaps := map[string]snapshotMeta{}
	var bodies [3][]byte
	for i, ep := range registerEndpoints {
		if s, ok := byURL[r.url(ep)]; ok {
			snaps[s.Endpoint] = metaOf(s.ETag, s.Body)
			bodies[i] = s.Body
		}
	}
	r.health.Store(&h)
	if bodies[0] == nil {
		return false, nil // never synced (or synced against another Register)
	}
	idx, err := r.buildIndex(bodies)
	if err != nil {
		return false, fmt.Errorf("register data: stored snapshot: %w", err)
	}
	r.snaps = snaps
	r.index.Store(idx)
	return true, nil
}

// Run syncs at once, then every Interval until ctx is done. Failures are
// recorded in the health and logged; the last good data stays in use.
func (r *Data) Run(ctx context.Context) {
	t := time.NewTicker(r.opts.Interval)
	defer t.Stop()
	for {
		_ = r.Sync(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Product returns the status of a software product; the id is case-insensitive.
func (r *Data) Product(softwareProductID string) (ProductStatus, bool) {
	return r.current().product(strings.ToLower(softwareProductID))
}

// LookupRefreshing looks the product up; when it is unknown it runs one forced
// Sync (shared by concurrent callers, skipped when the last forced sync was
// less than ForcedRefreshMinInterval ago) and looks again. The error is the
// forced sync's failure, if any.
func (r *Data) LookupRefreshing(ctx context.Context, softwareProductID string) (ProductStatus, bool, error) {
	if p, ok := r.Product(softwareProductID); ok {
		return p, true, nil
	}
	sctx := context.WithoutCancel(ctx) // shared by every caller of the flight
	ch := r.forced.DoChan("sync", func() (any, error) {
		r.forcedMu.Lock()
		now := r.opts.Now()
		if !r.lastForced.IsZero() && now.Sub(r.lastForced) < r.opts.ForcedRefreshMinInterval {
			r.forcedMu.Unlock()
			return nil, nil
		}
		r.lastForced = now
		r.forcedMu.Unlock()
		return nil, r.Sync(sctx)
	})
	var err error
	select {
	case res := <-ch:
		err = res.Err
	case <-ctx.Done():
		err = ctx.Err()
	}
	if p, ok := r.Product(softwareProductID); ok {
		return p, true, nil
	}
	return ProductStatus{}, false, err
}

// Health returns the sync health and the size of the data in use.
func (r *Data) Health() SyncHealth {
	idx := r.current()
	h := r.health.Load()
	out := SyncHealth{
		LastError: h.LastError, ConsecutiveFails: h.ConsecutiveFails,
		Products: len(idx.products), Brands: idx.brands, LegalEntities: idx.legalEntities,
	}
	if h.LastAttemptAt != nil {
		out.LastAttempt = *h.LastAttemptAt
	}
	if h.LastSuccessAt != nil {
		out.LastSuccess = *h.LastSuccessAt
		out.DataAge = r.opts.Now().Sub(out.LastSuccess)
	}
	if h.LastErrorAt != nil {
		out.LastErrorAt = *h.LastErrorAt
	}
	return out
}

// Products returns every product, sorted by legal entity, brand and product name.
func (r *Data) Products() []ProductStatus {
	return append([]ProductStatus(nil), r.current().sorted...)
}

// OnChange registers fn to run after each successful sync that changed any
// product, with every product whose ProductStatus changed or disappeared.
// Callbacks run one at a time, in sync order, on the syncing goroutine.
func (r *Data) OnChange(fn func(ctx context.Context, changes []ProductChange)) {
	r.cbMu.Lock()
	defer r.cbMu.Unlock()
	r.callbacks = append(r.callbacks, fn)
}

var errNotRegisterShape = errors.New(`no "data" array`)
