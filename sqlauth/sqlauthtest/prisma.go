package sqlauthtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/auth/adaptertest"
	"github.com/luciago/mongoauth/sqlauth"
)

// Prisma is what Prisma Migrate creates on one database for the seed's
// models (AuthUser, AuthSession, AuthKey, mapped to auth_user, auth_session
// and auth_key), the tables a Lucia v1 application with the Prisma adapter
// runs on. Each dialect's test file fills it in from Prisma's documented
// type mapping for that connector.
type Prisma struct {
	// Types maps each Prisma scalar type to the column type Prisma Migrate
	// creates for it. A missing type is one the connector does not support.
	Types map[string]string
	// Now is the column default Prisma writes for @default(now()).
	Now string
	// Tables returns the DDL of the three tables, with user's columns (each
	// a complete column definition) after AuthUser's id, with or without
	// the foreign keys (relationMode = "prisma" leaves them out).
	Tables func(user []string, foreignKeys bool) []string
	// IDChars is the length, in characters, of the id columns when they are
	// bounded (VARCHAR(191) on MySQL); 0 when they are unbounded text.
	IDChars int
}

// Field is one custom field of the seed's AuthUser model.
type Field struct {
	Name string
	// Type is the Prisma scalar type: String, Int, BigInt, Float,
	// Decimal, Boolean, DateTime, Json or Bytes.
	Type string
	// Required is a field without '?': the column is NOT NULL.
	Required bool
	// Default is the Prisma default: "" (none), "now()", or a literal such
	// as "false".
	Default string
}

// suiteFields give the conformance suite a column for each of its
// attributes (adaptertest.AttributeColumns), all optional, because each
// subtest sets only some of them.
var suiteFields = func() []Field {
	var fields []Field
	for name, example := range adaptertest.AttributeColumns() {
		f := Field{Name: name}
		switch example.(type) {
		case string:
			f.Type = "String"
		case int64:
			f.Type = "Int"
		case bool:
			f.Type = "Boolean"
		case float64:
			f.Type = "Float"
		default:
			panic("sqlauthtest: no Prisma type for the suite's attribute " + name)
		}
		fields = append(fields, f)
	}
	slices.SortFunc(fields, func(a, b Field) int { return strings.Compare(a.Name, b.Name) })
	return fields
}()

// columns returns the column definitions Prisma creates for fields, with
// identifiers quoted in d's syntax. Fields of types the connector does not
// support are left out.
func (d Database) columns(fields []Field) []string {
	syntax := d.Dialect.Syntax()
	var out []string
	for _, f := range fields {
		typ, ok := d.Prisma.Types[f.Type]
		if !ok {
			continue
		}
		def := syntax.Quote(f.Name) + " " + typ
		if f.Required {
			def += " NOT NULL"
		}
		switch f.Default {
		case "":
		case "now()":
			def += " DEFAULT " + d.Prisma.Now
		default:
			def += " DEFAULT " + f.Default
		}
		out = append(out, def)
	}
	return out
}

// OpenPrisma returns an adapter over a fresh store holding the seed's
// tables as Prisma Migrate creates them, with fields as AuthUser's custom
// fields, and the foreign keys unless opts.NoForeignKeys, with the one
// change the adapter needs: the session model's optional issued_at BigInt,
// added as Prisma Migrate adds it (PrismaIssuedAt). It skips t when the
// dialect's test file describes no Prisma schema.
func (d Database) OpenPrisma(t testing.TB, fields []Field, opts sqlauth.Options) (*sqlauth.Adapter, Store) {
	t.Helper()
	return d.openPrisma(t, fields, opts, true)
}

// PrismaIssuedAt is the statement Prisma Migrate makes when the session
// model (AuthSession, mapped to auth_session) gains the field
// issued_at BigInt?.
func (d Database) PrismaIssuedAt() string {
	syntax := d.Dialect.Syntax()
	return "ALTER TABLE " + syntax.Quote("auth_session") + " ADD COLUMN " + syntax.Quote("issued_at") + " " + d.Prisma.Types["BigInt"]
}

