package mysql_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/sqlauth/mysql"
	"github.com/luciago/mongoauth/sqlauth/sqlauthtest"
)

// database returns the harness's description of the MySQL or MariaDB
// server in MYSQL_DSN, or skips t when it is not set. The account needs the
// CREATE and DROP privileges, and PROCESS for LockWaiters.
func database(t testing.TB) sqlauthtest.Database {
	admin, dsn := sqlauthtest.Server(t, "MYSQL_DSN", "mysql", "root@tcp(127.0.0.1:3306)/test")
	return sqlauthtest.Database{
		NewStore: func(t testing.TB) sqlauthtest.Store { return newStore(t, admin, dsn) },
		New:      mysql.New,
		Dialect:  mysql.Dialect{},
	}
}

// newStore creates a fresh database and a pool that uses it by default.
func newStore(t testing.TB, admin *sql.DB, dsn string) sqlauthtest.Store {
	name := sqlauthtest.Scratch(t, admin, "CREATE DATABASE %s", "DROP DATABASE %s")
	cfg, err := gomysql.ParseDSN(dsn)
	require.NoError(t, err)
	cfg.DBName = name
	connector, err := gomysql.NewConnector(cfg)
	require.NoError(t, err)
	db := sql.OpenDB(connector)
	t.Cleanup(func() { _ = db.Close() })
	return sqlauthtest.Store{
		DB:          db,
		Name:        name,
		LockWaiters: func(ctx context.Context) (int, error) { return lockWaiters(ctx, admin, name) },
	}
}

// innodbTrx spaces out the reads of information_schema.INNODB_TRX. InnoDB
// fills that table from a cache that it refreshes only when nobody has read
// it for 100 ms, so tests polling it faster would never see a new waiter.
var innodbTrx struct {
	sync.Mutex
	lastRead time.Time
}

// lockWaiters counts the transactions on database name that wait for a lock.
func lockWaiters(ctx context.Context, admin *sql.DB, name string) (int, error) {
	innodbTrx.Lock()
	defer innodbTrx.Unlock()
	time.Sleep(time.Until(innodbTrx.lastRead.Add(150 * time.Millisecond)))
	defer func() { innodbTrx.lastRead = time.Now() }()
	var n int
	err := admin.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.INNODB_TRX t
		JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
		WHERE t.trx_state = 'LOCK WAIT' AND p.DB = ?`, name).Scan(&n)
	return n, err
}

func TestConformance(t *testing.T) { sqlauthtest.Conformance(t, database(t)) }

func TestAdapter(t *testing.T) { sqlauthtest.Run(t, database(t)) }

func BenchmarkAdapter(b *testing.B) { sqlauthtest.Benchmark(b, database(b)) }

func TestDocumentedDDL(t *testing.T) { sqlauthtest.DocumentsDDL(t, "mysql.go", mysql.Dialect{}) }
