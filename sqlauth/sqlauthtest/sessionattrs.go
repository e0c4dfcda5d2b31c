package sqlauthtest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/sqlauth"
)

// Session attributes in the three shapes a session table takes: the JSON
// column CreateTables makes (and adds to tables an earlier version made),
// columns of their own, and none (Lucia v1's tables). The conformance
// suite covers the JSON column (Conformance) and none (PrismaConformance).

// sessionAttributeTests run on a database of each dialect.
// sessionColumnNames lists the columns of a's session table.
func sessionColumnNames(t *testing.T, d Database, store Store, a *sqlauth.Adapter) []string {
	t.Helper()
	cols, err := d.Dialect.Columns(Context(t), store.DB, a.Schema().Sessions)
	require.NoError(t, err)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return names
}

var sessionAttributeTests = []schemaTest{
	{"EarlierTablesGetTheColumn", func(t *testing.T, d Database) {
		// Tables as the previous CreateTables made them: sessions without
		// attributes work; with attributes they are refused, writing
		// nothing, until CreateTables adds the column, concurrently from
		// two processes.
		store := d.NewStore(t)
		ctx := Context(t)
		for _, stmt := range earlierTables(t, d) {
			_, err := store.DB.ExecContext(ctx, stmt)
			require.NoError(t, err, "%s", stmt)
		}
		a, err := d.New(ctx, store.DB, sqlauth.Options{})
		require.NoError(t, err)
		require.NoError(t, a.CheckSchema(ctx))
		user(t, a, "u", map[string]any{"name": "ann"})
		old := auth.SessionRecord{ID: "old", UserID: "u", ActiveExpires: 1, IdleExpires: 2}
		require.NoError(t, a.SetSession(ctx, old))
		requireSessionReads(t, a, old)

		withAttrs := auth.SessionRecord{ID: "new", UserID: "u", ActiveExpires: 1, IdleExpires: 2, Attributes: map[string]any{"browser": "Firefox"}}
		err = a.SetSession(ctx, withAttrs)
		var ie *auth.InputError
		require.ErrorAs(t, err, &ie)
		assert.Contains(t, err.Error(), "CreateTables")
		_, err = a.GetSession(ctx, withAttrs.ID)
		require.ErrorIs(t, err, auth.ErrNotFound, "nothing stored")
		err = a.UpdateSession(ctx, old.ID, auth.SessionUpdate{IdleExpires: 9, Attributes: map[string]any{"browser": "Firefox"}})
		require.ErrorAs(t, err, &ie)
		requireSessionReads(t, a, old)

		other, err := d.New(ctx, store.DB, sqlauth.Options{})
		require.NoError(t, err)
		var wg sync.WaitGroup
		for _, adapter := range []*sqlauth.Adapter{a, other} {
			wg.Go(func() { assert.NoError(t, adapter.CreateTables(ctx), "CreateTables next to another") })
		}
		wg.Wait()
		require.NoError(t, a.CreateTables(ctx), "again: nothing left to add")
		requireSessionReads(t, a, old)
		require.NoError(t, a.SetSession(ctx, withAttrs))
		requireSessionReads(t, a, withAttrs)
		require.NoError(t, a.UpdateSession(ctx, old.ID, auth.SessionUpdate{Attributes: map[string]any{"os": "Linux"}}))
		old.Attributes = map[string]any{"os": "Linux"}
		requireSessionReads(t, a, old)
	}},
	{"RowsOfOtherWriters", func(t *testing.T, d Database) {
		// Lucia and earlier versions insert Lucia's four columns (NULL
		// attributes); an empty object is none too; a value that is not
		// an object is a *sqlauth.DataError naming the column.
		a, store := d.Open(t, sqlauth.Options{})
		ctx := Context(t)
		user(t, a, "u", nil)
		user(t, a, "broken", nil)
		for _, row := range [][]any{{"empty", "u", "{}"}, {"list", "broken", "[1]"}} {
			_, err := store.DB.ExecContext(ctx, d.sql(a, "INSERT INTO {sessions} (id, user_id, active_expires, idle_expires, attributes) VALUES (?, ?, 1, 2, ?)"), row...)
			require.NoError(t, err)
		}
		_, err := store.DB.ExecContext(ctx, d.sql(a, "INSERT INTO {sessions} (id, user_id, active_expires, idle_expires) VALUES ('lucia', 'u', 1, 2)"))
		require.NoError(t, err)
		for _, id := range []string{"empty", "lucia"} {
			requireSessionReads(t, a, auth.SessionRecord{ID: id, UserID: "u", ActiveExpires: 1, IdleExpires: 2})
		}
		_, err = a.GetSession(ctx, "list")
		var de *sqlauth.DataError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, "attributes", de.Column)
		_, _, err = a.GetSessionAndUser(ctx, "list")
		require.ErrorAs(t, err, &de)
		_, err = a.GetSessionsByUserID(ctx, "broken")
		require.ErrorAs(t, err, &de)
	}},
	{"LuciaTablesAreLeftAlone", func(t *testing.T, d Database) {
		// CreateTables on a Lucia application's tables (attribute columns
		// in the user table) adds no attributes column to its session
		// table, which then refuses session attributes.
		a, store := d.OpenPrisma(t, []Field{{Name: "username", Type: "String"}}, sqlauth.Options{})
		ctx := Context(t)
		require.NoError(t, a.CreateTables(ctx))
		assert.ElementsMatch(t, []string{"id", "user_id", "active_expires", "idle_expires", "issued_at"}, sessionColumnNames(t, d, store, a))
		user(t, a, "u", map[string]any{"username": "ann"})
		err := a.SetSession(ctx, auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: 1, IdleExpires: 2, Attributes: map[string]any{"browser": "Firefox"}})
		var ie *auth.InputError
		require.ErrorAs(t, err, &ie)
	}},
	{"IssuedAtAddedToLuciaTables", func(t *testing.T, d Database) {
		// Lucia's session table has no issued_at: the adapter refuses to
		// work on it, saying how to add the column, and CreateTables adds
		// it. Rows Lucia inserts read without a creation time.
		a, store := d.openPrisma(t, []Field{{Name: "username", Type: "String"}}, sqlauth.Options{}, false)
		ctx := Context(t)
		var se *sqlauth.SchemaError
		require.ErrorAs(t, a.CheckSchema(ctx), &se)
		assert.Contains(t, se.Reason, "issued_at")
		user(t, a, "u", map[string]any{"username": "ann"})
		err := a.SetSession(ctx, auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: 1, IdleExpires: 2, IssuedAt: 1})
		require.ErrorAs(t, err, &se, "a session call says what is missing")

		require.NoError(t, a.CreateTables(ctx))
		assert.ElementsMatch(t, []string{"id", "user_id", "active_expires", "idle_expires", "issued_at"}, sessionColumnNames(t, d, store, a))
		syntax := d.Dialect.Syntax()
		_, err = store.DB.ExecContext(ctx, syntax.Bind("INSERT INTO "+a.Schema().Sessions.Quoted(syntax)+
			" (id, user_id, active_expires, idle_expires) VALUES (?, ?, ?, ?)"), "lucia", "u", 1, 2)
		require.NoError(t, err, "as Lucia inserts")
		requireSessionReads(t, a, auth.SessionRecord{ID: "lucia", UserID: "u", ActiveExpires: 1, IdleExpires: 2})
		s := auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: 1, IdleExpires: 2, IssuedAt: 1}
		require.NoError(t, a.SetSession(ctx, s))
		requireSessionReads(t, a, s)
		require.NoError(t, a.CreateTables(ctx), "idempotent")
	}},
	{"Columns", func(t *testing.T, d Database) {
		// A session table with columns of its own, as an application adds
		// to Lucia's: each is an attribute, typed as user-table columns
		// are; a column no attribute maps to is left alone.
		a, store := d.OpenPrisma(t, []Field{{Name: "username", Type: "String"}, {Name: "age", Type: "Int"}}, sqlauth.Options{})
		ctx := Context(t)
		syntax := d.Dialect.Syntax()
		sessions := a.Schema().Sessions.Quoted(syntax)
		for _, column := range []string{
			"browser " + d.Prisma.Types["String"], "seen " + d.Prisma.Types["DateTime"], "logins " + d.Prisma.Types["Int"],
			"odd " + d.UnsupportedType,
		} {
			_, err := store.DB.ExecContext(ctx, "ALTER TABLE "+sessions+" ADD COLUMN "+column)
			require.NoError(t, err, column)
		}
		require.NoError(t, a.CheckSchema(ctx), "CheckSchema looks at the session table again")
		user(t, a, "u", map[string]any{"username": "ann", "age": int64(7)})
		seen := time.Date(2024, 5, 1, 12, 0, 0, 123_000_000, time.UTC)
		s := auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: 1, IdleExpires: 2,
			Attributes: map[string]any{"browser": "Firefox", "seen": seen, "logins": int64(1)}}
		require.NoError(t, a.SetSession(ctx, s))
		requireSessionReads(t, a, s)
		_, u, err := a.GetSessionAndUser(ctx, s.ID)
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"username": "ann", "age": int64(7)}, u.Attributes)

		plain := auth.SessionRecord{ID: "plain", UserID: "u", ActiveExpires: 1, IdleExpires: 2}
		require.NoError(t, a.SetSession(ctx, plain))
		plain.Attributes = map[string]any{"browser": nil, "seen": nil, "logins": nil}
		requireSessionReads(t, a, plain)

		require.NoError(t, a.UpdateSession(ctx, s.ID, auth.SessionUpdate{ActiveExpires: 3, Attributes: map[string]any{"logins": int64(2)}}))
		s.ActiveExpires, s.Attributes["logins"] = 3, int64(2)
		requireSessionReads(t, a, s)
		require.NoError(t, a.UpdateSession(ctx, s.ID, auth.SessionUpdate{Attributes: map[string]any{"logins": int64(2)}}), "the same value")
		require.ErrorIs(t, a.UpdateSession(ctx, "missing", auth.SessionUpdate{Attributes: map[string]any{"logins": int64(2)}}), auth.ErrNotFound)

		for name, attrs := range map[string]map[string]any{
			"no column":        {"city": "Oslo"},
			"unsupported type": {"odd": "x"},
			"wrong type":       {"logins": "many"},
		} {
			var ie *auth.InputError
			err := a.SetSession(ctx, auth.SessionRecord{ID: "refused", UserID: "u", ActiveExpires: 1, IdleExpires: 2, Attributes: attrs})
			require.ErrorAs(t, err, &ie, name)
			_, err = a.GetSession(ctx, "refused")
			require.ErrorIs(t, err, auth.ErrNotFound, "%s: nothing stored", name)
			require.ErrorAs(t, a.UpdateSession(ctx, s.ID, auth.SessionUpdate{IdleExpires: 9, Attributes: attrs}), &ie, name)
			requireSessionReads(t, a, s)
		}
	}},
}

