package sqlauth

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// Dialect is what the adapter needs to know about one database: how it
// spells its statements, which tables it creates, and what its driver's
// error codes mean. The packages sqlauth/postgres, sqlauth/mysql and
// sqlauth/sqlite each provide one, so that this package imports no driver
// and an application links only the driver it uses. Applications call
// those packages' New; they do not implement Dialect.
type Dialect interface {
	// Syntax returns how the database spells what the adapter's
	// statements need.
	Syntax() Syntax

	// CreateTables returns the statements that create the tables and
	// indexes of s where they are missing, in order, the throttle table
	// (id, until_ms, and an index on until_ms) among them when s has one. They run in one
	// transaction (which some databases commit at each statement).
	CreateTables(s Schema) []string

	// HasForeignKeys reports whether s.Sessions and s.Keys each declare a
	// foreign key user_id → s.Users(id) with ON DELETE CASCADE, and, where
	// enforcement is a per-connection setting that is off by default
	// (SQLite), whether it is on.
	HasForeignKeys(ctx context.Context, db *sql.DB, s Schema) (bool, error)

	// Classify says what a driver error means, by the error's code, and
	// by its message only for a detail the driver reports nowhere else
	// (the key of a MySQL duplicate entry). It is given errors wrapped by
	// the adapter and must look through them with errors.As. A unique
	// violation is UniqueViolation when the table's primary key refused the
	// row, and DuplicateValue when another unique index or constraint did.
	Classify(err error) ErrorKind

	// Columns returns the columns of table t in their order, the id column
	// included, each with its type mapped to a ColumnType; none when the
	// table does not exist. The adapter calls it for the user table (see
	// AttributeStorage).
	Columns(ctx context.Context, db *sql.DB, t Table) ([]Column, error)
	// UniqueIndex names the index or constraint behind an error that
	// Classify calls DuplicateValue, as the database reports it: its name,
	// or the columns it covers where the database reports those instead.
	// Either may be empty.
	UniqueIndex(err error) (name string, columns []string)
}

// Syntax is how a database spells what the adapter's statements need.
type Syntax struct {
	// Name names the database in errors: "postgres", "mysql", "sqlite".
	Name string
	// IdentifierQuote encloses identifiers: `"` in standard SQL, "`" in
	// MySQL. Table names are checked to be plain identifiers; see Quote.
	IdentifierQuote string
	// NumberedPlaceholders says that bind parameters are $1, $2, ...
	// (PostgreSQL) rather than '?'.
	NumberedPlaceholders bool
	// LockForShare is appended to a SELECT that must keep the rows it reads
	// from being deleted or changed until the transaction ends, and
	// LockForUpdate to one that is about to change them. Both are empty
	// where a writing transaction already excludes every other writer
	// (SQLite).
	LockForShare, LockForUpdate string
	// ExactText, when set, replaces the '?' of a value compared with a
	// text column so that the comparison is byte for byte ("CAST(? AS
	// BINARY)" on MySQL, whose collations may fold case and ignore
	// trailing spaces). Empty means '?' compares exactly already.
	ExactText string
	// TxOptions are the options of the adapter's transactions. They must
	// give each statement a view of everything committed before it started
	// (READ COMMITTED, or locking reads that see the latest committed rows);
	// see the package documentation for why.
	TxOptions *sql.TxOptions
	// UnixMilliTimes says that time attributes in TimeColumns are stored as
	// Unix milliseconds (SQLite, which has no time type; Prisma's SQLite
	// engine stores DateTime so).
	UnixMilliTimes bool
	// Greatest is the function that returns the larger of two integers:
	// "GREATEST", or "max" in SQLite.
	Greatest string
	// OnDuplicateKey says that the database writes an upsert as INSERT ...
	// ON DUPLICATE KEY UPDATE and has no RETURNING (MySQL); without it, an
	// upsert is INSERT ... ON CONFLICT (id) DO UPDATE ... WHERE ...
	// RETURNING (PostgreSQL, SQLite 3.35 and later). See ThrottleStore.
	OnDuplicateKey bool
	// SessionAttributes defines the session table's JSON column, which
	// holds session attributes and takes NULL for none ("attributes
	// JSONB"). The dialect's CreateTables puts it into new session tables,
	// and Adapter.CreateTables adds it to session tables made before it
	// existed.
	SessionAttributes string
	// IssuedAt defines the session table's nullable column of creation
	// times, Unix milliseconds ("issued_at BIGINT"; NULL in rows Lucia
	// inserts). The dialect's CreateTables puts it into new session
	// tables, and Adapter.CreateTables adds it to session tables without
	// it.
	IssuedAt string
}

