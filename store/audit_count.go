package store

import "context"

// CountAuditEventsUpTo counts the events f selects (BeforeID and Limit
// ignored), stopping at limit: a list's "of 3,204" must not cost a scan of a
// million rows, so past limit the console says "more than". It returns the
// count and whether it stopped at the limit.
func (db *DB) CountAuditEventsUpTo(ctx context.Context, f AuditFilter, limit int) (int64, bool, error) {
	f.BeforeID, f.Limit = 0, 0
	sub := f.apply(db.r.WithContext(ctx).Model(&AuditEvent{}).Select("1"), db.pg).Limit(limit + 1)
	var n int64
	err := db.r.WithContext(ctx).Raw(`SELECT count(*) FROM (?) AS matches`, sub).Row().Scan(&n)
	if n > int64(limit) {
		return int64(limit), true, err
	}
	return n, false, err
}
