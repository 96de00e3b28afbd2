package register

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestRegisterStartLoad: with the stored copy loading in the background,
// readers see the stored copy, never an empty one; the OnSynced callbacks run
// once for the load; and a sync started at the same time lands after the load,
// so its newer data is what stays in use.
func TestRegisterStartLoad(t *testing.T) {
	reg, clock := newFakeRegister(t), newManualClock()
	db := openRegisterTestStore(t)
	mustRegisterSync(t, newTestRegisterData(t, db, reg, clock))

	r := newTestRegisterData(t, db, reg, clock)
	var reconciled atomic.Int32
	r.OnSynced(func(context.Context) { reconciled.Add(1) })
	loaded := r.StartLoad(context.Background())
	if p, ok := r.Product("sp-1"); !ok || p.Status != "ACTIVE" {
		t.Fatalf("Product during the load = %+v, %v; want the stored copy", p, ok)
	}
	if n := len(r.Products()); n != 4 {
		t.Fatalf("%d products during the load, want 4", n)
	}
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	if n := reconciled.Load(); n != 1 {
		t.Fatalf("OnSynced ran %d times for the load, want 1", n)
	}

	again := newTestRegisterData(t, db, reg, clock)
	reg.set(registerPathProductStatus, registerProductStatusSP1Inactive, 0)
	clock.Advance(time.Minute)
	loaded = again.StartLoad(context.Background())
	mustRegisterSync(t, again)
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	if p := mustRegisterProduct(t, again, "sp-1"); p.Status != "INACTIVE" {
		t.Fatalf("sp-1 = %+v: the stored copy replaced a newer sync", p)
	}

	empty := newTestRegisterData(t, openRegisterTestStore(t), reg, clock)
	if err := <-empty.StartLoad(context.Background()); err != nil || len(empty.Products()) != 0 {
		t.Fatalf("StartLoad of an empty store = %v, %d products", err, len(empty.Products()))
	}
}
