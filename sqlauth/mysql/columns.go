package mysql

import (
	"context"
	"database/sql"
	"strings"

	"github.com/luciago/mongoauth/sqlauth"
)

// Columns implements sqlauth.Dialect from information_schema. An
// unqualified table is looked for in the connection's current database.
// MariaDB's JSON is LONGTEXT with a json_valid check, which it finds in
// information_schema.CHECK_CONSTRAINTS.
func (Dialect) Columns(ctx context.Context, db *sql.DB, t sqlauth.Table) ([]sqlauth.Column, error) {
	const query = `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE = 'YES',
			COLUMN_DEFAULT IS NOT NULL OR EXTRA LIKE '%auto_increment%',
			EXTRA LIKE '%VIRTUAL GENERATED%' OR EXTRA LIKE '%STORED GENERATED%'
		FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND TABLE_NAME = ?
		ORDER BY ORDINAL_POSITION`
	rows, err := db.QueryContext(ctx, query, t.Schema, t.Name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []sqlauth.Column
	longText := false
	for rows.Next() {
		var c sqlauth.Column
		var dataType string
		if err := rows.Scan(&c.Name, &dataType, &c.DatabaseType, &c.Nullable, &c.Optional, &c.Generated); err != nil {
			return nil, err
		}
		c.Optional = c.Optional || c.Nullable
		c.Unsigned = strings.Contains(c.DatabaseType, "unsigned")
		c.Type, c.IntegerBits = columnType(strings.ToLower(dataType), c.DatabaseType)
		longText = longText || dataType == "longtext"
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil || !longText {
		return cols, err
	}
	return cols, markMariaDBJSON(ctx, db, t, cols)
}

// markMariaDBJSON gives the type JSONColumn to the LONGTEXT columns that
// MariaDB created for JSON. MySQL, whose JSON is a type of its own, has no
// TABLE_NAME in CHECK_CONSTRAINTS (or no such table), so the query fails
// there and nothing changes.
func markMariaDBJSON(ctx context.Context, db *sql.DB, t sqlauth.Table, cols []sqlauth.Column) error {
	rows, err := db.QueryContext(ctx, `SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND TABLE_NAME = ?`, t.Schema, t.Name)
	if err != nil {
		return nil // MySQL: see above
	}
	defer rows.Close()
	for rows.Next() {
		var clause string
		if err := rows.Scan(&clause); err != nil {
			return err
		}
		for i, c := range cols {
			if c.DatabaseType == "longtext" && clause == "json_valid(`"+c.Name+"`)" {
				cols[i].Type = sqlauth.JSONColumn
			}
		}
	}
	return rows.Err()
}

// columnType maps a MySQL type (DATA_TYPE and COLUMN_TYPE) to how the
// adapter reads and writes it. TINYINT(1), which BOOLEAN stands for, is a
// boolean; enums and sets read as text.
func columnType(dataType, columnType string) (sqlauth.ColumnType, int) {
	switch dataType {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set":
		return sqlauth.TextColumn, 0
	case "tinyint":
		if strings.HasPrefix(columnType, "tinyint(1)") {
			return sqlauth.BooleanColumn, 0
		}
		return sqlauth.IntegerColumn, 8
	case "smallint":
		return sqlauth.IntegerColumn, 16
	case "mediumint":
		return sqlauth.IntegerColumn, 24
	case "int", "integer":
		return sqlauth.IntegerColumn, 32
	case "bigint":
		return sqlauth.IntegerColumn, 64
	case "float", "double", "real":
		return sqlauth.FloatColumn, 0
	case "decimal", "numeric":
		return sqlauth.DecimalColumn, 0
	case "datetime", "timestamp", "date":
		return sqlauth.TimeColumn, 0
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return sqlauth.BytesColumn, 0
	case "json":
		return sqlauth.JSONColumn, 0
	}
	return sqlauth.UnsupportedColumn, 0
}
