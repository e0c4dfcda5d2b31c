package interop_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/luciago/mongoauth/sqlauth"
	"github.com/luciago/mongoauth/sqlauth/postgres/postgrestest"
	"github.com/luciago/mongoauth/sqlauth/sqlauthtest"
)

// TestLuciaPostgreSQL shares PostgreSQL tables between lucia-auth 1.8.0 on
// @lucia-auth/adapter-postgresql 1.0.1 (pg) and sqlauth/postgres. The
// tables are those Prisma Migrate creates for the seed's models, with the
// user attributes username and email in columns of auth_user, as Lucia's
// SQL adapters expect.
func TestLuciaPostgreSQL(t *testing.T) {
	t.Parallel()
	requireNode(t)
	d := postgrestest.Database(t) // skips without POSTGRES_DSN
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	adapter, store := d.OpenPrisma(t, []sqlauthtest.Field{
		{Name: "username", Type: "String", Required: true},
		{Name: "email", Type: "String"},
	}, sqlauth.Options{})
	js := startLucia(t, "postgresql", "LUCIA_URI="+os.Getenv("POSTGRES_DSN"), "LUCIA_PG_SCHEMA="+store.Name)

	runScenarios(t, ctx, newSides(t, js, adapter))
}
