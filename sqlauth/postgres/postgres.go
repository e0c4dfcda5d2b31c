// Package postgres runs the sqlauth adapter on PostgreSQL, through pgx's
// database/sql driver (github.com/jackc/pgx/v5/stdlib), which importing
// this package registers under the name "pgx":
//
//	db, err := sql.Open("pgx", "postgres://app@localhost:5432/app")
//	...
//	adapter, err := postgres.New(ctx, db, sqlauth.Options{})
//	...
//	err = adapter.CreateTables(ctx) // idempotent; or run the DDL below in a migration
//
// # Tables
//
// Adapter.CreateTables runs, for the default names (sqlauth.CreateTablesSQL
// returns the statements for any options):
//
//	SELECT pg_advisory_xact_lock(8318549152568207360)
//	CREATE TABLE IF NOT EXISTS "auth_user" (
//		id TEXT PRIMARY KEY,
//		attributes JSONB NOT NULL DEFAULT '{}'
//	)
//	CREATE TABLE IF NOT EXISTS "auth_session" (
//		id TEXT PRIMARY KEY,
//		user_id TEXT NOT NULL REFERENCES "auth_user" (id) ON DELETE CASCADE,
//		active_expires BIGINT NOT NULL,
//		idle_expires BIGINT NOT NULL,
//		issued_at BIGINT,
//		attributes JSONB
//	)
//	CREATE INDEX IF NOT EXISTS "auth_session_user_id_idx" ON "auth_session" (user_id)
//	CREATE TABLE IF NOT EXISTS "auth_key" (
//		id TEXT PRIMARY KEY,
//		user_id TEXT NOT NULL REFERENCES "auth_user" (id) ON DELETE CASCADE,
//		hashed_password TEXT,
//		primary_key BOOLEAN NOT NULL,
//		expires BIGINT
//	)
//	CREATE INDEX IF NOT EXISTS "auth_key_user_id_idx" ON "auth_key" (user_id)
//
// and, with sqlauth.Options.ThrottleTable set to "auth_throttle", the
// table of Adapter.ThrottleStore's records:
//
//	CREATE TABLE IF NOT EXISTS "auth_throttle" (
//		id TEXT PRIMARY KEY,
//		until_ms BIGINT NOT NULL
//	)
//	CREATE INDEX IF NOT EXISTS "auth_throttle_until_idx" ON "auth_throttle" (until_ms)
//
// all in one transaction. The advisory lock serialises concurrent
// CreateTables calls (CREATE ... IF NOT EXISTS alone can fail when two
// sessions run it at once). With sqlauth.Options.NoForeignKeys the
// REFERENCES clauses are left out. Qualified names ("app.auth_user") put
// the tables in that schema, which must exist.
//
// # Attribute columns
//
// A user table with a column per attribute (sqlauth.AttributesInColumns,
// as Prisma makes it: TEXT, INTEGER, BIGINT, DOUBLE PRECISION,
// DECIMAL(65,30), BOOLEAN, TIMESTAMP(3), JSONB, BYTEA) maps column types
// so: text, varchar, char, citext, uuid and enums to text; smallint,
// integer and bigint to integers of their range; boolean; real and double
// precision to floats; numeric to decimals; timestamp, timestamptz and date
// to times (timestamp without time zone holds UTC); bytea to bytes; json
// and jsonb to JSON. Other types are refused by CheckSchema.
//
// # Behaviour
//
// Transactions run at READ COMMITTED whatever the server's default, which
// the NoForeignKeys mode needs (see package sqlauth). Errors are classified
// by SQLSTATE: 23505 unique_violation (a taken id), 23503
// foreign_key_violation (an unknown user), 40001 serialization_failure and
// 40P01 deadlock_detected (retried).
//
// A unique_violation is a taken id when its constraint is the table's
// primary key, recognised by the name PostgreSQL gives it, <table>_pkey (the
// error carries the constraint's name, not its kind). Any other unique
// constraint or index, such as one an application adds on a user
// attribute,
//
//	CREATE UNIQUE INDEX auth_user_email_key ON auth_user ((attributes->>'email'))
//
// gives an *auth.DuplicateValueError naming it. A primary key constraint
// renamed by hand would be reported that way too, so keep the default
// name.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/luciago/mongoauth/sqlauth"
)

// New returns a sqlauth adapter over db, a PostgreSQL database opened with
// the "pgx" driver. See sqlauth.New.
func New(ctx context.Context, db *sql.DB, opts sqlauth.Options) (*sqlauth.Adapter, error) {
	return sqlauth.New(ctx, db, Dialect{}, opts)
}

// Dialect is PostgreSQL's sqlauth.Dialect.
type Dialect struct{}

var _ sqlauth.Dialect = Dialect{}

// syntax: READ COMMITTED, so that each statement of a transaction sees
// what committed before it started, whatever the server's default.
var syntax = sqlauth.Syntax{
	Name:                 "postgres",
	IdentifierQuote:      `"`,
	NumberedPlaceholders: true,
	LockForShare:         " FOR SHARE",
	LockForUpdate:        " FOR UPDATE",
	TxOptions:            &sql.TxOptions{Isolation: sql.LevelReadCommitted},
	SessionAttributes:    "attributes JSONB",
	IssuedAt:             "issued_at BIGINT",
	Greatest:             "GREATEST",
}

