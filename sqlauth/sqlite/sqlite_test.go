package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/sqlauth/sqlauthtest"
	"github.com/luciago/mongoauth/sqlauth/sqlite"
)

// database gives every test its own database file in a temporary
// directory, so SQLite tests need no setup and always run.
var database = sqlauthtest.Database{
	NewStore: func(t *testing.T) sqlauthtest.Store {
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
