package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
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
	// SoftwareIDs, when non-nil, restricts to these software products,
	// compared exactly as stored so that the software_id index serves it
	// (ClientSoftwareIDs lists them); NotSoftwareIDs excludes these, in any case.
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
		// sqlite-only: COLLATE NOCASE matches idx_clients_name; PostgreSQL: lower(col) or a citext/ICU collation, with the same index.
		return "client_name COLLATE NOCASE", func(c ClientSummary) string { return c.ClientName }
	case SortOrg:
		return "org_name COLLATE NOCASE", func(c ClientSummary) string { return c.OrgName }
	default:
		return "created_at", func(c ClientSummary) string { return formatDBTime(c.CreatedAt) }
	}
}

// formatDBTime is how the SQLite driver stores a time, so a cursor compares like the column.
func formatDBTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999999-07:00") }

// clientPlan is how a filter is best run. Sorting every match of a common
// word ("budget": thousands of clients) or of a common software product to
// show 50 costs a row lookup per match, while walking the sort index and
// testing each entry finds a page after a few hundred; for rare matches the
// opposite holds. planClients counts, boundedly, to choose.
type clientPlan struct {
	words []string // search words, rarest first
	walk  bool     // the sort index drives: matches are dense
	pg    bool     // PostgreSQL's dialect
}

const (
	maxSearchWords = 8     // bound the work a query can ask for
	denseMatches   = 2000  // from this many matches of the rarest word on, walk the sort index
	rankMatches    = 20000 // words are ranked by their match count up to this
)

// planClients plans a page (forPage) or a count: a count visits every match,
// so the rarest condition always drives it.
func (db *DB) planClients(ctx context.Context, f ClientFilter, forPage bool) (clientPlan, error) {
	p := clientPlan{words: SearchWords(f.Query), walk: true, pg: db.pg}
	if len(p.words) > maxSearchWords {
		p.words = p.words[:maxSearchWords]
	}
	counts := make(map[string]int, len(p.words))
	for _, w := range p.words {
		n, err := db.countUpTo(ctx, `SELECT 1 FROM client_search WHERE term >= ? AND term < ?`, rankMatches, w, w+"\U0010FFFF")
		if err != nil {
			return p, err
		}
		counts[w] = n
	}
	slices.SortStableFunc(p.words, func(a, b string) int { return counts[a] - counts[b] })
	if !forPage || (len(p.words) > 0 && counts[p.words[0]] < denseMatches) {
		p.walk = false
	}
	if f.SoftwareIDs != nil && p.walk {
		// software_id is in no sort index: walking reads a row per entry, which
		// pays only when most clients match.
		var total int
		if err := db.r.WithContext(ctx).Raw(`SELECT count(*) FROM clients`).Row().Scan(&total); err != nil {
			return p, err
		}
		half := total/2 + 1
		// sqlite-only: json_each, as in where.
		n, err := db.countUpTo(ctx, `SELECT 1 FROM clients WHERE software_id IN `+p.jsonValues(), half, jsonList(f.SoftwareIDs))
		if err != nil {
			return p, err
		}
		p.walk = n >= half
	}
	return p, nil
}

// countUpTo counts the rows of query, stopping at limit.
func (db *DB) countUpTo(ctx context.Context, query string, limit int, args ...any) (int, error) {
	var n int
	err := db.r.WithContext(ctx).Raw(`SELECT count(*) FROM (`+query+` LIMIT ?) AS bounded`, append(args, limit)...).Row().Scan(&n)
	return n, err
}

// where applies the filter's conditions (not the cursor) to q, as planned.
// A unary plus keeps SQLite from driving the query with that column's index,
// so that it walks the ORDER BY index instead.
func (f ClientFilter) where(q *gorm.DB, p clientPlan) *gorm.DB {
	// sqlite-only: a leading unary + keeps SQLite's planner off an index (the "walk" plan); PostgreSQL's cost-based planner takes none.
	plus := ""
	if p.walk && !p.pg {
		plus = "+"
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Source != "" {
		q = q.Where("source = ?", f.Source)
	}
	if f.SoftwareIDs != nil {
		// One JSON parameter however many products: no SQL variable limit.
		q = q.Where(plus+"software_id IN "+p.jsonValues(), jsonList(f.SoftwareIDs))
	}
	if len(f.NotSoftwareIDs) > 0 {
		q = q.Where("lower(software_id) NOT IN ?", lowerAll(f.NotSoftwareIDs))
	}
	if len(p.words) == 0 {
		return q
	}
	// The rarest word's terms drive; each other word is then looked for in the
	// names and ids of those candidates' own rows (a substring, case-insensitive),
	// never over its whole range of terms. Keeping the term table to its primary
	// key keeps registrations cheap: every index on it is written per registration.
	q = q.Where(plus+"id IN (SELECT client_id FROM client_search WHERE term >= ? AND term < ?)", p.words[0], p.words[0]+"\U0010FFFF")
	for _, w := range p.words[1:] {
		// sqlite-only: instr is SQLite's substring test; PostgreSQL: strpos.
		in := "instr"
		if p.pg {
			in = "strpos"
		}
		q = q.Where("("+in+"(lower(client_name), ?) > 0 OR "+in+"(lower(org_name), ?) > 0 OR "+in+"(lower(legal_entity_name), ?) > 0 OR "+
			in+"(lower(id), ?) > 0 OR "+in+"(lower(software_id), ?) > 0)", w, w, w, w, w)
	}
	return q
}

// jsonValues is a subquery of the values of one JSON array parameter: one
// parameter however many values, so no SQL variable limit.
func (p clientPlan) jsonValues() string {
	if p.pg {
		return "(SELECT jsonb_array_elements_text(?::jsonb))"
	}
	// sqlite-only: json_each expands a JSON array; PostgreSQL: jsonb_array_elements_text.
	return "(SELECT value FROM json_each(?))"
}

// jsonList encodes a list as a JSON array, for json_each.
func jsonList(in []string) string {
	if len(in) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(in)
	return string(b)
}

// ClientSoftwareIDs lists the distinct software_ids of all clients, as stored
// (from the software_id index: no table row is read).
func (db *DB) ClientSoftwareIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := db.r.WithContext(ctx).Raw(`SELECT DISTINCT software_id FROM clients`).Scan(&ids).Error
	return ids, err
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
	plan, err := db.planClients(ctx, f, true)
	if err != nil {
		return nil, "", err
	}
	q := f.where(db.r.WithContext(ctx).Table("clients").Select(clientSummaryColumns), plan)
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
	plan, err := db.planClients(ctx, f, false)
	if err != nil {
		return 0, err
	}
	var n int64
	err = f.where(db.r.WithContext(ctx).Table("clients"), plan).Count(&n).Error
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
