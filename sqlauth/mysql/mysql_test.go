package mysql_test

import (
	"fmt"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"

	"github.com/luciago/mongoauth/sqlauth"
	"github.com/luciago/mongoauth/sqlauth/mysql"
	"github.com/luciago/mongoauth/sqlauth/mysql/mysqltest"
	"github.com/luciago/mongoauth/sqlauth/sqlauthtest"
)

func TestConformance(t *testing.T) { sqlauthtest.Conformance(t, mysqltest.Database(t)) }

func TestAdapter(t *testing.T) { sqlauthtest.Run(t, mysqltest.Database(t)) }

func TestThrottleStore(t *testing.T) { sqlauthtest.ThrottleRun(t, mysqltest.Database(t)) }

func BenchmarkAdapter(b *testing.B) { sqlauthtest.Benchmark(b, mysqltest.Database(b)) }

func TestDocumentedDDL(t *testing.T) { sqlauthtest.DocumentsDDL(t, "mysql.go", mysql.Dialect{}) }

func TestPrismaAdapter(t *testing.T) { sqlauthtest.PrismaRun(t, mysqltest.Database(t)) }

func TestPrismaConformance(t *testing.T) { sqlauthtest.PrismaConformance(t, mysqltest.Database(t)) }

func BenchmarkPrisma(b *testing.B) { sqlauthtest.PrismaBenchmark(b, mysqltest.Database(b)) }

// TestDuplicateEntryKeys checks that the key of a duplicate-entry error is
// read from the end of the message, in MariaDB's and MySQL 8's spelling,
// with quotes in the value and a translated message; and that a message
// without a key counts as a taken id.
func TestDuplicateEntryKeys(t *testing.T) {
	for _, tc := range []struct {
		message string
		kind    sqlauth.ErrorKind
		key     string
	}{
		{"Duplicate entry 'ann' for key 'PRIMARY'", sqlauth.UniqueViolation, "PRIMARY"},
		{"Duplicate entry 'ann' for key 'auth_user.PRIMARY'", sqlauth.UniqueViolation, "auth_user.PRIMARY"},
		{"Duplicate entry 'a@x' for key 'auth_user_email_key'", sqlauth.DuplicateValue, "auth_user_email_key"},
		{"Duplicate entry 'a@x' for key 'auth_user.auth_user_email_key'", sqlauth.DuplicateValue, "auth_user.auth_user_email_key"},
		{"Duplicate entry 'x' for key 'PRIMARY' for key 'email'", sqlauth.DuplicateValue, "email"},
		{"Duplicate entry 'it's' for key 'PRIMARY'", sqlauth.UniqueViolation, "PRIMARY"},
		{"Doppelter Eintrag 'a@x' für Schlüssel 'auth_user_email_key'", sqlauth.DuplicateValue, "auth_user_email_key"},
		{"'a@x' は索引 'auth_user_email_key' で重複しています。", sqlauth.DuplicateValue, "auth_user_email_key"},
		{"Duplicate entry", sqlauth.UniqueViolation, ""},
	} {
		err := fmt.Errorf("wrapped: %w", &gomysql.MySQLError{Number: 1062, Message: tc.message})
		assert.Equal(t, tc.kind, mysql.Dialect{}.Classify(err), tc.message)
		key, columns := mysql.Dialect{}.UniqueIndex(err)
		assert.Equal(t, tc.key, key, tc.message)
		assert.Nil(t, columns)
	}
}
