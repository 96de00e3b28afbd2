package register

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

const (
	registerPathRecipients      = "/cdr-register/v1/all/data-recipients"
	registerPathRecipientStatus = "/cdr-register/v1/all/data-recipients/status"
	registerPathProductStatus   = "/cdr-register/v1/all/data-recipients/brands/software-products/status"
	registerSampleRecipients    = `{
  "data": [
    {
      "legalEntityId": "le-1", "legalEntityName": "Acme Pty Ltd", "accreditationNumber": "ADR000001",
      "accreditationLevel": "UNRESTRICTED", "logoUri": "https://acme.example/logo.png", "status": "active",
      "lastUpdated": "2025-01-01T00:00:00Z",
      "dataRecipientBrands": [
        {"dataRecipientBrandId": "b-1", "brandName": "Acme Money", "logoUri": "https://acme.example/b.png", "status": "ACTIVE",
         "softwareProducts": [
           {"softwareProductId": "SP-1", "softwareProductName": "Budgeter", "softwareProductDescription": "d",
            "logoUri": "https://acme.example/p.png", "status": "ACTIVE"},
           {"softwareProductId": "sp-2", "softwareProductName": "Analyser", "status": "ACTIVE"}
         ]},
        {"dataRecipientBrandId": "b-2", "brandName": "Acme Old", "status": "INACTIVE",
         "softwareProducts": [{"softwareProductId": "sp-3", "softwareProductName": "Legacy", "status": "ACTIVE"}]}
      ]
    },
    {"legalEntityId": "le-2", "legalEntityName": "Beta Ltd", "status": "ACTIVE", "futureField": {"x": 1},
     "dataRecipientBrands": [
       {"dataRecipientBrandId": "b-3", "brandName": "Beta", "status": "ACTIVE",
        "softwareProducts": [{"softwareProductId": "sp-4", "softwareProductName": "Beta App", "status": "ACTIVE"}, null]},
       {"brandName": "no id"}
     ]},
    {"legalEntityName": "no id, skipped"}
  ],
  "links": {"self": "https://register.example/cdr-register/v1/all/data-recipients"},
  "meta": {}
}`
	registerSampleRecipientStatus = `{"data":[{"legalEntityId":"le-1","status":"ACTIVE"},{"legalEntityId":"le-2","status":"ACTIVE"}],"links":{},"meta":{}}`
	registerSampleProductStatus   = `{"data":[{"softwareProductId":"sp-1","status":"ACTIVE"},{"softwareProductId":"sp-2","status":"ACTIVE"},` +
		`{"softwareProductId":"sp-3","status":"ACTIVE"},{"softwareProductId":"sp-4","status":"ACTIVE"},{"softwareProductId":"ghost","status":"ACTIVE"}]}`
)

// fakeRegister serves the three Register endpoints with ETags.
type fakeRegister struct {
	*httptest.Server
	mu          sync.Mutex
	bodies      map[string]string
	status      map[string]int // overrides 200
	hits        map[string]int
	notModified int
	headers     map[string]http.Header
}

func newFakeRegister(t testing.TB) *fakeRegister {
	f := &fakeRegister{
		bodies: map[string]string{registerPathRecipients: registerSampleRecipients, registerPathRecipientStatus: registerSampleRecipientStatus, registerPathProductStatus: registerSampleProductStatus},
		status: map[string]int{}, hits: map[string]int{}, headers: map[string]http.Header{},
	}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.hits[r.URL.Path]++
		f.headers[r.URL.Path] = r.Header.Clone()
		body, ok := f.bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if st := f.status[r.URL.Path]; st != 0 {
			w.WriteHeader(st)
			return
		}
		etag := fmt.Sprintf(`"%x"`, sha256.Sum256([]byte(body)))
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			f.notModified++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeRegister) set(path, body string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies[path], f.status[path] = body, status
}

func (f *fakeRegister) counts() (hits, notModified int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.hits {
		hits += n
	}
	return hits, f.notModified
}

