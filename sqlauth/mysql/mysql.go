// Package mysql runs the sqlauth adapter on MySQL (5.7 and later), MariaDB
// (10.2 and later) and PlanetScale, through github.com/go-sql-driver/mysql,
// which importing this package registers under the name "mysql":
//
//	db, err := sql.Open("mysql", "app:secret@tcp(localhost:3306)/app")
//	...
//	adapter, err := mysql.New(ctx, db, sqlauth.Options{})
//	...
//	err = adapter.CreateTables(ctx) // idempotent; or run the DDL below in a migration
//
// On PlanetScale, or any MySQL schema without foreign keys, set
// sqlauth.Options.NoForeignKeys: the adapter then checks users and cascades
// deletes itself, in transactions (see package sqlauth).
//
// # Tables
//
// Adapter.CreateTables runs, for the default names (sqlauth.CreateTablesSQL
// returns the statements for any options):
//
//	CREATE TABLE IF NOT EXISTS `auth_user` (
//		id VARBINARY(2048) NOT NULL PRIMARY KEY,
//		attributes JSON NOT NULL
//	) ENGINE=InnoDB ROW_FORMAT=DYNAMIC DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
//	CREATE TABLE IF NOT EXISTS `auth_session` (
//		id VARBINARY(2048) NOT NULL PRIMARY KEY,
//		user_id VARBINARY(2048) NOT NULL,
//		active_expires BIGINT NOT NULL,
//		idle_expires BIGINT NOT NULL,
//		issued_at BIGINT,
//		attributes JSON,
//		INDEX `auth_session_user_id_idx` (user_id),
//		FOREIGN KEY (user_id) REFERENCES `auth_user` (id) ON DELETE CASCADE
//	) ENGINE=InnoDB ROW_FORMAT=DYNAMIC DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
//	CREATE TABLE IF NOT EXISTS `auth_key` (
//		id VARBINARY(2048) NOT NULL PRIMARY KEY,
//		user_id VARBINARY(2048) NOT NULL,
//		hashed_password TEXT,
//		primary_key BOOLEAN NOT NULL,
//		expires BIGINT,
//		INDEX `auth_key_user_id_idx` (user_id),
//		FOREIGN KEY (user_id) REFERENCES `auth_user` (id) ON DELETE CASCADE
//	) ENGINE=InnoDB ROW_FORMAT=DYNAMIC DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
//
// and, with sqlauth.Options.ThrottleTable set to "auth_throttle", the
// table of Adapter.ThrottleStore's records:
//
//	CREATE TABLE IF NOT EXISTS `auth_throttle` (
//		id VARBINARY(128) NOT NULL PRIMARY KEY,
//		until_ms BIGINT NOT NULL,
//		INDEX `auth_throttle_until_idx` (until_ms)
//	) ENGINE=InnoDB ROW_FORMAT=DYNAMIC DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
//
// With sqlauth.Options.NoForeignKeys the FOREIGN KEY clauses are left out;
// the indexes stay. Qualified names ("app.auth_user") put the tables in
// that database, which must exist.
//
// Ids are VARBINARY(2048), not VARCHAR: MySQL's text collations compare
// "Alice" equal to "alice" (the _ci ones) or "alice" equal to "alice "
// (every PAD SPACE collation, utf8mb4_bin included), and a key or session
// lookup must never match another id. Bytes compare exactly; 2048 bytes is
// auth.MaxIDLength, within InnoDB's 3072-byte limit on an index key in the
// DYNAMIC row format (the default since MySQL 5.7.9 and MariaDB 10.2.2).
// Tables made by earlier versions of this package have VARBINARY(255) ids:
// they keep working for ids up to 255 bytes, and refuse longer ones with
// error 1406, Data too long (in strict mode, the default; without it MySQL
// would cut the id short). To take longer ids, widen every id and user_id
// column; MySQL changes no column a foreign key uses, so drop the foreign
// keys first (SHOW CREATE TABLE names them) and add them back:
//
//	ALTER TABLE auth_session DROP FOREIGN KEY auth_session_ibfk_1;
//	ALTER TABLE auth_key DROP FOREIGN KEY auth_key_ibfk_1;
//	ALTER TABLE auth_user MODIFY id VARBINARY(2048) NOT NULL;
//	ALTER TABLE auth_session MODIFY id VARBINARY(2048) NOT NULL, MODIFY user_id VARBINARY(2048) NOT NULL,
//		ADD FOREIGN KEY (user_id) REFERENCES auth_user (id) ON DELETE CASCADE;
//	ALTER TABLE auth_key MODIFY id VARBINARY(2048) NOT NULL, MODIFY user_id VARBINARY(2048) NOT NULL,
//		ADD FOREIGN KEY (user_id) REFERENCES auth_user (id) ON DELETE CASCADE;
//
// The indexes are declared inside CREATE TABLE because
// MySQL has no CREATE INDEX IF NOT EXISTS. MariaDB stores JSON as LONGTEXT
// with a JSON_VALID check, which reads the same.
//
// # Attribute columns
//
// A user table with a column per attribute (sqlauth.AttributesInColumns,
// as Prisma makes it: VARCHAR(191), INT, BIGINT, DOUBLE, DECIMAL(65,30),
// TINYINT(1), DATETIME(3), JSON, LONGBLOB) maps column types so: char,
// varchar, the text types, enum and set to text; TINYINT(1), which BOOLEAN
// stands for, to booleans; the other integer types to integers of their
// range; float and double to floats; decimal to decimals; datetime,
// timestamp and date to times in UTC (keep the driver's loc at its default, UTC); binary,
// varbinary and the blob types to bytes; JSON, and MariaDB's LONGTEXT with
// a json_valid check, to JSON. Other types are refused by CheckSchema.
//
// # Behaviour
//
// Transactions use the server's isolation level (REPEATABLE READ by
// default): the adapter's reads inside transactions are locking reads
// (LOCK IN SHARE MODE, FOR UPDATE) and its deletes lock too, and those see
// the latest committed rows at any level. Errors are classified by MySQL
// error number: 1062 and 1586 duplicate entry (a taken id), 1452 and 1216
// no referenced row (an unknown user), 1213 deadlock (retried).
//
// A duplicate entry is a taken id when its key is PRIMARY. Any other unique
// key, such as one an application adds on a user attribute, gives an
// *auth.DuplicateValueError naming the key. MySQL reports the key's name
// only in the message, so that is read (see duplicateKey). Neither MySQL
// nor MariaDB can put a unique index on a JSON expression directly in all
// versions; a generated column can carry it on both:
//
//	ALTER TABLE auth_user
//		ADD unique_email VARCHAR(255) AS (JSON_UNQUOTE(JSON_EXTRACT(attributes, '$.email'))) VIRTUAL,
//		ADD UNIQUE KEY auth_user_email_key (unique_email)
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/sqlauth"
)