// Quote quotes one identifier, doubling the quote character where the
// identifier contains it (a column name read from the database need not be
// plain).
func (s Syntax) Quote(identifier string) string {
	q := s.IdentifierQuote
	return q + strings.ReplaceAll(identifier, q, q+q) + q
}

// Bind rewrites a statement written with '?' placeholders into the
// database's own. A '?' inside a quoted identifier (a column named after
// an attribute, read from the database) or a string literal is text, not
// a placeholder, and is kept: quotes are the syntax's IdentifierQuote and
// the single quote, each closed by the next one not doubled.
func (s Syntax) Bind(query string) string {
	if !s.NumberedPlaceholders || strings.IndexByte(query, '?') < 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	var quote byte // the quote we are inside, or 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			// A doubled quote inside is two quotes in a row: leaving and
			// entering again gives the same result.
			if c == quote {
				quote = 0
			}
		case c == '\'' || (s.IdentifierQuote != "" && c == s.IdentifierQuote[0]):
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// ErrorKind is what a driver error means to the adapter.
type ErrorKind int

const (
	// OtherError is any error the adapter passes on, wrapped.
	OtherError ErrorKind = iota
	// UniqueViolation: a primary key (an id) is taken.
	UniqueViolation
	// ForeignKeyViolation: the row refers to a user that does not exist.
	ForeignKeyViolation
	// Retryable: the database rolled the transaction back to resolve a
	// conflict with another one (a deadlock, a serialization failure).
	// Nothing was written; the adapter runs the whole transaction again, a
	// few times at most.
	Retryable
	// Busy: a lock was not free within the database's own short wait
	// (SQLite's busy timeout, which a cancelled context cannot cut short).
	// Nothing was written; the adapter keeps trying, in short steps that
	// honour the context, for up to 10 seconds.
	Busy
	// DuplicateValue: a unique index or constraint other than the primary
	// key refused the row, one the application added (on a user attribute,
	// say). The adapter reports it as an *auth.DuplicateValueError.
	DuplicateValue
)

// Schema is the adapter's tables, as a Dialect sees them.
type Schema struct {
	Users, Sessions, Keys Table
	// Throttle is Options.ThrottleTable: the table of Adapter.ThrottleStore,
	// which CreateTables makes too; its Name is empty when there is none.
	Throttle Table
	// ForeignKeys is false in Options.NoForeignKeys mode: the tables then
	// have no foreign keys, and the adapter checks and cascades itself.
	ForeignKeys bool
	// Attributes is Options.Attributes. CreateTables gives the user table
	// the JSON column "attributes" unless it is AttributesInColumns.
	Attributes AttributeStorage
}

// JSONColumn returns def, the definition of the user or session table's
// JSON column "attributes", for CreateTables; "" when attributes are kept
// in columns of their own (AttributesInColumns), which applications add
// themselves.
func (s Schema) JSONColumn(def string) string {
	if s.Attributes == AttributesInColumns {
		return ""
	}
	return def
}

// Table is a table name, optionally qualified by the schema (PostgreSQL),
// database (MySQL) or attached database (SQLite) that holds it. Both parts
// are plain identifiers.
type Table struct {
	Schema string
	Name   string
}

// String returns the name as written in Options, unquoted.
func (t Table) String() string {
	if t.Schema == "" {
		return t.Name
	}
	return t.Schema + "." + t.Name
}

// Quoted returns the name quoted in syntax s, qualified when Schema is set.
func (t Table) Quoted(s Syntax) string {
	if t.Schema == "" {
		return s.Quote(t.Name)
	}
	return s.Quote(t.Schema) + "." + s.Quote(t.Name)
}
