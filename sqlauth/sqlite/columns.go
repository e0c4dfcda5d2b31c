package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/luciago/mongoauth/sqlauth"
)

// Columns implements sqlauth.Dialect from PRAGMA table_xinfo.
func (Dialect) Columns(ctx context.Context, db *sql.DB, t sqlauth.Table) ([]sqlauth.Column, error) {
	schema := t.Schema
	if schema == "" {
		schema = "main"
	}
	const query = `SELECT name, type, "notnull" = 0, dflt_value IS NOT NULL, hidden IN (2, 3)
		FROM pragma_table_xinfo(?, ?) WHERE hidden <> 1 ORDER BY cid`
	rows, err := db.QueryContext(ctx, query, t.Name, schema)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []sqlauth.Column
	for rows.Next() {
		var c sqlauth.Column
		if err := rows.Scan(&c.Name, &c.DatabaseType, &c.Nullable, &c.Optional, &c.Generated); err != nil {
			return nil, err
		}
		c.Optional = c.Optional || c.Nullable
		c.Type = columnType(c.DatabaseType)
		if c.Type == sqlauth.IntegerColumn {
			c.IntegerBits = 64
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// columnType maps a declared column type to how the adapter reads and
// writes it, by the words SQLite's own affinity rules look for, after the
// names Prisma declares: BOOLEAN, DATETIME and JSONB. A column without a
// declared type, which holds anything, maps to no attribute type.
func columnType(declared string) sqlauth.ColumnType {
	t := strings.ToUpper(declared)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(t, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("BOOL"):
		return sqlauth.BooleanColumn
	case has("JSON"):
		return sqlauth.JSONColumn
	case has("DATE", "TIME"):
		return sqlauth.TimeColumn
	case has("INT"):
		return sqlauth.IntegerColumn
	case has("CHAR", "CLOB", "TEXT"):
		return sqlauth.TextColumn
	case has("BLOB"):
		return sqlauth.BytesColumn
	case has("REAL", "FLOA", "DOUB"):
		return sqlauth.FloatColumn
	case has("DEC", "NUM"):
		return sqlauth.DecimalColumn
	}
	return sqlauth.UnsupportedColumn
}
