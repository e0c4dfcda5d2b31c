package postgres_test

import (
	"context"
	"database/sql"
	"github.com/luciago/mongoauth/sqlauth"
	"github.com/stretchr/testify/assert"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/sqlauth/postgres"
	"github.com/luciago/mongoauth/sqlauth/sqlauthtest"
)

// database returns the harness's description of the PostgreSQL server in
// POSTGRES_DSN, or skips t when it is not set.
func database(t testing.TB) sqlauthtest.Database {
	admin, dsn := sqlauthtest.Server(t, "POSTGRES_DSN", "pgx", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	return sqlauthtest.Database{
		NewStore: func(t testing.TB) sqlauthtest.Store { return newStore(t, admin, dsn) },
		New:      postgres.New,
		Dialect:  postgres.Dialect{},
		// An expression index on the JSON column, named as PostgreSQL
		// would name a UNIQUE constraint.
		UniqueAttribute: []string{"CREATE UNIQUE INDEX auth_user_%[1]s_key ON auth_user ((attributes->>'%[1]s'))"},
	}
}

// newStore creates a fresh schema and a pool whose search_path is that
// schema, so that unqualified table names resolve inside it. The pool's
// application_name is the schema too, which lets LockWaiters find its
// sessions in pg_stat_activity.
func newStore(t testing.TB, admin *sql.DB, dsn string) sqlauthtest.Store {
	schema := sqlauthtest.Scratch(t, admin, "CREATE SCHEMA %s", "DROP SCHEMA %s CASCADE")
	cfg, err := pgx.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.RuntimeParams["search_path"] = schema
	cfg.RuntimeParams["application_name"] = schema
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { _ = db.Close() })
	return sqlauthtest.Store{
		DB:   db,
		Name: schema,
		LockWaiters: func(ctx context.Context) (int, error) {
			var n int
			err := admin.QueryRowContext(ctx,
				"SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", schema).Scan(&n)
			return n, err
		},
	}
}

func TestConformance(t *testing.T) { sqlauthtest.Conformance(t, database(t)) }

func TestAdapter(t *testing.T) { sqlauthtest.Run(t, database(t)) }

func BenchmarkAdapter(b *testing.B) { sqlauthtest.Benchmark(b, database(b)) }

func TestDocumentedDDL(t *testing.T) { sqlauthtest.DocumentsDDL(t, "postgres.go", postgres.Dialect{}) }

// TestPrimaryKeyOfLongTableName checks the name the dialect expects for a
// primary key against the server's, for a table name PostgreSQL shortens
// to fit it, and that another unique index is a duplicate value.
func TestPrimaryKeyOfLongTableName(t *testing.T) {
	db := database(t).NewStore(t).DB
	ctx := sqlauthtest.Context(t)
	long := strings.Repeat("t", 63)
	for _, stmt := range []string{
		"CREATE TABLE " + long + " (id TEXT PRIMARY KEY, email TEXT UNIQUE)",
		"INSERT INTO " + long + " VALUES ('1', 'a')",
	} {
		_, err := db.ExecContext(ctx, stmt)
		require.NoError(t, err, stmt)
	}
	_, err := db.ExecContext(ctx, "INSERT INTO "+long+" VALUES ('1', 'b')")
	require.Error(t, err)
	assert.Equal(t, sqlauth.UniqueViolation, postgres.Dialect{}.Classify(err), "%v", err)

	_, err = db.ExecContext(ctx, "INSERT INTO "+long+" VALUES ('2', 'a')")
	require.Error(t, err)
	assert.Equal(t, sqlauth.DuplicateValue, postgres.Dialect{}.Classify(err), "%v", err)
	index, _ := postgres.Dialect{}.UniqueIndex(err)
	assert.Contains(t, index, "email")
}
