package postgres

import (
	"context"
	"database/sql"

	"github.com/luciago/mongoauth/sqlauth"
)

// Columns implements sqlauth.Dialect from pg_attribute. An unqualified
// table is found through the connection's search_path.
func (Dialect) Columns(ctx context.Context, db *sql.DB, t sqlauth.Table) ([]sqlauth.Column, error) {
	const query = `SELECT a.attname, format_type(a.atttypid, a.atttypmod), ty.typname, ty.typtype,
			NOT a.attnotnull, a.atthasdef OR a.attidentity <> '', a.attgenerated <> ''
		FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
		WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`
	rows, err := db.QueryContext(ctx, query, t.Quoted(syntax))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []sqlauth.Column
	for rows.Next() {
		var c sqlauth.Column
		var name, kind string
		if err := rows.Scan(&c.Name, &c.DatabaseType, &name, &kind, &c.Nullable, &c.Optional, &c.Generated); err != nil {
			return nil, err
		}
		c.Optional = c.Optional || c.Nullable
		c.Type, c.IntegerBits = columnType(name, kind)
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// columnType maps a PostgreSQL type (pg_type's typname and typtype) to
// how the adapter reads and writes it. Enums and uuid read as text.
func columnType(name, kind string) (sqlauth.ColumnType, int) {
	if kind == "e" {
		return sqlauth.TextColumn, 0
	}
	switch name {
	case "text", "varchar", "bpchar", "citext", "name", "uuid":
		return sqlauth.TextColumn, 0
	case "int2":
		return sqlauth.IntegerColumn, 16
	case "int4":
		return sqlauth.IntegerColumn, 32
	case "int8":
		return sqlauth.IntegerColumn, 64
	case "bool":
		return sqlauth.BooleanColumn, 0
	case "float4", "float8":
		return sqlauth.FloatColumn, 0
	case "numeric":
		return sqlauth.DecimalColumn, 0
	case "timestamp", "timestamptz", "date":
		return sqlauth.TimeColumn, 0
	case "bytea":
		return sqlauth.BytesColumn, 0
	case "json", "jsonb":
		return sqlauth.JSONColumn, 0
	}
	return sqlauth.UnsupportedColumn, 0
}
