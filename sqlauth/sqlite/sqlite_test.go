package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/sqlauth"
	"github.com/luciago/mongoauth/sqlauth/sqlauthtest"
	"github.com/luciago/mongoauth/sqlauth/sqlite"
)

// database gives every test its own database file in a temporary
// directory, so SQLite tests need no setup and always run.
var database = sqlauthtest.Database{
	NewStore: func(t testing.TB) sqlauthtest.Store {
		db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(t.TempDir(), "auth.db")))
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return sqlauthtest.Store{DB: db, Name: "main"}
	},
	New:     sqlite.New,
	Dialect: sqlite.Dialect{},
	Prisma:  prisma,

	UnsupportedType: "", // no declared type: the column holds anything

	CancelStopsStatement: true,
	UniqueAttribute:      []string{"CREATE UNIQUE INDEX auth_user_%[1]s_key ON auth_user (json_extract(attributes, '$.%[1]s'))"},
	ForeignKeysOff:       [2]string{"PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = ON"},
}

func TestConformance(t *testing.T) { sqlauthtest.Conformance(t, database) }

func TestAdapter(t *testing.T) { sqlauthtest.Run(t, database) }

func TestThrottleStore(t *testing.T) { sqlauthtest.ThrottleRun(t, database) }

func BenchmarkAdapter(b *testing.B) { sqlauthtest.Benchmark(b, database) }

func TestDocumentedDDL(t *testing.T) { sqlauthtest.DocumentsDDL(t, "sqlite.go", sqlite.Dialect{}) }

// TestForeignKeysOffIsRefused: a connection opened without foreign_keys(1)
// would neither check users nor cascade deletes in the default mode.
func TestForeignKeysOffIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.db")
	ctx := sqlauthtest.Context(t)
	db, err := sql.Open("sqlite", sqlite.DSN(path))
	require.NoError(t, err)
	defer db.Close()
	a, err := sqlite.New(ctx, db, sqlauth.Options{})
	require.NoError(t, err)
	require.NoError(t, a.CreateTables(ctx))

	plain, err := sql.Open("sqlite", path) // SQLite's default: foreign keys off
	require.NoError(t, err)
	defer plain.Close()
	a, err = sqlite.New(ctx, plain, sqlauth.Options{})
	require.NoError(t, err)
	var se *sqlauth.SchemaError
	require.ErrorAs(t, a.CheckSchema(ctx), &se)
	a, err = sqlite.New(ctx, plain, sqlauth.Options{NoForeignKeys: true})
	require.NoError(t, err)
	require.NoError(t, a.CheckSchema(ctx), "without foreign keys the adapter checks users itself")
}

// prisma is what Prisma Migrate creates for the seed's models on SQLite.
// Types are the connector's documented mapping ("Type mapping between
// SQLite to Prisma schema",
// https://www.prisma.io/docs/orm/overview/databases/sqlite), except that
// DateTime is DATETIME and BigInt BIGINT, as Prisma 4 and 5 (the versions
// Lucia v1's adapter ran on) wrote them; both have the same affinity as
// the documented NUMERIC and INTEGER. Json has no column type there. The
// DDL has the shape of Prisma's migration files: the primary key inline,
// the foreign keys as named table constraints, then the indexes.
var prisma = sqlauthtest.Prisma{
	Types: map[string]string{
		"String": "TEXT", "Boolean": "BOOLEAN", "Int": "INTEGER", "BigInt": "BIGINT",
		"Float": "REAL", "Decimal": "DECIMAL", "DateTime": "DATETIME", "Bytes": "BLOB",
	},
	Now: "CURRENT_TIMESTAMP",
	Tables: func(user []string, foreignKeys bool) []string {
		fk := func(table string) string {
			if !foreignKeys {
				return ""
			}
			return ",\n\tCONSTRAINT \"" + table + "_user_id_fkey\" FOREIGN KEY (\"user_id\") REFERENCES \"auth_user\" (\"id\") ON DELETE CASCADE ON UPDATE CASCADE"
		}
		return []string{
			"CREATE TABLE \"auth_user\" (\n" +
				"\t\"id\" TEXT NOT NULL PRIMARY KEY" + strings.TrimSuffix(",\n"+sqlauthtest.ColumnLines(user), ",\n") + "\n)",
			"CREATE TABLE \"auth_session\" (\n" +
				"\t\"id\" TEXT NOT NULL PRIMARY KEY,\n" +
				"\t\"user_id\" TEXT NOT NULL,\n" +
				"\t\"active_expires\" BIGINT NOT NULL,\n" +
				"\t\"idle_expires\" BIGINT NOT NULL" + fk("auth_session") + "\n)",
			"CREATE TABLE \"auth_key\" (\n" +
				"\t\"id\" TEXT NOT NULL PRIMARY KEY,\n" +
				"\t\"hashed_password\" TEXT,\n" +
				"\t\"user_id\" TEXT NOT NULL,\n" +
				"\t\"primary_key\" BOOLEAN NOT NULL,\n" +
				"\t\"expires\" BIGINT" + fk("auth_key") + "\n)",
			`CREATE UNIQUE INDEX "auth_user_id_key" ON "auth_user"("id")`,
			`CREATE UNIQUE INDEX "auth_session_id_key" ON "auth_session"("id")`,
			`CREATE INDEX "auth_session_user_id_idx" ON "auth_session"("user_id")`,
			`CREATE UNIQUE INDEX "auth_key_id_key" ON "auth_key"("id")`,
			`CREATE INDEX "auth_key_user_id_idx" ON "auth_key"("user_id")`,
		}
	},
}