// earlierTables returns the statements of the previous CreateTables: the
// current ones without the session table's attributes column.
func earlierTables(t *testing.T, d Database) []string {
	t.Helper()
	stmts, err := sqlauth.CreateTablesSQL(d.Dialect, sqlauth.Options{})
	require.NoError(t, err)
	def := d.Dialect.Syntax().SessionAttributes
	changed := 0
	for i, stmt := range stmts {
		if !strings.HasPrefix(stmt, "CREATE TABLE") || !strings.Contains(stmt, "auth_session") {
			continue
		}
		earlier := strings.Replace(strings.Replace(stmt, ",\n\t"+def+"\n", "\n", 1), "\t"+def+",\n", "", 1)
		if earlier != stmt {
			stmts[i] = earlier
			changed++
		}
	}
	require.Equal(t, 1, changed, "the session table's attributes column in %q", stmts)
	return stmts
}

// requireSessionReads asserts that every read returns want: GetSession,
// GetSessionsByUserID and GetSessionAndUser.
func requireSessionReads(t *testing.T, a *sqlauth.Adapter, want auth.SessionRecord) {
	t.Helper()
	ctx := Context(t)
	got, err := a.GetSession(ctx, want.ID)
	require.NoError(t, err)
	require.Equal(t, want, got, "GetSession")
	all, err := a.GetSessionsByUserID(ctx, want.UserID)
	require.NoError(t, err)
	require.Contains(t, all, want, "GetSessionsByUserID")
	got, _, err = a.GetSessionAndUser(ctx, want.ID)
	require.NoError(t, err)
	require.Equal(t, want, got, fmt.Sprintf("GetSessionAndUser of %s", want.ID))
}
