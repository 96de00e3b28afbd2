package register

import (
	"context"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// The status history of software products: every change of a product's own,
// its brand's or its legal entity's status that a sync sees is stored
// (register_status_history), so the console can say when a product changed,
// and a replayed attempt can be judged with the statuses of its time.

// statusChanged reports whether a change touches a status, not only a name.
func statusChanged(c ProductChange) bool {
	return c.Gone || c.Old.Status != c.New.Status || c.Old.BrandStatus != c.New.BrandStatus ||
		c.Old.LegalEntityStatus != c.New.LegalEntityStatus
}

// historyRows are the rows of the status changes among changes, seen at at.
func historyRows(changes []ProductChange, at time.Time) []store.RegisterStatusChange {
	var rows []store.RegisterStatusChange
	for _, c := range changes {
		if !statusChanged(c) {
			continue
		}
		p := c.New
		if c.Gone {
			p = c.Old
		}
		row := store.RegisterStatusChange{SoftwareID: p.SoftwareProductID, ProductName: p.SoftwareProductName,
			BrandID: p.BrandID, LegalEntityID: p.LegalEntityID,
			OldStatus: c.Old.Status, NewStatus: c.New.Status, OldBrandStatus: c.Old.BrandStatus, NewBrandStatus: c.New.BrandStatus,
			OldEntityStatus: c.Old.LegalEntityStatus, NewEntityStatus: c.New.LegalEntityStatus, ChangedAt: at.UTC()}
		if c.Old.SoftwareProductID != "" {
			row.OldEffective, _ = c.Old.EffectiveStatus()
		}
		if !c.Gone {
			row.NewEffective, _ = c.New.EffectiveStatus()
		}
		rows = append(rows, row)
	}
	return rows
}

// recordHistory stores the status changes a sync saw. A failure is logged, not
// returned: the sync itself succeeded and its data is in use.
func (r *Data) recordHistory(ctx context.Context, changes []ProductChange) {
	rows := historyRows(changes, r.opts.Now())
	if len(rows) == 0 {
		return
	}
	if err := r.db.Tx(ctx, func(tx *store.Tx) error { return store.AddRegisterStatusChanges(tx, rows) }); err != nil {
		r.log.Error("register sync: recording status history", "err", err, "changes", len(rows))
	}
}

// StatusHistory returns the status changes of a software product, newest
// first, at most limit.
func (r *Data) StatusHistory(ctx context.Context, softwareProductID string, limit int) ([]store.RegisterStatusChange, error) {
	return r.db.RegisterStatusHistory(ctx, softwareProductID, limit)
}

// StatusAt is the product's statuses as they were at t, from the history: the
// newest change at or before t. ok is false when the history does not reach
// back that far (no change recorded at or before t).
func (r *Data) StatusAt(ctx context.Context, softwareProductID string, t time.Time) (ProductStatus, bool, error) {
	rows, err := r.db.RegisterStatusHistory(ctx, softwareProductID, 500)
	if err != nil {
		return ProductStatus{}, false, err
	}
	for _, h := range rows { // newest first
		if h.ChangedAt.After(t) {
			continue
		}
		if h.NewStatus == "" && h.NewEffective == "" { // gone from the Register then
			return ProductStatus{}, false, nil
		}
		cur, _ := r.Product(softwareProductID)
		return ProductStatus{SoftwareProductID: h.SoftwareID, SoftwareProductName: h.ProductName, Status: h.NewStatus,
			BrandID: h.BrandID, BrandName: cur.BrandName, BrandStatus: h.NewBrandStatus,
			LegalEntityID: h.LegalEntityID, LegalEntityName: cur.LegalEntityName, LegalEntityStatus: h.NewEntityStatus}, true, nil
	}
	return ProductStatus{}, false, nil
}
