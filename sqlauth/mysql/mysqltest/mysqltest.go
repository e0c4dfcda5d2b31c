// Package mysqltest describes the MySQL or MariaDB server of the tests to
// the sqlauthtest harness: fresh databases on MYSQL_DSN, and the tables
// Prisma Migrate creates for the seed's models. The dialect's own tests and
// other packages' tests on every storage (package recovery) use it.
package mysqltest

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

// Database returns the harness's description of the MySQL or MariaDB
// server in MYSQL_DSN, or skips t when it is not set. The account needs the
// CREATE and DROP privileges, and PROCESS for LockWaiters.
func Database(t testing.TB) sqlauthtest.Database {
	admin, dsn := sqlauthtest.Server(t, "MYSQL_DSN", "mysql", "root@tcp(127.0.0.1:3306)/test")
	return sqlauthtest.Database{
		NewStore: func(t testing.TB) sqlauthtest.Store { return newStore(t, admin, dsn) },
		New:      mysql.New,
		Dialect:  mysql.Dialect{},
		Prisma:   prisma,

		UnsupportedType: "TIME",
		// A generated column carries the index: MariaDB has no index on
		// an expression, and MySQL's need a cast.
		UniqueAttribute: []string{"ALTER TABLE auth_user" +
			" ADD unique_%[1]s VARCHAR(255) AS (JSON_UNQUOTE(JSON_EXTRACT(attributes, '$.%[1]s'))) VIRTUAL," +
			" ADD UNIQUE KEY auth_user_%[1]s_key (unique_%[1]s)"},
		ForeignKeysOff: [2]string{"SET foreign_key_checks = 0", "SET foreign_key_checks = 1"},
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

// prisma is what Prisma Migrate creates for the seed's models on MySQL and
// MariaDB. Types are the connector's documented mapping ("Type mapping
// between MySQL and Prisma schema",
// https://www.prisma.io/docs/orm/overview/databases/mysql): String is
// VARCHAR(191), so ids hold 191 characters, and Boolean is TINYINT(1),
// which Prisma's migrations spell BOOLEAN. The DDL has the shape of
// Prisma's migration files, with its utf8mb4_unicode_ci collation (ids
// that differ only in case are equal there, as for Lucia on this schema).
var prisma = sqlauthtest.Prisma{
	Types: map[string]string{
		"String": "VARCHAR(191)", "Boolean": "BOOLEAN", "Int": "INTEGER", "BigInt": "BIGINT",
		"Float": "DOUBLE", "Decimal": "DECIMAL(65,30)", "DateTime": "DATETIME(3)",
		"Json": "JSON", "Bytes": "LONGBLOB",
	},
	Now:     "CURRENT_TIMESTAMP(3)",
	IDChars: 191,
	Tables: func(user []string, foreignKeys bool) []string {
		const options = " DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
		stmts := []string{
			"CREATE TABLE `auth_user` (\n" +
				"\t`id` VARCHAR(191) NOT NULL,\n" + sqlauthtest.ColumnLines(user) +
				"\tUNIQUE INDEX `auth_user_id_key`(`id`),\n" +
				"\tPRIMARY KEY (`id`)\n)" + options,
			"CREATE TABLE `auth_session` (\n" +
				"\t`id` VARCHAR(191) NOT NULL,\n" +
				"\t`user_id` VARCHAR(191) NOT NULL,\n" +
				"\t`active_expires` BIGINT NOT NULL,\n" +
				"\t`idle_expires` BIGINT NOT NULL,\n" +
				"\tUNIQUE INDEX `auth_session_id_key`(`id`),\n" +
				"\tINDEX `auth_session_user_id_idx`(`user_id`),\n" +
				"\tPRIMARY KEY (`id`)\n)" + options,
			"CREATE TABLE `auth_key` (\n" +
				"\t`id` VARCHAR(191) NOT NULL,\n" +
				"\t`hashed_password` VARCHAR(191) NULL,\n" +
				"\t`user_id` VARCHAR(191) NOT NULL,\n" +
				"\t`primary_key` BOOLEAN NOT NULL,\n" +
				"\t`expires` BIGINT NULL,\n" +
				"\tUNIQUE INDEX `auth_key_id_key`(`id`),\n" +
				"\tINDEX `auth_key_user_id_idx`(`user_id`),\n" +
				"\tPRIMARY KEY (`id`)\n)" + options,
		}
		if foreignKeys {
			stmts = append(stmts,
				"ALTER TABLE `auth_session` ADD CONSTRAINT `auth_session_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `auth_user`(`id`) ON DELETE CASCADE ON UPDATE CASCADE",
				"ALTER TABLE `auth_key` ADD CONSTRAINT `auth_key_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `auth_user`(`id`) ON DELETE CASCADE ON UPDATE CASCADE")
		}
		return stmts
	},
}
