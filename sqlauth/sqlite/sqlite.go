// Package sqlite runs the sqlauth adapter on SQLite, through the pure-Go
// driver modernc.org/sqlite (no cgo, nothing to install), which importing
// this package registers under the name "sqlite":
//
//	db, err := sql.Open("sqlite", sqlite.DSN("app.db"))
//	...
//	adapter, err := sqlite.New(ctx, db, sqlauth.Options{})
//	...
//	err = adapter.CreateTables(ctx) // idempotent; or run the DDL below in a migration
//
// Open the database with DSN, or with a DSN of your own that sets the same
// things: SQLite enforces foreign keys only on connections that switch
// them on, and database/sql opens many connections. CheckSchema (which
// CreateTables runs) fails when a connection has them off.
//
// # Tables
//
// Adapter.CreateTables runs, for the default names (sqlauth.CreateTablesSQL
// returns the statements for any options):
//
//	CREATE TABLE IF NOT EXISTS "auth_user" (
//		id TEXT NOT NULL PRIMARY KEY,
//		attributes TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes))
//	) STRICT, WITHOUT ROWID
//	CREATE TABLE IF NOT EXISTS "auth_session" (
//		id TEXT NOT NULL PRIMARY KEY,
//		user_id TEXT NOT NULL REFERENCES "auth_user" (id) ON DELETE CASCADE,
//		active_expires INTEGER NOT NULL,
//		idle_expires INTEGER NOT NULL,
//		issued_at INTEGER,
//		attributes TEXT CHECK (json_valid(attributes))
//	) STRICT, WITHOUT ROWID
//	CREATE INDEX IF NOT EXISTS "auth_session_user_id_idx" ON "auth_session" (user_id)
//	CREATE TABLE IF NOT EXISTS "auth_key" (
//		id TEXT NOT NULL PRIMARY KEY,
//		user_id TEXT NOT NULL REFERENCES "auth_user" (id) ON DELETE CASCADE,
//		hashed_password TEXT,
//		primary_key INTEGER NOT NULL CHECK (primary_key IN (0, 1)),
//		expires INTEGER
//	) STRICT, WITHOUT ROWID
//	CREATE INDEX IF NOT EXISTS "auth_key_user_id_idx" ON "auth_key" (user_id)
//
// and, with sqlauth.Options.ThrottleTable set to "auth_throttle", the
// table of Adapter.ThrottleStore's records:
//
//	CREATE TABLE IF NOT EXISTS "auth_throttle" (
//		id TEXT NOT NULL PRIMARY KEY,
//		until_ms INTEGER NOT NULL
//	) STRICT, WITHOUT ROWID
//	CREATE INDEX IF NOT EXISTS "auth_throttle_until_idx" ON "auth_throttle" (until_ms)
//
// in one transaction. STRICT tables (SQLite 3.37 and later) refuse values
// of the wrong type. With sqlauth.Options.NoForeignKeys the REFERENCES
// clauses are left out. A qualified name ("aux.auth_user") names an
// attached database; SQLite's foreign keys only reach tables in the same
// database, so keep the three tables together.
//
// # Attribute columns
//
// A user table with a column per attribute (sqlauth.AttributesInColumns,
// as Prisma makes it: TEXT, INTEGER, BIGINT, REAL, DECIMAL, BOOLEAN,
// DATETIME, BLOB) maps declared types by the words in them, as SQLite's
// affinity rules do: BOOL to booleans (stored as 1 and 0), JSON to JSON,
// DATE or TIME to times, stored as Unix milliseconds like Prisma's SQLite
// engine does (text times and CURRENT_TIMESTAMP's are read too), INT to
// integers, CHAR, CLOB or TEXT to text, BLOB to bytes, REAL, FLOA or DOUB to
// floats, DEC or NUM to decimals. A column without a declared type holds
// anything and is refused by CheckSchema.
//
// # Behaviour
//
// SQLite lets one transaction write at a time, so the adapter needs no row
// locks: a writing transaction already excludes every other writer. Errors
// are classified by SQLite's extended result codes: SQLITE_CONSTRAINT_PRIMARYKEY
// (a taken id), SQLITE_CONSTRAINT_UNIQUE (a unique index the application
// added, reported as auth.ErrDuplicateValue), SQLITE_CONSTRAINT_FOREIGNKEY
// (an unknown user), SQLITE_BUSY and SQLITE_LOCKED with their extended
// codes (sqlauth.Busy, retried: another connection held the lock past the
// busy timeout, or a read transaction could not be upgraded to a write).
//
// A unique index an application adds on a user attribute, an index on an
// expression of the JSON column,
//
//	CREATE UNIQUE INDEX auth_user_email_key ON auth_user (json_extract(attributes, '$.email'))
//
// makes a clash fail with an *auth.DuplicateValueError naming the index
// (or, for an index on plain columns, the columns), read from SQLite's
// message: see Dialect.UniqueIndex.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"

	modernc "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/luciago/mongoauth/sqlauth"
)

