package postgres_test

import (
	"context"
	"database/sql"
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
