package register

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

const registerProductStatusSP1Inactive = `{"data":[{"softwareProductId":"sp-1","status":"INACTIVE"},{"softwareProductId":"sp-2","status":"ACTIVE"},` +
	`{"softwareProductId":"sp-3","status":"ACTIVE"},{"softwareProductId":"sp-4","status":"ACTIVE"}]}`

// TestRegisterPartialChangeReadsStoredCopy: Data keeps no raw answer, so when
// one endpoint changes and the others answer 304 the index is rebuilt from the
// stored copy of the unchanged ones, in a running Data and after a restart.
func TestRegisterPartialChangeReadsStoredCopy(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(map[bool]string{false: "running", true: "after restart"}[restart], func(t *testing.T) {
			reg, clock := newFakeRegister(t), newManualClock()
			db := openRegisterTestStore(t)
			r := newTestRegisterData(t, db, reg, clock)
			mustRegisterSync(t, r)
			if restart {
				r = newTestRegisterData(t, db, reg, clock)
				if err := r.Load(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			reg.set(registerPathProductStatus, registerProductStatusSP1Inactive, 0)
			clock.Advance(time.Minute)
			mustRegisterSync(t, r)
			if _, nm := reg.counts(); nm != 2 {
				t.Fatalf("304s = %d, want 2 (the unchanged endpoints)", nm)
			}
			p := mustRegisterProduct(t, r, "sp-1")
			if p.Status != "INACTIVE" || p.SoftwareProductName != "Budgeter" || p.LegalEntityStatus != "ACTIVE" {
				t.Fatalf("sp-1 after a status-only change = %+v", p)
			}
			if s, level := mustRegisterProduct(t, r, "sp-3").EffectiveStatus(); s != "INACTIVE" || level != LevelBrand {
				t.Fatalf("sp-3 = %s (%s): the stored data-recipients were not used", s, level)
			}
			if n := len(r.Products()); n != 4 {
				t.Fatalf("%d products, want 4", n)
			}
		})
	}
}

// TestRegisterDamagedStoredCopy: a stored copy that is not the last good answer
// fails the sync (the data in use stays), and the next sync fetches the whole
// answer again instead of trusting its ETag.
func TestRegisterDamagedStoredCopy(t *testing.T) {
	reg, clock := newFakeRegister(t), newManualClock()
	db := openRegisterTestStore(t)
	r := newTestRegisterData(t, db, reg, clock)
	mustRegisterSync(t, r)
	err := storetest.Gorm(t, db).Model(&store.RegisterSnapshot{}).
		Where("endpoint LIKE ?", "%/data-recipients").Update("body", []byte(`{"data":[]}`)).Error
	if err != nil {
		t.Fatal(err)
	}
	reg.set(registerPathProductStatus, registerProductStatusSP1Inactive, 0)
	clock.Advance(time.Minute)
	if err := r.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), "data-recipients: stored copy") {
		t.Fatalf("Sync over a damaged stored copy = %v", err)
	}
	if p := mustRegisterProduct(t, r, "sp-1"); p.Status != "ACTIVE" {
		t.Fatalf("a failed sync changed the data in use: %+v", p)
	}
	clock.Advance(time.Minute)
	mustRegisterSync(t, r)
	if p := mustRegisterProduct(t, r, "sp-1"); p.Status != "INACTIVE" || len(r.Products()) != 4 {
		t.Fatalf("after recovery sp-1 = %+v, %d products", p, len(r.Products()))
	}
	snaps, _ := db.RegisterSnapshots(context.Background())
	for _, s := range snaps {
		if strings.HasSuffix(s.Endpoint, "/data-recipients") && string(s.Body) != registerSampleRecipients {
			t.Fatalf("the stored copy was not repaired: %s", s.Body)
		}
	}
}