// DSN returns a data source name for the database file at path with the
// settings the adapter relies on, applied to every connection:
//
//   - foreign_keys(1): SQLite's default is off;
//   - busy_timeout(100): wait up to 100 ms for another connection's write
//     lock before reporting SQLITE_BUSY. SQLite's own wait cannot be
//     interrupted, so it is kept short; the adapter then waits on, in steps
//     that honour the context, for up to 10 s in all;
//   - journal_mode(WAL): readers do not block the writer nor it them;
//   - _txlock=immediate: transactions take the write lock when they begin,
//     so one that reads and then writes never has to be retried.
//
// Do not use ":memory:": each pooled connection would get its own empty
// database.
func DSN(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=foreign_keys(1)&_pragma=busy_timeout(100)&_pragma=journal_mode(WAL)&_txlock=immediate"
}

// New returns a sqlauth adapter over db, a SQLite database opened with the
// "sqlite" driver, preferably with DSN. See sqlauth.New.
func New(ctx context.Context, db *sql.DB, opts sqlauth.Options) (*sqlauth.Adapter, error) {
	return sqlauth.New(ctx, db, Dialect{}, opts)
}

// Dialect is SQLite's sqlauth.Dialect.
type Dialect struct{}

var _ sqlauth.Dialect = Dialect{}

// syntax: SQLite has no row locks and needs none (see the package
// documentation); its transactions are serializable, and DSN makes them
// take the write lock at once.
var syntax = sqlauth.Syntax{
	Name:            "sqlite",
	IdentifierQuote: `"`,
	UnixMilliTimes:  true,
	// json_valid(NULL) is NULL, which passes the check: NULL is no
	// attributes.
	SessionAttributes: "attributes TEXT CHECK (json_valid(attributes))",
	// STRICT tables take INTEGER, not BIGINT (the same 64 bits).
	IssuedAt: "issued_at INTEGER",
	Greatest: "max",
}

// Syntax implements sqlauth.Dialect.
func (Dialect) Syntax() sqlauth.Syntax { return syntax }

// CreateTables implements sqlauth.Dialect.
func (Dialect) CreateTables(s sqlauth.Schema) []string {
	userID := "user_id TEXT NOT NULL"
	if s.ForeignKeys {
		// SQLite resolves the parent table in the child's own database, and
		// refuses a qualified name here.
		userID += " REFERENCES " + syntax.Quote(s.Users.Name) + " (id) ON DELETE CASCADE"
	}
	index := func(t sqlauth.Table) string {
		name := sqlauth.Table{Schema: t.Schema, Name: t.Name + "_user_id_idx"}
		return "CREATE INDEX IF NOT EXISTS " + name.Quoted(syntax) + " ON " + syntax.Quote(t.Name) + " (user_id)"
	}
	const options = " STRICT, WITHOUT ROWID"
	stmts := []string{
		"CREATE TABLE IF NOT EXISTS " + s.Users.Quoted(syntax) + " (\n" +
			"\tid TEXT NOT NULL PRIMARY KEY" + s.JSONColumn(",\n\tattributes TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes))") + "\n)" + options,
		"CREATE TABLE IF NOT EXISTS " + s.Sessions.Quoted(syntax) + " (\n" +
			"\tid TEXT NOT NULL PRIMARY KEY,\n" +
			"\t" + userID + ",\n" +
			"\tactive_expires INTEGER NOT NULL,\n" +
			"\tidle_expires INTEGER NOT NULL,\n" +
			"\t" + syntax.IssuedAt + s.JSONColumn(",\n\t"+syntax.SessionAttributes) + "\n)" + options,
		index(s.Sessions),
		"CREATE TABLE IF NOT EXISTS " + s.Keys.Quoted(syntax) + " (\n" +
			"\tid TEXT NOT NULL PRIMARY KEY,\n" +
			"\t" + userID + ",\n" +
			"\thashed_password TEXT,\n" +
			"\tprimary_key INTEGER NOT NULL CHECK (primary_key IN (0, 1)),\n" +
			"\texpires INTEGER\n)" + options,
		index(s.Keys),
	}
	if t := s.Throttle; t.Name != "" {
		index := sqlauth.Table{Schema: t.Schema, Name: t.Name + "_until_idx"}
		stmts = append(stmts,
			"CREATE TABLE IF NOT EXISTS "+t.Quoted(syntax)+" (\n\tid TEXT NOT NULL PRIMARY KEY,\n\tuntil_ms INTEGER NOT NULL\n)"+options,
			"CREATE INDEX IF NOT EXISTS "+index.Quoted(syntax)+" ON "+syntax.Quote(t.Name)+" (until_ms)")
	}
	return stmts
}