// New returns a sqlauth adapter over db, a MySQL or MariaDB database opened
// with the "mysql" driver. See sqlauth.New.
func New(ctx context.Context, db *sql.DB, opts sqlauth.Options) (*sqlauth.Adapter, error) {
	return sqlauth.New(ctx, db, Dialect{}, opts)
}

// Dialect is MySQL's and MariaDB's sqlauth.Dialect.
type Dialect struct{}

var _ sqlauth.Dialect = Dialect{}

// syntax: MySQL 8 also accepts FOR SHARE, MariaDB only LOCK IN SHARE MODE.
// Transactions use the server's default isolation.
var syntax = sqlauth.Syntax{
	Name:            "mysql",
	IdentifierQuote: "`",
	LockForShare:    " LOCK IN SHARE MODE",
	LockForUpdate:   " FOR UPDATE",
	// utf8mb4_bin still ignores trailing spaces, and tables made by other
	// tools may fold case: compare password hashes as binary strings.
	ExactText:         "CAST(? AS BINARY)",
	SessionAttributes: "attributes JSON",
	IssuedAt:          "issued_at BIGINT",
	Greatest:          "GREATEST",
	OnDuplicateKey:    true,
}

// Syntax implements sqlauth.Dialect.
func (Dialect) Syntax() sqlauth.Syntax { return syntax }

// idType holds every id auth.CheckID accepts, compared byte for byte.
var idType = "VARBINARY(" + strconv.Itoa(auth.MaxIDLength) + ")"

const tableOptions = " ENGINE=InnoDB ROW_FORMAT=DYNAMIC DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

