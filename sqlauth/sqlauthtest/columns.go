package sqlauthtest

import (
	"fmt"
	"maps"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/sqlauth"
)

// typedFields are AuthUser custom fields of every Prisma scalar type,
// required and optional, with and without defaults, and names that need
// quoting.
var typedFields = []Field{
	{Name: "username", Type: "String", Required: true},
	{Name: "email", Type: "String"},
	{Name: "age", Type: "Int"},
	{Name: "visits", Type: "BigInt"},
	{Name: "score", Type: "Float"},
	{Name: "balance", Type: "Decimal"},
	{Name: "admin", Type: "Boolean", Required: true, Default: "false"},
	{Name: "joined", Type: "DateTime"},
	{Name: "created_at", Type: "DateTime", Required: true, Default: "now()"},
	{Name: "avatar", Type: "Bytes"},
	{Name: "settings", Type: "Json"},
	{Name: "display name", Type: "String"},
	{Name: "q\"u`ote", Type: "String"},
	// A '?' in a quoted identifier is no placeholder (Syntax.Bind).
	{Name: "a?b", Type: "String"},
}

// PrismaRun runs the tests of attribute columns on the seed's tables as
// Prisma creates them, in both modes.
func PrismaRun(t *testing.T, d Database) {
	for _, m := range Modes {
		t.Run(m.Name, func(t *testing.T) {
			for _, tc := range columnTests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					a, store := d.OpenPrisma(t, typedFields, sqlauth.Options{NoForeignKeys: m.NoForeignKeys})
					tc.run(t, d, a, store)
				})
			}
		})
	}
	t.Run("Shape", func(t *testing.T) {
		for _, tc := range shapeTests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.run(t, d)
			})
		}
	})
}

// hasColumn reports whether the store's user table has the column (the
// connector supports the field's type).
func hasColumn(t *testing.T, a *sqlauth.Adapter, name string) (sqlauth.Column, bool) {
	t.Helper()
	cols, err := a.UserColumns(Context(t))
	require.NoError(t, err)
	for _, c := range cols {
		if c.Name == name {
			return c, true
		}
	}
	return sqlauth.Column{}, false
}

// withoutMissing drops the attributes whose columns the store lacks.
func withoutMissing(t *testing.T, a *sqlauth.Adapter, attrs map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range attrs {
		if _, ok := hasColumn(t, a, k); ok {
			out[k] = v
		}
	}
	return out
}

// requireStoredUser returns the stored user, checking that created_at
// holds a time set by the database and replacing it by the zero time,
// which tests can compare.
func requireStoredUser(t *testing.T, u auth.UserRecord) auth.UserRecord {
	t.Helper()
	created, ok := u.Attributes["created_at"].(time.Time)
	require.True(t, ok, "created_at is %T", u.Attributes["created_at"])
	// The database's clock and time zone (MySQL's CURRENT_TIMESTAMP is in
	// the session's) bound it only loosely.
	assert.WithinDuration(t, time.Now(), created, 26*time.Hour)
	u.Attributes["created_at"] = time.Time{}
	return u
}

type columnTest struct {
	name string
	run  func(t *testing.T, d Database, a *sqlauth.Adapter, store Store)
}

