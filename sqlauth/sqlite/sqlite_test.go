package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

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

	CancelStopsStatement: true,
	UniqueAttribute:      []string{"CREATE UNIQUE INDEX auth_user_%[1]s_key ON auth_user (json_extract(attributes, '$.%[1]s'))"},
}

func TestConformance(t *testing.T) { sqlauthtest.Conformance(t, database) }

func TestAdapter(t *testing.T) { sqlauthtest.Run(t, database) }

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
