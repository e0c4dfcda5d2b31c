package recovery_test

import (
	"os"
	"testing"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/internal/oauthtest"
	"github.com/luciago/mongoauth/mongotest"
	"github.com/luciago/mongoauth/sqlauth"
	"github.com/luciago/mongoauth/sqlauth/mysql/mysqltest"
)

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m)) }

// storages are the adapters the flows are tested on: MongoDB (FerretDB
// here), SQLite, PostgreSQL (POSTGRES_DSN) and MySQL or MariaDB
// (MYSQL_DSN); the last two skip without their server.
func storages() []oauthtest.Storage {
	return append(oauthtest.Storages(), oauthtest.Storage{Name: "MySQL", Open: openMySQL})
}

// openMySQL returns an adapter over a fresh database on MYSQL_DSN, or
// skips t without it.
func openMySQL(t testing.TB) auth.Adapter {
	a, _ := mysqltest.Database(t).Open(t, sqlauth.Options{})
	return a
}

// openSQLite returns an adapter over a fresh SQLite file, for tests that
// need one storage.
func openSQLite(t testing.TB) auth.Adapter {
	for _, s := range oauthtest.Storages() {
		if s.Name == "SQLite" {
			return s.Open(t)
		}
	}
	t.Fatal("no SQLite storage")
	return nil
}