// CreateTables implements sqlauth.Dialect.
func (Dialect) CreateTables(s sqlauth.Schema) []string {
	users := s.Users.Quoted(syntax)
	owned := func(t sqlauth.Table) string {
		clauses := "\tINDEX " + syntax.Quote(t.Name+"_user_id_idx") + " (user_id)"
		if s.ForeignKeys {
			clauses += ",\n\tFOREIGN KEY (user_id) REFERENCES " + users + " (id) ON DELETE CASCADE"
		}
		return clauses + "\n)" + tableOptions
	}
	stmts := []string{
		"CREATE TABLE IF NOT EXISTS " + users + " (\n" +
			"\tid " + idType + " NOT NULL PRIMARY KEY" + s.JSONColumn(",\n\tattributes JSON NOT NULL") + "\n)" + tableOptions,
		"CREATE TABLE IF NOT EXISTS " + s.Sessions.Quoted(syntax) + " (\n" +
			"\tid " + idType + " NOT NULL PRIMARY KEY,\n" +
			"\tuser_id " + idType + " NOT NULL,\n" +
			"\tactive_expires BIGINT NOT NULL,\n" +
			"\tidle_expires BIGINT NOT NULL,\n" +
			"\t" + syntax.IssuedAt + ",\n" +
			s.JSONColumn("\t"+syntax.SessionAttributes+",\n") +
			owned(s.Sessions),
		"CREATE TABLE IF NOT EXISTS " + s.Keys.Quoted(syntax) + " (\n" +
			"\tid " + idType + " NOT NULL PRIMARY KEY,\n" +
			"\tuser_id " + idType + " NOT NULL,\n" +
			"\thashed_password TEXT,\n" +
			"\tprimary_key BOOLEAN NOT NULL,\n" +
			"\texpires BIGINT,\n" +
			owned(s.Keys),
	}
	if s.Throttle.Name != "" {
		stmts = append(stmts, "CREATE TABLE IF NOT EXISTS "+s.Throttle.Quoted(syntax)+" (\n"+
			"\tid VARBINARY(128) NOT NULL PRIMARY KEY,\n"+
			"\tuntil_ms BIGINT NOT NULL,\n"+
			"\tINDEX "+syntax.Quote(s.Throttle.Name+"_until_idx")+" (until_ms)\n)"+tableOptions)
	}
	return stmts
}

// HasForeignKeys implements sqlauth.Dialect from information_schema. An
// unqualified table is looked for in the connection's current database.
func (Dialect) HasForeignKeys(ctx context.Context, db *sql.DB, s sqlauth.Schema) (bool, error) {
	const query = `SELECT COUNT(DISTINCT k.TABLE_NAME)
		FROM information_schema.KEY_COLUMN_USAGE k
		JOIN information_schema.REFERENTIAL_CONSTRAINTS r
			ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
		WHERE r.DELETE_RULE = 'CASCADE'
		AND k.COLUMN_NAME = 'user_id' AND k.REFERENCED_COLUMN_NAME = 'id'
		AND k.REFERENCED_TABLE_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND k.REFERENCED_TABLE_NAME = ?
		AND ((k.TABLE_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND k.TABLE_NAME = ?)
			OR (k.TABLE_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND k.TABLE_NAME = ?))`
	var n int
	err := db.QueryRowContext(ctx, query,
		s.Users.Schema, s.Users.Name, s.Sessions.Schema, s.Sessions.Name, s.Keys.Schema, s.Keys.Name).Scan(&n)
	return n == 2, err
}

// Classify implements sqlauth.Dialect by MySQL error number.
func (Dialect) Classify(err error) sqlauth.ErrorKind {
	var myErr *gomysql.MySQLError
	if !errors.As(err, &myErr) {
		return sqlauth.OtherError
	}
	switch myErr.Number {
	case 1062, 1586: // ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME
		if key := duplicateKey(myErr.Message); key != "" && key != "PRIMARY" && !strings.HasSuffix(key, ".PRIMARY") {
			return sqlauth.DuplicateValue
		}
		return sqlauth.UniqueViolation
	case 1452, 1216: // ER_NO_REFERENCED_ROW_2, ER_NO_REFERENCED_ROW
		return sqlauth.ForeignKeyViolation
	case 1213: // ER_LOCK_DEADLOCK: the transaction was rolled back
		return sqlauth.Retryable
	}
	return sqlauth.OtherError
}

// UniqueIndex implements sqlauth.Dialect: the key named in the message.
func (Dialect) UniqueIndex(err error) (name string, columns []string) {
	var myErr *gomysql.MySQLError
	if !errors.As(err, &myErr) {
		return "", nil
	}
	return duplicateKey(myErr.Message), nil
}

// duplicateKey returns the key (index) name of a duplicate-entry error:
// "PRIMARY" for the primary key ("auth_user.PRIMARY" from MySQL 8.0.19).
// MySQL's error packet carries only a number, a SQLSTATE and the message,
// so the message is where the key is: "Duplicate entry '<value>' for key
// '<key>'". The key is the last quoted part, also in the translated
// messages (lc_messages); the value comes before it and may itself contain
// quotes, hence the search from the end. It returns "" when the message has
// no such part, and the error then counts as a taken id, as before keys
// were told apart.
func duplicateKey(message string) string {
	end := strings.LastIndexByte(message, '\'')
	if end < 0 {
		return ""
	}
	start := strings.LastIndexByte(message[:end], '\'')
	if start < 0 {
		return ""
	}
	return message[start+1 : end]
}
