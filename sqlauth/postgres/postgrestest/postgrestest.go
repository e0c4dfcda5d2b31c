// Package postgrestest describes the PostgreSQL server of the tests to the
// sqlauthtest harness: fresh schemas on POSTGRES_DSN, and the tables Prisma
// Migrate creates for the seed's models. The dialect's own tests and the
// Lucia interop tests (package interop) use it.
package postgrestest

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

// Database returns the harness's description of the PostgreSQL server in
// POSTGRES_DSN, or skips t when it is not set.
func Database(t testing.TB) sqlauthtest.Database {
	admin, dsn := sqlauthtest.Server(t, "POSTGRES_DSN", "pgx", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	return sqlauthtest.Database{
		NewStore: func(t testing.TB) sqlauthtest.Store { return newStore(t, admin, dsn) },
		New:      postgres.New,
		Dialect:  postgres.Dialect{},
		Prisma:   prisma,

		UnsupportedType: "INTERVAL",
		// An expression index on the JSON column, named as PostgreSQL
		// would name a UNIQUE constraint.
		UniqueAttribute: []string{"CREATE UNIQUE INDEX auth_user_%[1]s_key ON auth_user ((attributes->>'%[1]s'))"},
		// Foreign keys are triggers, which a replica does not fire (the
		// tests' account is a superuser).
		ForeignKeysOff: [2]string{"SET session_replication_role = replica", "SET session_replication_role = DEFAULT"},
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

// prisma is what Prisma Migrate creates for the seed's models on
// PostgreSQL. Types are the connector's documented mapping ("Mapping between
// Prisma ORM scalar types and PostgreSQL database column types",
// https://www.prisma.io/docs/orm/overview/databases/postgresql); the DDL has
// the shape of Prisma's migration files: NOT NULL columns, a named primary
// key, the unique index that @unique on the id adds, the @@index on
// user_id, and the relations as foreign keys with ON DELETE CASCADE.
var prisma = sqlauthtest.Prisma{
	Types: map[string]string{
		"String": "TEXT", "Boolean": "BOOLEAN", "Int": "INTEGER", "BigInt": "BIGINT",
		"Float": "DOUBLE PRECISION", "Decimal": "DECIMAL(65,30)", "DateTime": "TIMESTAMP(3)",
		"Json": "JSONB", "Bytes": "BYTEA",
	},
	Now: "CURRENT_TIMESTAMP",
	Tables: func(user []string, foreignKeys bool) []string {
		stmts := []string{
			`CREATE TABLE "auth_user" (` + "\n" +
				"\t\"id\" TEXT NOT NULL,\n" + sqlauthtest.ColumnLines(user) +
				"\tCONSTRAINT \"auth_user_pkey\" PRIMARY KEY (\"id\")\n)",
			`CREATE TABLE "auth_session" (` + "\n" +
				"\t\"id\" TEXT NOT NULL,\n" +
				"\t\"user_id\" TEXT NOT NULL,\n" +
				"\t\"active_expires\" BIGINT NOT NULL,\n" +
				"\t\"idle_expires\" BIGINT NOT NULL,\n" +
				"\tCONSTRAINT \"auth_session_pkey\" PRIMARY KEY (\"id\")\n)",
			`CREATE TABLE "auth_key" (` + "\n" +
				"\t\"id\" TEXT NOT NULL,\n" +
				"\t\"hashed_password\" TEXT,\n" +
				"\t\"user_id\" TEXT NOT NULL,\n" +
				"\t\"primary_key\" BOOLEAN NOT NULL,\n" +
				"\t\"expires\" BIGINT,\n" +
				"\tCONSTRAINT \"auth_key_pkey\" PRIMARY KEY (\"id\")\n)",
			`CREATE UNIQUE INDEX "auth_user_id_key" ON "auth_user"("id")`,
			`CREATE UNIQUE INDEX "auth_session_id_key" ON "auth_session"("id")`,
			`CREATE INDEX "auth_session_user_id_idx" ON "auth_session"("user_id")`,
			`CREATE UNIQUE INDEX "auth_key_id_key" ON "auth_key"("id")`,
			`CREATE INDEX "auth_key_user_id_idx" ON "auth_key"("user_id")`,
		}
		if foreignKeys {
			stmts = append(stmts,
				`ALTER TABLE "auth_session" ADD CONSTRAINT "auth_session_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "auth_user"("id") ON DELETE CASCADE ON UPDATE CASCADE`,
				`ALTER TABLE "auth_key" ADD CONSTRAINT "auth_key_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "auth_user"("id") ON DELETE CASCADE ON UPDATE CASCADE`)
		}
		return stmts
	},
}
