// Package sqlauth stores Lucia-style users, sessions and keys in a
// relational database through database/sql.
//
// It implements the adapter contract of package auth ([auth.Adapter] and
// [auth.SessionAndUserGetter]) over Lucia's three tables, auth_user,
// auth_session and auth_key. This package holds the logic every database
// shares and imports no driver; one small package per database adds the
// driver's error codes and its SQL, so an application links only the driver
// it uses:
//
//	sqlauth/postgres  PostgreSQL, through github.com/jackc/pgx/v5/stdlib
//	sqlauth/mysql     MySQL, MariaDB and PlanetScale, through github.com/go-sql-driver/mysql
//	sqlauth/sqlite    SQLite, through the pure-Go modernc.org/sqlite
//
// Each has a New(ctx, db, opts) returning an *Adapter. Application code
// written against auth.Adapter stays the same whichever database, or the
// MongoDB adapter, is behind it:
//
//	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))     // import "github.com/luciago/mongoauth/sqlauth/postgres"
//	adapter, err := postgres.New(ctx, db, sqlauth.Options{})
//	if err := adapter.CreateTables(ctx); err != nil { ... } // idempotent; once, at start
//	a, err := auth.New[Profile](adapter, auth.Config{})       // as with MongoDB
//
// # Databases
//
//   - PostgreSQL (tested: 15): sqlauth/postgres, driver pgx ("pgx"); foreign
//     keys or NoForeignKeys. Tested against POSTGRES_DSN, a fresh schema per
//     test; skipped when unset. lib/pq is not supported (errors are
//     recognised from pgx).
//   - MySQL 5.7+, MariaDB 10.2+ (tested: MariaDB 10.11): sqlauth/mysql,
//     driver go-sql-driver/mysql ("mysql"); foreign keys or NoForeignKeys.
//     Tested against MYSQL_DSN, a fresh database per test; skipped when
//     unset.
//   - PlanetScale (Vitess): sqlauth/mysql, the same driver, NoForeignKeys.
//     Not tested (the same code as MySQL with NoForeignKeys).
//   - SQLite 3.37+: sqlauth/sqlite, modernc.org/sqlite, pure Go ("sqlite");
//     foreign keys or NoForeignKeys. Always tested, a temporary file per
//     test.
//
// Every adapter runs the conformance suite auth/adaptertest unchanged, in
// each of its modes, and the core's tests run on the in-memory test adapter,
// MongoDB and SQLite. Through the suite's optional hook
// adaptertest.UniqueAttributes, each dialect's tests add a unique index on a
// user attribute and prove that a clash there is [auth.ErrDuplicateValue],
// never a taken id. Not tested against MySQL proper, PlanetScale, or
// PostgreSQL other than 15.
//
// # Tables
//
// auth_user (id, attributes), auth_session (id, user_id, active_expires,
// idle_expires, issued_at, attributes) and auth_key (id, user_id,
// hashed_password, primary_key, expires), names configurable ([Options]),
// with user_id
// indexes and FOREIGN KEY (user_id) REFERENCES auth_user (id) ON DELETE
// CASCADE. [Adapter.CreateTables] is idempotent and then runs
// [Adapter.CheckSchema], which reports missing columns or foreign keys with
// a [*SchemaError]; [CreateTablesSQL] returns the DDL for migration tools.
// Each dialect package's documentation shows its DDL (a test checks that it
// matches what runs). On MySQL, ids are VARBINARY(2048), because MySQL's
// text collations treat "Alice"/"alice" and "alice"/"alice " as equal
// (tables made before ids grew to 2048 bytes have VARBINARY(255); package
// sqlauth/mysql shows how to widen them).
//
// With Options.ThrottleTable, CreateTables also makes auth_throttle (id,
// until_ms), the records of [Adapter.ThrottleStore]: a login throttle
// shared by every instance of the application, one upsert per attempt
// ([ThrottleStore]).
//
// # Integrity
//
// By default the tables have foreign keys user_id → auth_user(id) with ON
// DELETE CASCADE (CreateTables declares them), and the database does the
// work: inserting a session or key for a missing user fails with a
// foreign-key violation, reported as auth.ErrInvalidUserID, and deleting a
// user deletes its sessions and keys in the same statement.
//
// With Options.NoForeignKeys (for PlanetScale, or any schema without
// foreign keys) the adapter does the same itself, in transactions:
//
//   - SetSession and SetKey run SELECT id FROM auth_user WHERE id = ? FOR
//     SHARE (LOCK IN SHARE MODE on MySQL), fail with auth.ErrInvalidUserID
//     when no row comes back, and insert while still holding that lock.
//   - DeleteUser deletes the user row first, then the user's sessions and
//     keys, and commits all three together.
//
// The shared lock is what closes the race between a session insert and its
// user's deletion (the write skew that a check-then-insert without a lock
// would allow). DeleteUser's DELETE needs an exclusive lock on the same
// row, so the two transactions cannot overlap on it: either the insert locks
// the user first, and the deletion waits until the insert has committed,
// after which its DELETE of sessions, a statement that sees the latest
// committed rows, removes the new session; or the deletion locks first, and
// the insert's locking read waits until the deletion has committed and then
// finds no user. Both orders end without a session whose user is gone. For
// the deletion's second statement to see rows committed while it waited,
// PostgreSQL transactions run at READ COMMITTED (requested explicitly, in
// case the server's default is stricter; the tests fail under REPEATABLE
// READ); on MySQL, DELETE is a locking read that sees the latest committed
// rows at any isolation level. On SQLite a writing transaction excludes all
// other writers, which gives the same result without row locks.
//
// In both modes SetUser with a key inserts the user and the key in one
// transaction, so a taken key id leaves no user behind.
//
// # Errors
//
// Constraint violations are recognised by the driver's error codes:
// PostgreSQL SQLSTATE 23505 and 23503, MySQL errors 1062 and 1452, SQLite's
// extended codes SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE and
// SQLITE_CONSTRAINT_FOREIGNKEY. A foreign-key violation (23503, 1452,
// SQLITE_CONSTRAINT_FOREIGNKEY) is [auth.ErrInvalidUserID]. A unique
// violation on the table's primary key (23505 on <table>_pkey, 1062 on key
// PRIMARY, SQLITE_CONSTRAINT_PRIMARYKEY) means the id is taken, and which
// table the failed statement wrote says which id. A unique index or
// constraint the application added (on a user attribute: an expression
// index on the JSON column, or on MariaDB a generated column; see the
// dialect's documentation) gives an [*auth.DuplicateValueError]
// ([auth.ErrDuplicateValue]) naming the index instead, from SetUser and
// UpdateUser alike. Telling the two apart takes the constraint's name where
// the code does not say it: MySQL and SQLite name the index only in the
// message, so there it is read from the message; see the dialect packages.
// Deadlocks and serialization failures roll the transaction back; the
// adapter then runs it again, up to ten times with a short randomised pause,
// and otherwise returns the error. A busy SQLite file is retried likewise
// for up to 10 seconds. Other errors are the driver's, wrapped with the
// operation ("sqlauth: insert session: ..."); when the context is done they
// also match context.Canceled or context.DeadlineExceeded.
//
// A call whose context ends while it waits (for a lock, say) returns at
// once with the context's error. Whether a write it had sent took effect
// is then unknown, as after a lost connection: the pgx and MySQL drivers
// drop the connection, and the server rolls back a transaction that has
// not committed but may still finish a single statement it is running (a
// one-statement write, as most writes in the foreign-key mode are). SQLite
// interrupts the statement in-process, so there nothing was written.
//
// # User attributes: two table shapes
//
// [Options].Attributes says where user attributes live. The default,
// [DetectAttributes], looks at the user table when CheckSchema runs (so
// CreateTables too) or at the first call that reads or writes a user: a
// column named attributes means the JSON shape, anything else a column per
// attribute.
//
//   - [AttributesJSON]: the user table has id and attributes (JSONB on
//     PostgreSQL, JSON on MySQL, checked TEXT on SQLite), as CreateTables
//     makes it.
//   - [AttributesInColumns]: the user table has id and one column per
//     attribute (username, email, ...), as Prisma, Lucia v1's SQL adapters
//     and your migrations make it.
//
// The JSON column takes any attribute name, with no schema change per
// attribute. Values read back as the contract promises: integers as int64,
// floats as float64, and times and bytes through small type tags
// ({"$date": ...}, {"$binary": ...}) that cannot collide with user data
// because attribute names may not start with $. Times keep nanoseconds here
// (BSON keeps milliseconds). [Adapter.SetUser] lists the value types.
//
// A column per attribute is the shape a Lucia v1 application's tables have,
// so Go and Lucia share them as they are. Each attribute is the column of its
// name, with the column's type: text as string, integers as int64 (checked
// against the column's range), booleans as bool (TINYINT(1) on MySQL, 1/0 on
// SQLite), floats and decimals as float64, times as time.Time in UTC at the
// column's precision (SQLite stores Unix milliseconds, as Prisma does), bytes
// as []byte, JSON columns as in the JSON shape; a NULL reads as nil, and a
// user reads back with every column. An attribute without a column, a value
// of another type, nil for a NOT NULL column, a value for a generated
// column, or a CreateUser that leaves out a NOT NULL column without a
// default is an [*auth.InputError] before anything is written. UpdateUser
// writes only the attributes it is given, so columns your attribute type
// lacks, or that Lucia changed meanwhile, stay as they are; with
// auth.New[A], every field of A needs a column (or `auth:"-"`). A column of a
// type no attribute maps to (arrays, intervals, ...) is a [*SchemaError].
// After changing the user table's columns, run CheckSchema: the adapter keeps
// the columns it has seen. [Column] has the details. Tested on PostgreSQL,
// MariaDB and SQLite with the tables Prisma Migrate makes for the seed's
// models (each connector's documented type mapping), where the conformance
// suite passes too.
//
// # Session creation times
//
// issued_at (BIGINT, INTEGER on SQLite, nullable) holds a session's creation
// time in Unix milliseconds, for auth.Config.SessionMaxAge; rows Lucia
// inserts leave it NULL, a session without a creation time. Lucia's session
// tables and those of earlier versions lack it: CreateTables adds it to any
// session table (ALTER TABLE auth_session ADD COLUMN issued_at BIGINT, a
// change of the definition only, and one Lucia does not notice, since it
// names the columns it writes), and until then CheckSchema and every session
// call fail with a [*SchemaError] that says so, rather than keep sessions
// without an absolute lifetime. Where Prisma owns the tables, add issued_at
// BigInt? to the session model instead.
//
// # Session attributes
//
// Session attributes ([auth.SessionRecord].Attributes) take the shape the
// session table has, as user attributes do. CreateTables gives auth_session
// a nullable JSON column, attributes (NULL: none, so rows Lucia inserts read
// as none), and adds it to a session table an earlier version created, with
// ALTER TABLE auth_session ADD COLUMN attributes ... (a change of the
// definition only on PostgreSQL, MariaDB 10.3+ and MySQL 8; SQLite reads the
// rows once to check them, MySQL 5.7 rebuilds the table; the dialect's
// documentation has the type); until then such a table stores sessions
// without attributes as before and refuses one with attributes. Columns
// besides Lucia's four are attributes one each, typed as user columns are (a
// column no attribute maps to is left alone). Lucia's own session tables
// have neither, and CreateTables leaves them so next to a user table with
// attribute columns: a session with attributes is refused there with an
// [*auth.InputError], and nothing is written. [Adapter.UpdateSession] with
// attributes in the JSON column reads them under a row lock and writes the
// merge in one transaction; in columns it is one UPDATE. The adapter looks at
// the session table at its first session call and at every CheckSchema.
//
// # Ids
//
// Ids must pass [auth.CheckID]: at most [auth.MaxIDLength] (2048) bytes of
// UTF-8 without NUL, everywhere. Lucia sets no limit, and an e-mail key
// ("email:" and up to 254 bytes) is 260 bytes. In the tables CreateTables
// makes they are compared byte for byte on every database (on MySQL they are
// VARBINARY, so neither case, accents nor trailing spaces are folded
// together). Where a schema holds less, the database refuses longer ids, for
// Lucia as for Go:
//
//	database        tables from CreateTables                     Prisma's tables
//	PostgreSQL      TEXT: 2048 bytes (B-tree entries stop         TEXT: the same
//	                at 2704)
//	MySQL, MariaDB  VARBINARY(2048) (InnoDB index keys stop at    VARCHAR(191): 191 characters, compared
//	                3072 bytes), exact comparison                 case-insensitively; a longer id fails
//	                                                              with error 1406 (in strict mode, the default)
//	SQLite          TEXT: 2048 bytes                              TEXT: the same
//	MongoDB         _id: 2048 bytes (no index key limit since 4.2)
//
// An id longer than a schema's id column holds (Prisma's VARCHAR(191) on
// MySQL) is refused by the database, with its own error (MySQL 1406), not an
// [*auth.InputError]; a lookup of such an id finds nothing.
//
// # Sharing tables with Lucia v1
//
// On SQL, Lucia's adapters and Prisma keep attributes in columns of
// auth_user; this package detects that shape and reads and writes those
// columns, so nothing is migrated. Lucia's session tables have only its four
// columns, so sessions there carry no attributes (see "Session attributes").
// Package auth documents the one setting to use (auth.Config.LuciaV1), what
// each side can and cannot do, and the migration path.
package sqlauth