// HasForeignKeys implements sqlauth.Dialect from PRAGMA foreign_key_list,
// and checks PRAGMA foreign_keys on one of db's connections.
func (Dialect) HasForeignKeys(ctx context.Context, db *sql.DB, s sqlauth.Schema) (bool, error) {
	const query = `SELECT
		(SELECT foreign_keys FROM pragma_foreign_keys),
		(SELECT count(*) FROM pragma_foreign_key_list(?, ?)
			WHERE "table" = ? AND "from" = 'user_id' AND "to" = 'id' AND on_delete = 'CASCADE'),
		(SELECT count(*) FROM pragma_foreign_key_list(?, ?)
			WHERE "table" = ? AND "from" = 'user_id' AND "to" = 'id' AND on_delete = 'CASCADE')`
	schema := func(t sqlauth.Table) string {
		if t.Schema == "" {
			return "main"
		}
		return t.Schema
	}
	var enabled, sessions, keys int
	err := db.QueryRowContext(ctx, query,
		s.Sessions.Name, schema(s.Sessions), s.Users.Name,
		s.Keys.Name, schema(s.Keys), s.Users.Name).Scan(&enabled, &sessions, &keys)
	return enabled == 1 && sessions == 1 && keys == 1, err
}

// Classify implements sqlauth.Dialect by extended result code.
func (Dialect) Classify(err error) sqlauth.ErrorKind {
	var liteErr *modernc.Error
	if !errors.As(err, &liteErr) {
		return sqlauth.OtherError
	}
	switch code := liteErr.Code(); code {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqlauth.UniqueViolation
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return sqlauth.DuplicateValue
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqlauth.ForeignKeyViolation
	default:
		if primary := code & 0xff; primary == sqlite3.SQLITE_BUSY || primary == sqlite3.SQLITE_LOCKED {
			return sqlauth.Busy
		}
	}
	return sqlauth.OtherError
}

// uniqueFailed starts SQLite's message for a unique index violation.
const uniqueFailed = "UNIQUE constraint failed: "

// UniqueIndex implements sqlauth.Dialect. SQLite reports which index failed
// only in its message (the C API has no field for it, and the message is
// never translated): "UNIQUE constraint failed: t.a, t.b" for an index on
// columns, "UNIQUE constraint failed: index 'name'" for one on expressions.
// The extended code has already said that it is not the primary key.
func (Dialect) UniqueIndex(err error) (name string, columns []string) {
	var liteErr *modernc.Error
	if !errors.As(err, &liteErr) {
		return "", nil
	}
	msg := liteErr.Error()
	i := strings.Index(msg, uniqueFailed)
	if i < 0 {
		return "", nil
	}
	msg = msg[i+len(uniqueFailed):]
	if end := strings.LastIndex(msg, " ("); end >= 0 { // the driver appends " (code)"
		msg = msg[:end]
	}
	if quoted, ok := strings.CutPrefix(msg, "index '"); ok {
		return strings.TrimSuffix(quoted, "'"), nil
	}
	for _, column := range strings.Split(msg, ", ") {
		_, column, _ = strings.Cut(column, ".")
		columns = append(columns, column)
	}
	return "", columns
}
