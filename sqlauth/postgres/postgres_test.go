package postgres_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/sqlauth"
	"github.com/luciago/mongoauth/sqlauth/postgres"
	"github.com/luciago/mongoauth/sqlauth/postgres/postgrestest"
	"github.com/luciago/mongoauth/sqlauth/sqlauthtest"
)

// database is the harness's description of the PostgreSQL server in
// POSTGRES_DSN (package postgrestest, shared with the interop tests).
func database(t testing.TB) sqlauthtest.Database { return postgrestest.Database(t) }

func TestConformance(t *testing.T) { sqlauthtest.Conformance(t, database(t)) }

func TestAdapter(t *testing.T) { sqlauthtest.Run(t, database(t)) }

func TestThrottleStore(t *testing.T) { sqlauthtest.ThrottleRun(t, database(t)) }

func BenchmarkAdapter(b *testing.B) { sqlauthtest.Benchmark(b, database(b)) }

func TestDocumentedDDL(t *testing.T) { sqlauthtest.DocumentsDDL(t, "postgres.go", postgres.Dialect{}) }

func TestPrismaAdapter(t *testing.T) { sqlauthtest.PrismaRun(t, database(t)) }

func TestPrismaConformance(t *testing.T) { sqlauthtest.PrismaConformance(t, database(t)) }

func BenchmarkPrisma(b *testing.B) { sqlauthtest.PrismaBenchmark(b, database(b)) }

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
