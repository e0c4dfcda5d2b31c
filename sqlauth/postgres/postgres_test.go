package postgres_test

import (
	"testing"

	"github.com/luciago/mongoauth/sqlauth/postgres"
	"github.com/luciago/mongoauth/sqlauth/postgres/postgrestest"
	"github.com/luciago/mongoauth/sqlauth/sqlauthtest"
)

// database is the harness's description of the PostgreSQL server in
// POSTGRES_DSN (package postgrestest, shared with the interop tests).
func database(t testing.TB) sqlauthtest.Database { return postgrestest.Database(t) }

func TestConformance(t *testing.T) { sqlauthtest.Conformance(t, database(t)) }

func TestAdapter(t *testing.T) { sqlauthtest.Run(t, database(t)) }

func BenchmarkAdapter(b *testing.B) { sqlauthtest.Benchmark(b, database(b)) }

func TestDocumentedDDL(t *testing.T) { sqlauthtest.DocumentsDDL(t, "postgres.go", postgres.Dialect{}) }

func TestPrismaAdapter(t *testing.T) { sqlauthtest.PrismaRun(t, database(t)) }

func TestPrismaConformance(t *testing.T) { sqlauthtest.PrismaConformance(t, database(t)) }

func BenchmarkPrisma(b *testing.B) { sqlauthtest.PrismaBenchmark(b, database(b)) }
