package store

import (
	"context"
	"time"
)

// ClientNote is an operator's note on a client, with an optional ticket
// reference; each is also an audit event (operator.client_note).
type ClientNote struct {
	ID        int64 `gorm:"primaryKey;autoIncrement:false"`
	ClientID  string
	Author    string
	Body      string
	Ticket    string
	CreatedAt time.Time
}

// TableName is the client_notes table.
func (ClientNote) TableName() string { return "client_notes" }

// nextID is the id of a new row of table. On SQLite it is one more than the
// largest id, read inside the single writer's transaction, so no other insert
// can take it meanwhile (portable, where an AUTOINCREMENT column is not). On
// PostgreSQL replicas insert concurrently under READ COMMITTED, where two
// transactions read the same MAX(id): there it is the table's sequence
// (migration 55), which never hands out an id twice.
func nextID(tx *Tx, table string) (int64, error) {
	ids, err := nextIDs(tx, table, 1)
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// nextIDs is n ids for new rows of table, as nextID.
func nextIDs(tx *Tx, table string, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	if tx.pg {
		err := tx.g.Raw(`SELECT nextval('`+table+`_id_seq') FROM generate_series(1, ?)`, n).Scan(&ids).Error
		return ids, err
	}
	var first int64
	if err := tx.g.Raw(`SELECT COALESCE(MAX(id), 0) + 1 FROM ` + table).Row().Scan(&first); err != nil {
		return nil, err
	}
	for i := range n {
		ids = append(ids, first+int64(i))
	}
	return ids, nil
}

// AddClientNote stores n inside tx and sets its ID.
func AddClientNote(tx *Tx, n *ClientNote) error {
	id, err := nextID(tx, "client_notes")
	if err != nil {
		return err
	}
	n.ID = id
	return tx.g.Create(n).Error
}

// ClientNotes returns a client's notes, newest first, at most limit.
func (db *DB) ClientNotes(ctx context.Context, clientID string, limit int) ([]ClientNote, error) {
	var out []ClientNote
	err := db.r.WithContext(ctx).Where("client_id = ?", clientID).Order("id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// DayTotal is a count on one UTC day (YYYY-MM-DD).
type DayTotal struct {
	Day string
	N   int64
}

// ClientTokensPerDay counts the tokens issued to a client per UTC day since
// since, oldest first (days without tokens left out). It reads the client's
// events through idx_audit_client.
func (db *DB) ClientTokensPerDay(ctx context.Context, clientID string, since time.Time) ([]DayTotal, error) {
	var out []DayTotal
	// sqlite-only: date(time) on a TEXT timestamp (PostgreSQL: time::date), and
	// the unary + keeping the planner off the (type, time) index, which would
	// walk every token of the window rather than this client's events.
	q := `SELECT date(time) AS day, COUNT(*) AS n FROM audit_events
		WHERE client_id = ? AND +type = ? AND +outcome = ? AND +time >= ? GROUP BY day ORDER BY day`
	if db.pg {
		q = `SELECT to_char(time, 'YYYY-MM-DD') AS day, COUNT(*) AS n FROM audit_events
		WHERE client_id = ? AND type = ? AND outcome = ? AND time >= ? GROUP BY day ORDER BY day`
	}
	err := db.r.WithContext(ctx).Raw(q, clientID, EventTokenIssue, OutcomeSuccess, since.UTC()).Scan(&out).Error
	return out, err
}

// RegisterStatusChange is one change of a software product's statuses (its own,
// its brand's, its legal entity's) that a Register sync saw. Old statuses are
// empty for a product first seen; New ones for a product gone from the Register.
type RegisterStatusChange struct {
	ID              int64 `gorm:"primaryKey;autoIncrement:false"`
	SoftwareID      string
	ProductName     string
	BrandID         string
	LegalEntityID   string
	OldStatus       string
	NewStatus       string
	OldBrandStatus  string
	NewBrandStatus  string
	OldEntityStatus string
	NewEntityStatus string
	OldEffective    string
	NewEffective    string
	ChangedAt       time.Time
}

// TableName is the register_status_history table.
func (RegisterStatusChange) TableName() string { return "register_status_history" }

// AddRegisterStatusChanges stores rows inside tx, assigning their ids.
func AddRegisterStatusChanges(tx *Tx, rows []RegisterStatusChange) error {
	if len(rows) == 0 {
		return nil
	}
	ids, err := nextIDs(tx, "register_status_history", len(rows))
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].ID = ids[i]
		rows[i].SoftwareID = lowerASCII(rows[i].SoftwareID)
	}
	return tx.g.CreateInBatches(rows, 100).Error
}

// RegisterStatusHistory returns the status changes of a software product (its
// id compared in lower case, as stored), newest first, at most limit.
func (db *DB) RegisterStatusHistory(ctx context.Context, softwareID string, limit int) ([]RegisterStatusChange, error) {
	var out []RegisterStatusChange
	err := db.r.WithContext(ctx).Where("software_id = ?", lowerASCII(softwareID)).Order("id DESC").Limit(limit).Find(&out).Error
	return out, err
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