var columnTests = []columnTest{
	{"TypesRoundTrip", func(t *testing.T, d Database, a *sqlauth.Adapter, _ Store) {
		ctx := Context(t)
		joined := time.Date(2024, 2, 29, 23, 59, 58, 123_000_000, time.FixedZone("X", 5*3600))
		given := withoutMissing(t, a, map[string]any{
			"username": "ann", "email": nil, "age": 42, "visits": int64(math.MaxInt64), "score": 1.5,
			"balance": 12.25, "admin": true, "joined": joined, "avatar": []byte{0, 1, 255},
			"settings":     map[string]any{"theme": "dark", "n": 1, "tags": []string{"a"}},
			"display name": "Ann A.", "q\"u`ote": "'; DROP TABLE auth_user; --", "a?b": "why?",
		})
		want := withoutMissing(t, a, map[string]any{
			"username": "ann", "email": nil, "age": int64(42), "visits": int64(math.MaxInt64), "score": 1.5,
			"balance": 12.25, "admin": true, "joined": joined.UTC(), "created_at": time.Time{}, "avatar": []byte{0, 1, 255},
			"settings":     map[string]any{"theme": "dark", "n": int64(1), "tags": []any{"a"}},
			"display name": "Ann A.", "q\"u`ote": "'; DROP TABLE auth_user; --", "a?b": "why?",
		})
		k := auth.KeyRecord{ID: "username:ann", UserID: "u1", PrimaryKey: true}
		require.NoError(t, a.SetUser(ctx, auth.UserRecord{ID: "u1", Attributes: given}, &k))
		got, err := a.GetUser(ctx, "u1")
		require.NoError(t, err)
		assert.Equal(t, auth.UserRecord{ID: "u1", Attributes: want}, requireStoredUser(t, got))

		require.NoError(t, a.SetSession(ctx, auth.SessionRecord{ID: "s1", UserID: "u1", ActiveExpires: 1, IdleExpires: 2}))
		s, got, err := a.GetSessionAndUser(ctx, "s1")
		require.NoError(t, err)
		assert.Equal(t, auth.SessionRecord{ID: "s1", UserID: "u1", ActiveExpires: 1, IdleExpires: 2}, s)
		assert.Equal(t, auth.UserRecord{ID: "u1", Attributes: want}, requireStoredUser(t, got))
	}},
	{"OmittedColumnsTakeTheirDefaults", func(t *testing.T, d Database, a *sqlauth.Adapter, _ Store) {
		ctx := Context(t)
		user(t, a, "u1", map[string]any{"username": "ann"})
		got, err := a.GetUser(ctx, "u1")
		require.NoError(t, err)
		got = requireStoredUser(t, got)
		for name, v := range got.Attributes {
			switch name {
			case "username":
				assert.Equal(t, "ann", v)
			case "admin":
				assert.Equal(t, false, v, "@default(false)")
			case "created_at":
			default:
				assert.Nil(t, v, "%s: an optional field without a default is NULL", name)
			}
		}
	}},
	{"UnknownAttributeWritesNothing", func(t *testing.T, d Database, a *sqlauth.Adapter, _ Store) {
		ctx := Context(t)
		err := a.SetUser(ctx, auth.UserRecord{ID: "u1", Attributes: map[string]any{"username": "ann", "nickname": "a"}},
			&auth.KeyRecord{ID: "username:ann", UserID: "u1", PrimaryKey: true})
		var ie *auth.InputError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "nickname", ie.Name)
		assert.Contains(t, ie.Error(), "no column")
		_, err = a.GetUser(ctx, "u1")
		require.ErrorIs(t, err, auth.ErrNotFound)
		_, err = a.GetKey(ctx, "username:ann")
		require.ErrorIs(t, err, auth.ErrNotFound)

		user(t, a, "u2", map[string]any{"username": "bob", "age": 30})
		_, err = a.UpdateUser(ctx, "u2", map[string]any{"age": 31, "Username": "bobby"})
		require.ErrorAs(t, err, &ie, "column names are matched exactly")
		assert.Equal(t, "Username", ie.Name)
		got, err := a.GetUser(ctx, "u2")
		require.NoError(t, err)
		assert.Equal(t, int64(30), got.Attributes["age"], "nothing half-written")
	}},
	{"ValuesMustFitTheirColumns", func(t *testing.T, d Database, a *sqlauth.Adapter, _ Store) {
		ctx := Context(t)
		user(t, a, "kept", map[string]any{"username": "kept", "age": 1})
		bad := map[string]map[string]any{
			"text as integer":     {"age": "x"},
			"fraction as integer": {"age": 1.5},
			"integer as boolean":  {"admin": int64(1)},
			"integer as text":     {"username": 5},
			"text as time":        {"joined": "2024-01-01"},
			"text as bytes":       {"avatar": "text"},
			"NaN":                 {"score": math.NaN()},
			"infinite decimal":    {"balance": math.Inf(1)},
			"map as text":         {"email": map[string]any{"a": "b"}},
			"NULL in NOT NULL":    {"username": nil},
			"NULL in defaulted":   {"admin": nil},
		}
		if c, _ := hasColumn(t, a, "age"); c.IntegerBits == 32 {
			bad["beyond INT"] = map[string]any{"age": int64(math.MaxInt32) + 1}
		}
		for reason, b := range bad {
			var ie *auth.InputError
			var name string
			for name = range b { // the one attribute that does not fit
			}
			insert := map[string]any{"username": "new"}
			maps.Copy(insert, b)
			err := a.SetUser(ctx, auth.UserRecord{ID: "refused", Attributes: insert}, nil)
			require.ErrorAs(t, err, &ie, reason)
			assert.Equal(t, name, ie.Name, reason)
			_, err = a.GetUser(ctx, "refused")
			require.ErrorIs(t, err, auth.ErrNotFound, "%s: nothing stored", reason)

			update := map[string]any{"email": "changed@example.com"}
			maps.Copy(update, b)
			_, err = a.UpdateUser(ctx, "kept", update)
			require.ErrorAs(t, err, &ie, reason)
			got, err := a.GetUser(ctx, "kept")
			require.NoError(t, err)
			assert.Equal(t, "kept", got.Attributes["username"], reason)
			assert.Nil(t, got.Attributes["email"], "%s: nothing half-written", reason)
		}
		err := a.SetUser(ctx, auth.UserRecord{ID: "anonymous", Attributes: map[string]any{"age": 3}}, nil)
		var ie *auth.InputError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "username", ie.Name, "a NOT NULL column without a default must be given")
	}},
	{"UpdateWritesOnlyTheNamedColumns", func(t *testing.T, d Database, a *sqlauth.Adapter, store Store) {
		ctx := Context(t)
		user(t, a, "u1", map[string]any{"username": "ann", "age": 1})
		// Another program (Lucia) changes a column in between.
		_, err := store.DB.ExecContext(ctx, d.sql(a, "UPDATE {users} SET email = ? WHERE id = ?"), "ann@example.com", "u1")
		require.NoError(t, err)
		got, err := a.UpdateUser(ctx, "u1", map[string]any{"age": 2, "joined": nil})
		require.NoError(t, err)
		assert.Equal(t, "ann@example.com", got.Attributes["email"])
		assert.Equal(t, int64(2), got.Attributes["age"])
		assert.Equal(t, "ann", got.Attributes["username"])
		stored, err := a.GetUser(ctx, "u1")
		require.NoError(t, err)
		assert.Equal(t, requireStoredUser(t, stored), requireStoredUser(t, got), "UpdateUser returns the user as stored")

		_, err = a.UpdateUser(ctx, "nobody", map[string]any{"age": 2})
		require.ErrorIs(t, err, auth.ErrInvalidUserID)

		var wg sync.WaitGroup
		for i, name := range []string{"age", "visits", "score", "email", "display name"} {
			wg.Go(func() {
				var v any = int64(i)
				switch name {
				case "score":
					v = float64(i)
				case "email", "display name":
					v = fmt.Sprint(i)
				}
				_, err := a.UpdateUser(ctx, "u1", map[string]any{name: v})
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		got, err = a.GetUser(ctx, "u1")
		require.NoError(t, err)
		assert.Equal(t, int64(0), got.Attributes["age"])
		assert.Equal(t, int64(1), got.Attributes["visits"])
		assert.Equal(t, 2.0, got.Attributes["score"])
		assert.Equal(t, "3", got.Attributes["email"])
		assert.Equal(t, "4", got.Attributes["display name"], "concurrent updates of different columns all survive")
	}},
	{"TheCoreOverColumns", func(t *testing.T, d Database, a *sqlauth.Adapter, _ Store) {
		type profile struct {
			Username string    `auth:"username"`
			Admin    bool      `auth:"admin"`
			Age      *int      `auth:"age,omitempty"`
			Joined   time.Time `auth:"joined,omitempty"`
		}
		ctx := Context(t)
		core, err := auth.New[profile](a, auth.Config{PasswordHasher: auth.InsecureFastHasher()})
		require.NoError(t, err)
		age := 7
		joined := time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)
		u, err := core.CreateUser(ctx, profile{Username: "ann", Age: &age, Joined: joined},
			&auth.KeyParams{ProviderID: "username", ProviderUserID: "ann", Password: "secret"})
		require.NoError(t, err)
		key, err := core.UseKey(ctx, "username", "ann", "secret")
		require.NoError(t, err)
		got, err := core.GetUser(ctx, key.UserID)
		require.NoError(t, err)
		assert.Equal(t, auth.User[profile]{ID: u.ID, Attributes: profile{Username: "ann", Age: &age, Joined: joined}}, got)
		got, err = core.UpdateUser(ctx, u.ID, profile{Username: "anna", Admin: true})
		require.NoError(t, err)
		assert.Equal(t, profile{Username: "anna", Admin: true, Age: &age, Joined: joined}, got.Attributes,
			"omitempty fields are left as they are")

		type unknown struct {
			Username string `auth:"username"`
			Nickname string `auth:"nickname"`
		}
		other, err := auth.New[unknown](a, auth.Config{PasswordHasher: auth.InsecureFastHasher()})
		require.NoError(t, err)
		_, err = other.CreateUser(ctx, unknown{Username: "bob"}, nil)
		require.ErrorIs(t, err, auth.ErrInvalidInput, "a field the table has no column for")
	}},
}

type shapeTest struct {
	name string
	run  func(t *testing.T, d Database)
}

var shapeTests = []shapeTest{
	{"DetectsEitherShape", func(t *testing.T, d Database) {
		a, _ := d.OpenPrisma(t, typedFields, sqlauth.Options{})
		cols, err := a.UserColumns(Context(t))
		require.NoError(t, err)
		require.NotEmpty(t, cols)
		assert.Equal(t, "username", cols[0].Name)
		assert.Equal(t, sqlauth.TextColumn, cols[0].Type)
		assert.False(t, cols[0].Nullable)
		assert.False(t, cols[0].Optional)

		b, _ := d.Open(t, sqlauth.Options{})
		cols, err = b.UserColumns(Context(t))
		require.NoError(t, err)
		assert.Empty(t, cols, "CreateTables' tables keep attributes in the JSON column")
	}},
	{"ExplicitJSONOnColumnsIsSchemaError", func(t *testing.T, d Database) {
		_, store := d.OpenPrisma(t, typedFields, sqlauth.Options{})
		json, err := d.New(Context(t), store.DB, sqlauth.Options{Attributes: sqlauth.AttributesJSON})
		require.NoError(t, err)
		var se *sqlauth.SchemaError
		require.ErrorAs(t, json.CheckSchema(Context(t)), &se)
		assert.Equal(t, sqlauth.DefaultUserTable, se.Table)
	}},
	{"ColumnsAddedLaterAfterCheckSchema", func(t *testing.T, d Database) {
		a, store := d.Open(t, sqlauth.Options{Attributes: sqlauth.AttributesInColumns})
		ctx := Context(t)
		cols, err := a.UserColumns(ctx)
		require.NoError(t, err)
		assert.Empty(t, cols, "CreateTables makes a user table with only an id")
		user(t, a, "u1", nil)
		err = a.SetUser(ctx, auth.UserRecord{ID: "u2", Attributes: map[string]any{"nickname": "x"}}, nil)
		require.ErrorIs(t, err, auth.ErrInvalidInput)

		_, err = store.DB.ExecContext(ctx, d.sql(a, "ALTER TABLE {users} ADD COLUMN nickname "+d.Prisma.Types["String"]))
		require.NoError(t, err)
		require.NoError(t, a.CheckSchema(ctx), "CheckSchema looks at the table again")
		user(t, a, "u2", map[string]any{"nickname": "x"})
		got, err := a.GetUser(ctx, "u1")
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"nickname": nil}, got.Attributes)
	}},
	{"UnmappableColumnIsSchemaError", func(t *testing.T, d Database) {
		store := d.NewStore(t)
		ctx := Context(t)
		for _, stmt := range d.Prisma.Tables(append(d.columns(suiteFields), "weird "+d.UnsupportedType), true) {
			_, err := store.DB.ExecContext(ctx, stmt)
			require.NoError(t, err, "%s", stmt)
		}
		a, err := d.New(ctx, store.DB, sqlauth.Options{})
		require.NoError(t, err)
		var se *sqlauth.SchemaError
		require.ErrorAs(t, a.CheckSchema(ctx), &se)
		assert.Contains(t, se.Reason, "weird")
		err = a.SetUser(ctx, auth.UserRecord{ID: "u"}, nil)
		require.ErrorAs(t, err, &se, "without CheckSchema, the first call finds it")
	}},
	{"MissingUserTable", func(t *testing.T, d Database) {
		store := d.NewStore(t)
		a, err := d.New(Context(t), store.DB, sqlauth.Options{})
		require.NoError(t, err)
		_, err = a.GetUser(Context(t), "u")
		var se *sqlauth.SchemaError
		require.ErrorAs(t, err, &se)
		_, _, err = a.GetSessionAndUser(Context(t), "s")
		require.ErrorAs(t, err, &se)
		assert.True(t, strings.HasPrefix(err.Error(), "sqlauth: "), err.Error())
	}},
}