func openRegisterTestStore(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func newTestRegisterData(t testing.TB, db *store.DB, reg *fakeRegister, clock *manualClock) *Data {
	return New(db, fetcherForTestServer(t, reg.Server), Options{
		BaseURI: reg.URL + "/cdr-register/v1/", Industry: "all", Now: clock.Now,
	}, nil)
}

func mustRegisterSync(t testing.TB, r *Data) {
	t.Helper()
	if err := r.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterFullSync(t *testing.T) {
	reg, clock := newFakeRegister(t), newManualClock()
	r := newTestRegisterData(t, openRegisterTestStore(t), reg, clock)
	mustRegisterSync(t, r)
	want := ProductStatus{
		SoftwareProductID: "SP-1", SoftwareProductName: "Budgeter", Status: "ACTIVE",
		BrandID: "b-1", BrandName: "Acme Money", BrandStatus: "ACTIVE",
		LegalEntityID: "le-1", LegalEntityName: "Acme Pty Ltd", LegalEntityStatus: "ACTIVE",
	}
	for _, id := range []string{"SP-1", "sp-1", "Sp-1"} {
		if got, ok := r.Product(id); !ok || got != want {
			t.Fatalf("Product(%s) = %+v, %v; want %+v", id, got, ok, want)
		}
	}
	if _, ok := r.Product("ghost"); ok {
		t.Fatal("a product only in the status list was indexed")
	}
	if s, level := mustRegisterProduct(t, r, "sp-3").EffectiveStatus(); s != "INACTIVE" || level != LevelBrand {
		t.Fatalf("sp-3 effective status = %s (%s), want INACTIVE (brand)", s, level)
	}
	var names []string
	for _, p := range r.Products() {
		names = append(names, p.SoftwareProductName)
	}
	if want := []string{"Analyser", "Budgeter", "Legacy", "Beta App"}; !slices.Equal(names, want) {
		t.Fatalf("Products() = %v, want %v", names, want)
	}
	h := r.Health()
	if h.Products != 4 || h.Brands != 3 || h.LegalEntities != 2 || h.ConsecutiveFails != 0 ||
		!h.LastSuccess.Equal(clock.Now()) || !h.LastAttempt.Equal(clock.Now()) || h.LastError != "" {
		t.Fatalf("Health = %+v", h)
	}
	clock.Advance(time.Minute)
	if h := r.Health(); h.DataAge != time.Minute {
		t.Fatalf("DataAge = %v, want 1m", h.DataAge)
	}
	for path, v := range map[string][2]string{registerPathRecipients: {"4", "3"}, registerPathRecipientStatus: {"3", "1"}, registerPathProductStatus: {"3", "1"}} {
		if h := reg.headers[path]; h.Get("x-v") != v[0] || h.Get("x-min-v") != v[1] {
			t.Errorf("%s sent x-v %q x-min-v %q, want %v", path, h.Get("x-v"), h.Get("x-min-v"), v)
		}
	}
}

func mustRegisterProduct(t testing.TB, r *Data, id string) ProductStatus {
	t.Helper()
	p, ok := r.Product(id)
	if !ok {
		t.Fatalf("product %s not found", id)
	}
	return p
}

func TestRegisterStatusOverride(t *testing.T) {
	for _, tc := range []struct{ name, recipients, products string }{
		{"current shape",
			`{"data":[{"legalEntityId":"LE-2","status":"suspended"}]}`,
			`{"data":[{"softwareProductId":"SP-1","status":"inactive"}]}`},
		{"x-v 1 shape",
			`{"dataRecipients":[{"dataRecipientId":"le-2","dataRecipientStatus":"SUSPENDED"}]}`,
			`{"softwareProducts":[{"softwareProductId":"sp-1","softwareProductStatus":"INACTIVE"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newFakeRegister(t)
			reg.set(registerPathRecipientStatus, tc.recipients, 0)
			reg.set(registerPathProductStatus, tc.products, 0)
			r := newTestRegisterData(t, openRegisterTestStore(t), reg, newManualClock())
			mustRegisterSync(t, r)
			if p := mustRegisterProduct(t, r, "sp-1"); p.Status != "INACTIVE" || p.LegalEntityStatus != "ACTIVE" {
				t.Fatalf("sp-1 = %+v", p)
			}
			if p := mustRegisterProduct(t, r, "sp-4"); p.LegalEntityStatus != "SUSPENDED" || p.Status != "ACTIVE" {
				t.Fatalf("sp-4 = %+v", p)
			}
		})
	}
}

func TestProductEffectiveStatus(t *testing.T) {
	for _, tc := range []struct {
		p           ProductStatus
		status, lvl string
	}{
		{ProductStatus{Status: "ACTIVE", BrandStatus: "ACTIVE", LegalEntityStatus: "ACTIVE"}, "ACTIVE", ""},
		{ProductStatus{Status: "REMOVED", BrandStatus: "INACTIVE", LegalEntityStatus: "REVOKED"}, "REMOVED", LevelSoftwareProduct},
		{ProductStatus{Status: "ACTIVE", BrandStatus: "REMOVED", LegalEntityStatus: "REVOKED"}, "REMOVED", LevelBrand},
		{ProductStatus{Status: "ACTIVE", BrandStatus: "ACTIVE", LegalEntityStatus: "SURRENDERED"}, "SURRENDERED", LevelLegalEntity},
		{ProductStatus{Status: "ACTIVE", LegalEntityStatus: "ACTIVE"}, "UNKNOWN", LevelBrand},
	} {
		if s, l := tc.p.EffectiveStatus(); s != tc.status || l != tc.lvl {
			t.Errorf("%+v: got %s/%s, want %s/%s", tc.p, s, l, tc.status, tc.lvl)
		}
	}
}

func TestRegisterETagNotModified(t *testing.T) {
	reg, clock := newFakeRegister(t), newManualClock()
	db := openRegisterTestStore(t)
	r := newTestRegisterData(t, db, reg, clock)
	mustRegisterSync(t, r)
	before, _ := db.RegisterSnapshots(context.Background())
	clock.Advance(time.Minute)
	mustRegisterSync(t, r)
	if hits, nm := reg.counts(); hits != 6 || nm != 3 {
		t.Fatalf("hits %d, 304s %d; want 6 and 3", hits, nm)
	}
	mustRegisterProduct(t, r, "sp-1")
	if h := r.Health(); !h.LastSuccess.Equal(clock.Now()) || h.Products != 4 {
		t.Fatalf("Health after 304s = %+v", h)
	}
	after, _ := db.RegisterSnapshots(context.Background())
	if len(after) != 3 || len(before) != 3 || !after[0].FetchedAt.Equal(before[0].FetchedAt) {
		t.Fatalf("unchanged snapshots were rewritten: %v -> %v", before, after)
	}
}

func TestRegisterFailingEndpointKeepsOldData(t *testing.T) {
	reg, clock := newFakeRegister(t), newManualClock()
	db := openRegisterTestStore(t)
	r := newTestRegisterData(t, db, reg, clock)
	mustRegisterSync(t, r)
	okAt := clock.Now()
	reg.set(registerPathRecipients, `{"data":[]}`, 0)
	reg.set(registerPathProductStatus, registerSampleProductStatus, http.StatusInternalServerError)
	for i := 1; i <= 2; i++ {
		clock.Advance(time.Minute)
		err := r.Sync(context.Background())
		if err == nil || !strings.Contains(err.Error(), "software-products/status: HTTP status 500") {
			t.Fatalf("Sync = %v", err)
		}
		mustRegisterProduct(t, r, "sp-1")
		h := r.Health()
		if h.ConsecutiveFails != i || !h.LastSuccess.Equal(okAt) || !h.LastErrorAt.Equal(clock.Now()) || h.Products != 4 ||
			!strings.Contains(h.LastError, "HTTP status 500") {
			t.Fatalf("Health after failure %d = %+v", i, h)
		}
		stored, _ := db.RegisterSyncHealth(context.Background())
		if stored.ConsecutiveFails != i || stored.LastError != h.LastError {
			t.Fatalf("stored health = %+v", stored)
		}
	}
	snaps, _ := db.RegisterSnapshots(context.Background())
	for _, s := range snaps {
		if strings.HasSuffix(s.Endpoint, "/data-recipients") && string(s.Body) != registerSampleRecipients {
			t.Fatalf("a failed sync replaced the stored data-recipients: %s", s.Body)
		}
	}
	reg.set(registerPathProductStatus, registerSampleProductStatus, 0)
	clock.Advance(time.Minute)
	mustRegisterSync(t, r)
	if _, ok := r.Product("sp-1"); ok {
		t.Fatal("recovered sync did not apply the new data")
	}
	if h := r.Health(); h.ConsecutiveFails != 0 || h.Products != 0 {
		t.Fatalf("Health after recovery = %+v", h)
	}
}

func TestRegisterLoadAfterRestart(t *testing.T) {
	reg, clock := newFakeRegister(t), newManualClock()
	db := openRegisterTestStore(t)
	mustRegisterSync(t, newTestRegisterData(t, db, reg, clock))
	syncedAt := clock.Now()

	r := newTestRegisterData(t, db, reg, clock)
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if hits, _ := reg.counts(); hits != 3 {
		t.Fatalf("Load used the network: %d requests", hits)
	}
	mustRegisterProduct(t, r, "SP-1")
	if h := r.Health(); !h.LastSuccess.Equal(syncedAt) || h.Products != 4 {
		t.Fatalf("Health after Load = %+v", h)
	}
	mustRegisterSync(t, r) // the stored ETags make it all 304s
	if _, nm := reg.counts(); nm != 3 {
		t.Fatalf("304s after restart = %d, want 3", nm)
	}
	reg.Close()
	if err := r.Sync(context.Background()); err == nil {
		t.Fatal("Sync against a closed Register succeeded")
	}
	mustRegisterProduct(t, r, "sp-4")

	empty := newTestRegisterData(t, openRegisterTestStore(t), reg, clock)
	if err := empty.Load(context.Background()); err != nil || len(empty.Products()) != 0 {
		t.Fatalf("Load of an empty store = %v, %d products", err, len(empty.Products()))
	}
}

func TestRegisterLookupRefreshing(t *testing.T) {
	reg, clock := newFakeRegister(t), newManualClock()
	r := newTestRegisterData(t, openRegisterTestStore(t), reg, clock)
	mustRegisterSync(t, r)
	ctx := context.Background()
	added := strings.Replace(registerSampleRecipients, `{"softwareProductId": "sp-4",`,
		`{"softwareProductId": "sp-new", "softwareProductName": "New", "status": "ACTIVE"}, {"softwareProductId": "sp-4",`, 1)
	reg.set(registerPathRecipients, added, 0)
	p, ok, err := r.LookupRefreshing(ctx, "SP-NEW")
	if err != nil || !ok || p.SoftwareProductName != "New" || p.BrandID != "b-3" {
		t.Fatalf("LookupRefreshing(new) = %+v, %v, %v", p, ok, err)
	}
	hits, _ := reg.counts()
	if hits != 6 {
		t.Fatalf("requests = %d, want 6 (one forced sync)", hits)
	}
	// Unknown ids inside the minimum interval: no sync at all, even concurrently.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, ok, _ := r.LookupRefreshing(ctx, "nobody"); ok {
				t.Error("found an unknown product")
			}
		})
	}
	wg.Wait()
	if n, _ := reg.counts(); n != hits {
		t.Fatalf("unknown ids inside the interval made %d requests", n-hits)
	}
	// Past the interval: one forced sync shared by concurrent callers.
	clock.Advance(DefaultForcedRefreshMinInterval)
	for range 20 {
		wg.Go(func() { _, _, _ = r.LookupRefreshing(ctx, "nobody") })
	}
	wg.Wait()
	if n, _ := reg.counts(); n != hits+3 {
		t.Fatalf("concurrent unknown ids made %d requests, want 3", n-hits)
	}
	// A forced sync that fails reports why.
	clock.Advance(DefaultForcedRefreshMinInterval)
	reg.set(registerPathRecipients, added, http.StatusBadGateway)
	if _, ok, err := r.LookupRefreshing(ctx, "nobody"); ok || err == nil {
		t.Fatalf("LookupRefreshing during an outage = %v, %v", ok, err)
	}
}

func TestRegisterOnChange(t *testing.T) {
	reg, clock := newFakeRegister(t), newManualClock()
	r := newTestRegisterData(t, openRegisterTestStore(t), reg, clock)
	var calls [][]ProductChange
	r.OnChange(func(_ context.Context, changes []ProductChange) { calls = append(calls, changes) })
	mustRegisterSync(t, r)
	if len(calls) != 1 || len(calls[0]) != 4 || calls[0][0].Old.SoftwareProductID != "" {
		t.Fatalf("first sync reported %v, want 4 new products", calls)
	}
	reg.set(registerPathProductStatus, strings.Replace(registerSampleProductStatus, `"sp-1","status":"ACTIVE"`, `"sp-1","status":"REMOVED"`, 1), 0)
	reg.set(registerPathRecipients, strings.Replace(registerSampleRecipients, `"softwareProductId": "sp-4"`, `"softwareProductId": ""`, 1), 0)
	mustRegisterSync(t, r)
	if len(calls) != 2 || len(calls[1]) != 2 {
		t.Fatalf("changes = %+v, want sp-1 REMOVED and sp-4 gone", calls[1:])
	}
	removed, gone := calls[1][0], calls[1][1]
	if removed.Old.Status != "ACTIVE" || removed.New.Status != "REMOVED" || removed.New.SoftwareProductID != "SP-1" || removed.Gone {
		t.Fatalf("removed change = %+v", removed)
	}
	if !gone.Gone || gone.Old.SoftwareProductID != "sp-4" || gone.New != (ProductStatus{}) {
		t.Fatalf("gone change = %+v", gone)
	}
	mustRegisterSync(t, r) // all 304: nothing changed, no callback
	if len(calls) != 2 {
		t.Fatalf("a sync without changes ran the callbacks: %+v", calls[2:])
	}
}

func TestRegisterMalformed(t *testing.T) {
	for _, tc := range []struct{ name, path, body, want string }{
		{"not json", registerPathRecipients, `<html>oops</html>`, "data-recipients: decoding:"},
		{"null", registerPathRecipients, `null`, "data-recipients: decoding:"},
		{"no data", registerPathRecipients, `{"links":{}}`, "data-recipients: decoding:"},
		{"data not array", registerPathRecipients, `{"data":{"legalEntityId":"x"}}`, "data-recipients: decoding:"},
		{"wrong type", registerPathRecipients, `{"data":[{"legalEntityId":5}]}`, "data-recipients: decoding:"},
		{"brands wrong type", registerPathRecipients, `{"data":[{"legalEntityId":"x","dataRecipientBrands":"b"}]}`, "data-recipients: decoding:"},
		{"status list not array", registerPathRecipientStatus, `{"data":"x"}`, "data-recipients/status: decoding:"},
		{"status list missing", registerPathProductStatus, `{}`, "software-products/status: decoding:"},
		{"status wrong type", registerPathProductStatus, `{"data":[{"softwareProductId":"sp-1","status":1}]}`, "software-products/status: decoding:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newFakeRegister(t)
			r := newTestRegisterData(t, openRegisterTestStore(t), reg, newManualClock())
			mustRegisterSync(t, r)
			reg.set(tc.path, tc.body, 0)
			err := r.Sync(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Sync = %v, want %q", err, tc.want)
			}
			if p := mustRegisterProduct(t, r, "sp-1"); p.Status != "ACTIVE" || r.Health().Products != 4 {
				t.Fatalf("old data lost: %+v", p)
			}
		})
	}
}

func TestRegisterRunStops(t *testing.T) {
	reg := newFakeRegister(t)
	r := New(openRegisterTestStore(t), fetcherForTestServer(t, reg.Server),
		Options{BaseURI: reg.URL + "/cdr-register/v1", Interval: 20 * time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if _, nm := reg.counts(); nm >= 3 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if _, nm := reg.counts(); nm < 3 {
		t.Fatal("Run did not poll again after the first sync")
	}
	mustRegisterProduct(t, r, "sp-2")
}

func BenchmarkProduct(b *testing.B) {
	var les []map[string]any
	for i := range 100 {
		var products []map[string]any
		for j := range 10 {
			products = append(products, map[string]any{"softwareProductId": fmt.Sprintf("sp-%d-%d", i, j), "status": "ACTIVE"})
		}
		les = append(les, map[string]any{"legalEntityId": fmt.Sprint("le-", i), "status": "ACTIVE",
			"dataRecipientBrands": []any{map[string]any{"dataRecipientBrandId": fmt.Sprint("b-", i), "status": "ACTIVE", "softwareProducts": products}}})
	}
	body, _ := json.Marshal(map[string]any{"data": les})
	reg := newFakeRegister(b)
	reg.set(registerPathRecipients, string(body), 0)
	r := newTestRegisterData(b, openRegisterTestStore(b), reg, newManualClock())
	mustRegisterSync(b, r)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := r.Product("sp-42-7"); !ok {
				b.Error("not found")
				return
			}
		}
	})
}

// A reason names the product once: "software product sp-1 is REMOVED", never
// "software product of software product sp-1".
func TestStatusSubject(t *testing.T) {
	for level, want := range map[string]string{
		LevelSoftwareProduct: "software product sp-1",
		LevelBrand:           "brand of software product sp-1",
		LevelLegalEntity:     "legal entity of software product sp-1",
	} {
		if got := StatusSubject(level, "sp-1"); got != want {
			t.Errorf("%s: got %q, want %q", level, got, want)
		}
	}
}