func TestPrismaAdapter(t *testing.T) { sqlauthtest.PrismaRun(t, database) }

func TestPrismaConformance(t *testing.T) { sqlauthtest.PrismaConformance(t, database) }

// TestPrismaRowsOnSQLite: times are stored as Prisma's SQLite engine
// stores DateTime, Unix milliseconds, and rows that other programs wrote
// read back: milliseconds, ISO 8601 text (Prisma's driver adapters),
// CURRENT_TIMESTAMP's text, booleans as 1 and 0. A value no attribute type
// holds is a *sqlauth.DataError naming the column.
func TestPrismaRowsOnSQLite(t *testing.T) {
	fields := []sqlauthtest.Field{
		{Name: "username", Type: "String", Required: true},
		{Name: "admin", Type: "Boolean", Required: true, Default: "false"},
		{Name: "joined", Type: "DateTime"},
	}
	a, store := database.OpenPrisma(t, fields, sqlauth.Options{})
	ctx := sqlauthtest.Context(t)
	joined := time.Date(2024, 2, 29, 23, 59, 58, 123_000_000, time.UTC)
	require.NoError(t, a.SetUser(ctx, auth.UserRecord{ID: "go", Attributes: map[string]any{"username": "go", "joined": joined, "admin": true}}, nil))
	var kind string
	var ms, admin int64
	require.NoError(t, store.DB.QueryRowContext(ctx, `SELECT typeof(joined), joined, admin FROM auth_user WHERE id = 'go'`).Scan(&kind, &ms, &admin))
	assert.Equal(t, "integer", kind)
	assert.Equal(t, joined.UnixMilli(), ms)
	assert.Equal(t, int64(1), admin)

	for id, stored := range map[string]any{
		"millis":            joined.UnixMilli(),
		"iso":               "2024-02-29T23:59:58.123Z",
		"iso with offset":   "2024-03-01T00:59:58.123+01:00",
		"current_timestamp": "2024-02-29 23:59:58.123",
	} {
		_, err := store.DB.ExecContext(ctx, `INSERT INTO auth_user (id, username, admin, joined) VALUES (?, ?, 0, ?)`, id, id, stored)
		require.NoError(t, err)
		u, err := a.GetUser(ctx, id)
		require.NoError(t, err, id)
		assert.Equal(t, map[string]any{"username": id, "admin": false, "joined": joined}, u.Attributes, id)
	}

	_, err := store.DB.ExecContext(ctx, `INSERT INTO auth_user (id, username, admin) VALUES ('odd', 'odd', 7)`)
	require.NoError(t, err)
	_, err = a.GetUser(ctx, "odd")
	var de *sqlauth.DataError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "admin", de.Column)
	assert.Equal(t, "odd", de.ID)
}

func BenchmarkPrisma(b *testing.B) { sqlauthtest.PrismaBenchmark(b, database) }

// TestUniqueViolations checks how the extended result code and the message
// tell a primary key from another unique index, on an index over plain
// columns (SQLite names the columns) and one over an expression (it names
// the index).
func TestUniqueViolations(t *testing.T) {
	db := database.NewStore(t).DB
	ctx := sqlauthtest.Context(t)
	for _, stmt := range []string{
		"CREATE TABLE t (id TEXT PRIMARY KEY, a TEXT UNIQUE, b TEXT, c TEXT, j TEXT, UNIQUE (b, c)) STRICT, WITHOUT ROWID",
		"CREATE TABLE r (id TEXT PRIMARY KEY, a TEXT)", // a rowid table, as other tools make them
		"CREATE UNIQUE INDEX t_j_name ON t (json_extract(j, '$.name'))",
		`INSERT INTO t VALUES ('1', 'a', 'b', 'c', '{"name": "n"}')`,
		"INSERT INTO r VALUES ('1', 'a')",
	} {
		_, err := db.ExecContext(ctx, stmt)
		require.NoError(t, err, stmt)
	}
	for _, tc := range []struct {
		insert  string
		kind    sqlauth.ErrorKind
		index   string
		columns []string
	}{
		{`INSERT INTO t VALUES ('1', 'x', 'y', 'z', '{}')`, sqlauth.UniqueViolation, "", nil},
		{"INSERT INTO r VALUES ('1', 'x')", sqlauth.UniqueViolation, "", nil},
		{`INSERT INTO t VALUES ('2', 'a', 'y', 'z', '{}')`, sqlauth.DuplicateValue, "", []string{"a"}},
		{`INSERT INTO t VALUES ('2', 'x', 'b', 'c', '{}')`, sqlauth.DuplicateValue, "", []string{"b", "c"}},
		{`INSERT INTO t VALUES ('2', 'x', 'y', 'z', '{"name": "n"}')`, sqlauth.DuplicateValue, "t_j_name", nil},
	} {
		_, err := db.ExecContext(ctx, tc.insert)
		require.Error(t, err, tc.insert)
		require.Equal(t, tc.kind, sqlite.Dialect{}.Classify(err), "%s: %v", tc.insert, err)
		if tc.kind == sqlauth.DuplicateValue {
			index, columns := sqlite.Dialect{}.UniqueIndex(err)
			require.Equal(t, tc.index, index, "%v", err)
			require.Equal(t, tc.columns, columns, "%v", err)
		}
	}
}
