package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Client list sort orders.
const (
	SortCreated = "created"
	SortName    = "name"
	SortOrg     = "org"
)

// ClientFilter selects and orders clients for the console.
type ClientFilter struct {
	Query  string // words, each a prefix of a name word or an id
	Status string
	Source string
	// SoftwareIDs, when non-nil, restricts to these software products
	// (a Register-status filter); NotSoftwareIDs excludes these.
	SoftwareIDs    []string
	NotSoftwareIDs []string
	Sort           string // SortCreated (default), SortName, SortOrg
	Asc            bool
	After          string // cursor from the previous page
	Limit          int
}

// ClientSummary is a client as listed: no registration body, no secrets.
type ClientSummary struct {
	ID              string
	SoftwareID      string
	Status          string
	Source          string
	ClientName      string
	OrgID           string
	OrgName         string
	LegalEntityID   string
	LegalEntityName string
	CreatedAt       time.Time
	StatusChangedAt *time.Time
}

const clientSummaryColumns = "id, software_id, status, source, client_name, org_id, org_name, legal_entity_id, legal_entity_name, created_at, status_changed_at"

// ErrBadCursor is returned for a pagination cursor this code did not make.
var ErrBadCursor = errors.New("store: invalid page cursor")

type clientCursor struct {
	V  string `json:"v"`
	ID string `json:"id"`
}

func (f ClientFilter) sortColumn() (expr string, value func(ClientSummary) string) {
	switch f.Sort {
	case SortName:
		return "client_name COLLATE NOCASE", func(c ClientSummary) string { return c.ClientName }
	case SortOrg:
		return "org_name COLLATE NOCASE", func(c ClientSummary) string { return c.OrgName }
	default:
		return "created_at", func(c ClientSummary) string { return formatDBTime(c.CreatedAt) }
	}
}

// formatDBTime is how the SQLite driver stores a time, so a cursor compares like the column.
func formatDBTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999999-07:00") }

// where applies the filter's conditions (not the cursor) to q.
func (f ClientFilter) where(q *gorm.DB) *gorm.DB {
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Source != "" {
		q = q.Where("source = ?", f.Source)
	}
	if f.SoftwareIDs != nil {
		q = q.Where("lower(software_id) IN ?", lowerAll(f.SoftwareIDs))
	}
	if len(f.NotSoftwareIDs) > 0 {
		q = q.Where("lower(software_id) NOT IN ?", lowerAll(f.NotSoftwareIDs))
	}
	for i, w := range SearchWords(f.Query) {
		if i == 8 { // bound the work a query can ask for
			break
		}
		q = q.Where("id IN (SELECT client_id FROM client_search WHERE term >= ? AND term < ?)", w, w+"\U0010FFFF")
	}
	return q
}

func lowerAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	if len(out) == 0 {
		out = []string{""} // IN () is not valid SQL; "" matches no software_id
	}
	return out
}

// ListClients returns one page of clients and the cursor of the next page ("" at the end).
func (db *DB) ListClients(ctx context.Context, f ClientFilter) ([]ClientSummary, string, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	col, value := f.sortColumn()
	dir, cmp := "DESC", "<"
	if f.Asc {
		dir, cmp = "ASC", ">"
	}
	q := f.where(db.R.WithContext(ctx).Table("clients").Select(clientSummaryColumns))
	if f.After != "" {
		raw, err := base64.RawURLEncoding.DecodeString(f.After)
		var cur clientCursor
		if err != nil || json.Unmarshal(raw, &cur) != nil || cur.ID == "" {
			return nil, "", ErrBadCursor
		}
		q = q.Where("("+col+", id) "+cmp+" (?, ?)", cur.V, cur.ID)
	}
	var rows []ClientSummary
	if err := q.Order(col + " " + dir + ", id " + dir).Limit(f.Limit + 1).Scan(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[len(rows)-1]
		b, _ := json.Marshal(clientCursor{V: value(last), ID: last.ID})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return rows, next, nil
}

// CountClients counts the clients the filter selects (cursor and limit ignored).
func (db *DB) CountClients(ctx context.Context, f ClientFilter) (int64, error) {
	var n int64
	err := f.where(db.R.WithContext(ctx).Table("clients")).Count(&n).Error
	return n, err
}

// EachClient calls fn for every client the filter selects, in its order, reading
// a page at a time so memory stays constant however many there are.
func (db *DB) EachClient(ctx context.Context, f ClientFilter, fn func(ClientSummary) error) error {
	f.Limit = 500
	f.After = ""
	for {
		rows, next, err := db.ListClients(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		f.After = next
	}
}