// openPrisma is OpenPrisma, with the session table as Lucia's schema has
// it (four columns) unless issuedAt; then it does not check the schema.
func (d Database) openPrisma(t testing.TB, fields []Field, opts sqlauth.Options, issuedAt bool) (*sqlauth.Adapter, Store) {
	t.Helper()
	if d.Prisma.Tables == nil {
		t.Skip("no Prisma schema for this database")
	}
	store := d.NewStore(t)
	ctx := Context(t)
	stmts := d.Prisma.Tables(d.columns(fields), !opts.NoForeignKeys)
	if issuedAt {
		stmts = append(stmts, d.PrismaIssuedAt())
	}
	for _, stmt := range stmts {
		_, err := store.DB.ExecContext(ctx, stmt)
		require.NoError(t, err, "%s", stmt)
	}
	a, err := d.New(ctx, store.DB, opts)
	require.NoError(t, err)
	if issuedAt {
		require.NoError(t, a.CheckSchema(ctx))
	}
	return a, store
}

// PrismaConformance runs the conformance suite, in both modes, on the
// seed's tables as Prisma creates them, with a column for each attribute
// the suite uses. Every subtest applies: with adaptertest.Options the
// suite expects the columns a user was not given to read as nil, uses ids
// as long as the id columns hold (on MySQL, Prisma's VARCHAR(191) holds
// neither auth.MaxIDLength bytes nor Lucia's 260-byte e-mail key, which
// Lucia cannot store there either), and expects sessions with attributes
// to be refused: the seed's session table has Lucia's four columns only.
// (Session attribute columns are tested by SessionColumnTests.) An email
// column made @unique, as applications add, must clash as a duplicate
// value, not a duplicate id.
func PrismaConformance(t *testing.T, d Database) {
	for _, m := range Modes {
		t.Run(m.Name, func(t *testing.T) {
			adaptertest.RunWith(t, func(t *testing.T) auth.Adapter {
				a, store := d.OpenPrisma(t, suiteFields, sqlauth.Options{NoForeignKeys: m.NoForeignKeys})
				return uniqueAttributes{storeHooks{a, store.DB, d}, []string{d.prismaUnique()}}
			}, adaptertest.Options{AttributeColumns: true, MaxIDChars: d.Prisma.IDChars, NoSessionAttributes: true})
		})
	}
}

// prismaUnique is the statement Prisma Migrate writes for a field marked
// @unique (its index name, auth_user_<field>_key), with the field left as
// %[1]s for uniqueAttributes.
func (d Database) prismaUnique() string {
	syntax := d.Dialect.Syntax()
	return "CREATE UNIQUE INDEX " + syntax.Quote("auth_user_%[1]s_key") + " ON " + syntax.Quote("auth_user") + " (" + syntax.Quote("%[1]s") + ")"
}

// ColumnLines formats column definitions for a CREATE TABLE: one per line,
// tab-indented, each followed by a comma.
func ColumnLines(columns []string) string {
	var b strings.Builder
	for _, c := range columns {
		b.WriteString("\t" + c + ",\n")
	}
	return b.String()
}

// PrismaBenchmark compares the two user-table shapes on the calls that
// read and write users: GetSessionAndUser (every authenticated request) and
// SetUser, with the same attributes in the JSON column (CreateTables'
// tables) and in columns (Prisma's).
func PrismaBenchmark(b *testing.B, d Database) {
	attrs := map[string]any{"username": "bench", "age": int64(40), "admin": false, "score": 1.5}
	for _, shape := range []struct {
		name string
		open func(b *testing.B) *sqlauth.Adapter
	}{
		{"JSON", func(b *testing.B) *sqlauth.Adapter { a, _ := d.Open(b, sqlauth.Options{}); return a }},
		{"Columns", func(b *testing.B) *sqlauth.Adapter { a, _ := d.OpenPrisma(b, suiteFields, sqlauth.Options{}); return a }},
	} {
		b.Run(shape.name, func(b *testing.B) {
			a := shape.open(b)
			ctx := Context(b)
			user(b, a, "bench", attrs)
			require.NoError(b, a.SetSession(ctx, auth.SessionRecord{ID: "bench-session", UserID: "bench", ActiveExpires: 1, IdleExpires: 2}))
			b.Run("GetSessionAndUser", func(b *testing.B) {
				for b.Loop() {
					if _, _, err := a.GetSessionAndUser(ctx, "bench-session"); err != nil {
						b.Fatal(err)
					}
				}
			})
			n := 0 // outside: -count runs SetUser again on the same tables
			b.Run("SetUser", func(b *testing.B) {
				for b.Loop() {
					n++
					if err := a.SetUser(ctx, auth.UserRecord{ID: fmt.Sprint("u-", n), Attributes: attrs}, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
