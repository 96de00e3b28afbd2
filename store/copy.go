package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// CopyTable is one table Copy moved.
type CopyTable struct {
	Name string
	Rows int64
}

// copyFirst are the tables other tables reference: they are copied first.
var copyFirst = []string{"meta", "users", "clients"}

// copyBatch is how many rows one INSERT of Copy carries.
const copyBatch = 200

// Copy moves every row of every table of src (SQLite) into dst (PostgreSQL,
// migrated to the same schema version and empty): clients with their numeric
// row ids, the audit chain as stored (so it verifies to the same head hash),
// users and sessions, API keys, holder keys, blocks, the Register copy, used
// jtis, and the tables later migrations add. Each value is converted to the
// destination column's type (0/1 to boolean, SQLite's timestamps to
// timestamp). Identity sequences are moved past the copied ids.
func Copy(ctx context.Context, src, dst *DB) ([]CopyTable, error) {
	if src.pg || !dst.pg {
		return nil, fmt.Errorf("store: copy goes from SQLite to PostgreSQL")
	}
	if err := checkCopyTarget(ctx, src, dst); err != nil {
		return nil, err
	}
	var tables []string
	if err := src.r.WithContext(ctx).Raw(`SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name`).Scan(&tables).Error; err != nil {
		return nil, err
	}
	slices.SortStableFunc(tables, func(a, b string) int { return copyRank(a) - copyRank(b) })
	var out []CopyTable
	for _, t := range tables {
		n, err := copyTable(ctx, src, dst, t)
		if err != nil {
			return out, fmt.Errorf("store: copy %s: %w", t, err)
		}
		out = append(out, CopyTable{Name: t, Rows: n})
	}
	for _, seq := range [][2]string{{"users", "id"}, {"clients", "row_id"},
		{"client_notes", "id"}, {"register_status_history", "id"}, {"alerts", "id"}} {
		if err := dst.w.WithContext(ctx).Exec(`SELECT setval(pg_get_serial_sequence(?, ?), COALESCE(MAX(`+seq[1]+`), 0) + 1, false) FROM `+seq[0],
			seq[0], seq[1]).Error; err != nil {
			return out, fmt.Errorf("store: copy: identity of %s: %w", seq[0], err)
		}
	}
	return out, nil
}

func copyRank(table string) int {
	if i := slices.Index(copyFirst, table); i >= 0 {
		return i
	}
	return len(copyFirst)
}

// checkCopyTarget refuses a destination that holds data or another schema version.
func checkCopyTarget(ctx context.Context, src, dst *DB) error {
	var sv, dv int
	src.r.WithContext(ctx).Raw(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&sv)
	dst.r.WithContext(ctx).Raw(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&dv)
	if sv != dv {
		return fmt.Errorf("store: copy: source schema version %d, destination %d", sv, dv)
	}
	for _, t := range []string{"clients", "audit_events", "users", "holder_keys"} {
		var n int64
		if err := dst.r.WithContext(ctx).Raw(`SELECT COUNT(*) FROM ` + t).Scan(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("store: copy: the destination already holds data (%d rows in %s); copy into an empty database", n, t)
		}
	}
	return nil
}

// copyTable copies one table in rowid order, copyBatch rows per INSERT, and
// returns how many rows it copied.
func copyTable(ctx context.Context, src, dst *DB, table string) (int64, error) {
	types, cols, sel, err := copyColumns(ctx, src, dst, table)
	if err != nil {
		return 0, err
	}
	// One streaming read (WITHOUT ROWID tables have no rowid to page by),
	// written copyBatch rows at a time.
	rows, err := src.r.WithContext(ctx).Raw(`SELECT ` + strings.Join(sel, ", ") + ` FROM ` + quoteIdent(table)).Rows()
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var copied int64
	batch := make([][]any, 0, copyBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := insertCopyRows(ctx, dst, table, cols, types, batch)
		copied += int64(len(batch))
		batch = batch[:0]
		return err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return copied, err
		}
		if batch = append(batch, vals); len(batch) == copyBatch {
			if err := flush(); err != nil {
				return copied, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return copied, err
	}
	return copied, flush()
}

// copyColumns lists the columns both databases have: the destination's types,
// the column names, and what to select from the source for them.
func copyColumns(ctx context.Context, src, dst *DB, table string) (types map[string]string, cols, sel []string, err error) {
	if types, err = pgColumnTypes(ctx, dst, table); err != nil {
		return nil, nil, nil, err
	}
	if len(types) == 0 {
		return nil, nil, nil, fmt.Errorf("no such table in the destination")
	}
	rows, err := src.r.WithContext(ctx).Raw(`SELECT * FROM ` + quoteIdent(table) + ` LIMIT 0`).Rows()
	if err != nil {
		return nil, nil, nil, err
	}
	srcCols, err := rows.Columns()
	rows.Close()
	if err != nil {
		return nil, nil, nil, err
	}
	for _, c := range srcCols {
		if _, ok := types[c]; ok {
			cols, sel = append(cols, c), append(sel, quoteIdent(c))
		}
	}
	if table == "clients" { // SQLite's implicit rowid is the processing API's numeric clientId
		cols, sel = append(cols, "row_id"), append(sel, "rowid")
	}
	return types, cols, sel, nil
}

func insertCopyRows(ctx context.Context, dst *DB, table string, cols []string, types map[string]string, batch [][]any) error {
	var b strings.Builder
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteIdent(c)
	}
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", quoteIdent(table), strings.Join(quoted, ", "))
	args := make([]any, 0, len(batch)*len(cols))
	for r, vals := range batch {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")")
		for i, v := range vals {
			cv, err := copyValue(v, types[cols[i]])
			if err != nil {
				return fmt.Errorf("column %s: %w", cols[i], err)
			}
			if table == "used_jtis" && cols[i] == "jti" {
				cv = jtiKey(true, fmt.Sprint(cv))
			}
			args = append(args, cv)
		}
	}
	return dst.w.WithContext(ctx).Transaction(func(g *gorm.DB) error { return g.Exec(b.String(), args...).Error })
}

// copyValue converts a value read from SQLite to the PostgreSQL column type.
func copyValue(v any, pgType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch pgType {
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		}
	case "timestamp without time zone", "timestamp with time zone":
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case string:
			return parseSQLiteTime(x)
		case []byte:
			return parseSQLiteTime(string(x))
		}
	case "bytea":
		switch x := v.(type) {
		case string:
			return []byte(x), nil
		}
	case "text":
		switch x := v.(type) {
		case []byte:
			return string(x), nil
		}
	}
	return v, nil
}

// parseSQLiteTime reads the text forms the SQLite driver writes and SQLite's own.
func parseSQLiteTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999-07:00",
		"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp", s)
}

// pgColumnTypes maps the columns of table in dst to their data types.
func pgColumnTypes(ctx context.Context, dst *DB, table string) (map[string]string, error) {
	var rows []struct{ ColumnName, DataType string }
	err := dst.r.WithContext(ctx).Raw(`SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ?`, table).Scan(&rows).Error
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.ColumnName] = r.DataType
	}
	return out, err
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
