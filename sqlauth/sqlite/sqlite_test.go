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