// Syntax implements sqlauth.Dialect.
func (Dialect) Syntax() sqlauth.Syntax { return syntax }

// advisoryLock is the pg_advisory_xact_lock key that serialises
// CreateTables; the bytes spell "sqlauth".
const advisoryLock = 0x73716c6175746800

// CreateTables implements sqlauth.Dialect.
func (Dialect) CreateTables(s sqlauth.Schema) []string {
	users, sessions, keys := s.Users.Quoted(syntax), s.Sessions.Quoted(syntax), s.Keys.Quoted(syntax)
	userID := "user_id TEXT NOT NULL"
	if s.ForeignKeys {
		userID += " REFERENCES " + users + " (id) ON DELETE CASCADE"
	}
	index := func(t sqlauth.Table) string {
		return "CREATE INDEX IF NOT EXISTS " + syntax.Quote(t.Name+"_user_id_idx") + " ON " + t.Quoted(syntax) + " (user_id)"
	}
	stmts := []string{
		fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", advisoryLock),
		"CREATE TABLE IF NOT EXISTS " + users + " (\n" +
			"\tid TEXT PRIMARY KEY" + s.JSONColumn(",\n\tattributes JSONB NOT NULL DEFAULT '{}'") + "\n)",
		"CREATE TABLE IF NOT EXISTS " + sessions + " (\n" +
			"\tid TEXT PRIMARY KEY,\n" +
			"\t" + userID + ",\n" +
			"\tactive_expires BIGINT NOT NULL,\n" +
			"\tidle_expires BIGINT NOT NULL,\n" +
			"\t" + syntax.IssuedAt + s.JSONColumn(",\n\t"+syntax.SessionAttributes) + "\n)",
		index(s.Sessions),
		"CREATE TABLE IF NOT EXISTS " + keys + " (\n" +
			"\tid TEXT PRIMARY KEY,\n" +
			"\t" + userID + ",\n" +
			"\thashed_password TEXT,\n" +
			"\tprimary_key BOOLEAN NOT NULL,\n" +
			"\texpires BIGINT\n)",
		index(s.Keys),
	}
	if t := s.Throttle; t.Name != "" {
		stmts = append(stmts,
			"CREATE TABLE IF NOT EXISTS "+t.Quoted(syntax)+" (\n\tid TEXT PRIMARY KEY,\n\tuntil_ms BIGINT NOT NULL\n)",
			"CREATE INDEX IF NOT EXISTS "+syntax.Quote(t.Name+"_until_idx")+" ON "+t.Quoted(syntax)+" (until_ms)")
	}
	return stmts
}

// HasForeignKeys implements sqlauth.Dialect from pg_constraint.
func (Dialect) HasForeignKeys(ctx context.Context, db *sql.DB, s sqlauth.Schema) (bool, error) {
	const query = `SELECT count(DISTINCT c.conrelid) FROM pg_constraint c
		WHERE c.contype = 'f' AND c.confdeltype = 'c'
		AND c.conrelid IN ($1::text::regclass, $2::text::regclass)
		AND c.confrelid = $3::text::regclass
		AND c.conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = c.conrelid AND attname = 'user_id')]
		AND c.confkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = c.confrelid AND attname = 'id')]`
	var n int
	err := db.QueryRowContext(ctx, query, s.Sessions.Quoted(syntax), s.Keys.Quoted(syntax), s.Users.Quoted(syntax)).Scan(&n)
	return n == 2, err
}

// Classify implements sqlauth.Dialect by SQLSTATE.
func (Dialect) Classify(err error) sqlauth.ErrorKind {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return sqlauth.OtherError
	}
	switch pgErr.Code {
	case "23505": // unique_violation
		// An error that names no constraint (a PostgreSQL-compatible server
		// may not) counts as a taken id, as before constraints were told
		// apart.
		if pgErr.ConstraintName == "" || pgErr.ConstraintName == primaryKeyName(pgErr.TableName) {
			return sqlauth.UniqueViolation
		}
		return sqlauth.DuplicateValue
	case "23503": // foreign_key_violation
		return sqlauth.ForeignKeyViolation
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return sqlauth.Retryable
	}
	return sqlauth.OtherError
}

// UniqueIndex implements sqlauth.Dialect: PostgreSQL names the constraint
// or unique index in the error's constraint_name field.
func (Dialect) UniqueIndex(err error) (name string, columns []string) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return "", nil
	}
	return pgErr.ConstraintName, nil
}

// primaryKeyName is the name PostgreSQL gives the primary key constraint of
// a table created with "id ... PRIMARY KEY", as CreateTables and Lucia's
// own schema do: the table's name, cut to fit 63 bytes with the suffix,
// then "_pkey". Plain identifiers are ASCII, so the cut is bytewise.
func primaryKeyName(table string) string {
	const maxIdentifier, suffix = 63, "_pkey"
	if len(table) > maxIdentifier-len(suffix) {
		table = table[:maxIdentifier-len(suffix)]
	}
	return table + suffix
}
