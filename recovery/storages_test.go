package recovery_test

import (
	"database/sql"
	"os"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/internal/oauthtest"
	"github.com/luciago/mongoauth/mongotest"
	"github.com/luciago/mongoauth/sqlauth"
	"github.com/luciago/mongoauth/sqlauth/mysql"
	"github.com/luciago/mongoauth/sqlauth/sqlauthtest"
)

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m)) }

// storages are the adapters the flows are tested on: MongoDB (FerretDB
// here), SQLite, PostgreSQL (POSTGRES_DSN) and MySQL or MariaDB
// (MYSQL_DSN); the last two skip without their server.
func storages() []oauthtest.Storage {
	return append(oauthtest.Storages(), oauthtest.Storage{Name: "MySQL", Open: openMySQL})
}

// openMySQL returns an adapter over a fresh database on MYSQL_DSN.
func openMySQL(t testing.TB) auth.Adapter {
	admin, dsn := sqlauthtest.Server(t, "MYSQL_DSN", "mysql", "root@tcp(127.0.0.1:3306)/test")
	name := sqlauthtest.Scratch(t, admin, "CREATE DATABASE %s", "DROP DATABASE %s")
	cfg, err := gomysql.ParseDSN(dsn)
	require.NoError(t, err)
	cfg.DBName = name
	connector, err := gomysql.NewConnector(cfg)
	require.NoError(t, err)
	db := sql.OpenDB(connector)
	t.Cleanup(func() { _ = db.Close() })
	a, err := mysql.New(sqlauthtest.Context(t), db, sqlauth.Options{})
	require.NoError(t, err)
	require.NoError(t, a.CreateTables(sqlauthtest.Context(t)))
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
