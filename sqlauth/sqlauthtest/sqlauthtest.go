// Package sqlauthtest runs the adapter conformance suite (auth/adaptertest,
// unchanged) and the tests specific to package sqlauth against one
// database. Each dialect package's tests call it with a Database that makes
// isolated, empty stores: a fresh PostgreSQL schema, MySQL database or
// SQLite file per test, because the suite's subtests run in parallel.
package sqlauthtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"go/parser"
	"go/token"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/auth/adaptertest"
	"github.com/luciago/mongoauth/sqlauth"
)

// Database describes the database under test.
type Database struct {
	// NewStore returns an isolated, empty store, removed when t ends.
	NewStore func(t testing.TB) Store
	// New is the dialect package's New.
	New func(ctx context.Context, db *sql.DB, opts sqlauth.Options) (*sqlauth.Adapter, error)
	// Dialect is the dialect package's Dialect.
	Dialect sqlauth.Dialect
	// CancelStopsStatement says that a cancelled context stops the
	// statement itself, so a call that fails with the context's error has
	// written nothing: true for SQLite, whose driver interrupts the
	// statement in-process. The pgx and MySQL drivers (by default) close
	// the connection instead, and the server may still finish a statement
	// that was waiting for a lock.
	CancelStopsStatement bool
	// Prisma describes the tables Prisma Migrate creates on this database
	// for the seed's models; see OpenPrisma.
	Prisma Prisma
	// UnsupportedType is a column type no attribute maps to.
	UnsupportedType string
	// UniqueAttribute holds the statements that make the user attribute
	// %[1]s unique in a store with the default table names, as an
	// application would: the conformance suite then checks that a clash
	// there is reported as auth.ErrDuplicateValue (adaptertest's
	// UniqueAttributes). Nil skips those checks.
	UniqueAttribute []string
	// ForeignKeysOff holds the statements that turn the enforcement of
	// foreign keys off, and back on, for one connection: the conformance
	// suite removes a user's row with them, leaving its sessions and keys
	// behind the adapter's back (adaptertest's UserRecordRemover).
	ForeignKeysOff [2]string
}

// Store is one isolated place for the adapter's tables.
type Store struct {
	// DB is connected so that unqualified table names resolve inside the
	// store (a search_path, a default database, a file).
	DB *sql.DB
	// Name qualifies table names explicitly: the schema, database or
	// attached database ("main") of the store.
	Name string
	// LockWaiters counts the store's connections that wait for a row lock.
	// It is nil where writers exclude each other without row locks
	// (SQLite); interleaving tests then pause briefly instead.
	LockWaiters func(ctx context.Context) (int, error)
}

// Modes are the two integrity modes every test runs in.
var Modes = []struct {
	Name          string
	NoForeignKeys bool
}{
	{"ForeignKeys", false},
	{"NoForeignKeys", true},
}

var servers sync.Map // environment variable → *server

type server struct {
	once sync.Once
	db   *sql.DB
	err  error
}

// Server returns a pool, shared by the test binary, on the server whose
// data source name is in the environment variable, opened with driver. It
// skips t, saying how to run it, when the variable is not set; example is a
// value to show.
func Server(t testing.TB, variable, driver, example string) (db *sql.DB, dsn string) {
	t.Helper()
	dsn = os.Getenv(variable)
	if dsn == "" {
		t.Skipf("%s is not set: these tests need a server, e.g. %s=%q", variable, variable, example)
	}
	v, _ := servers.LoadOrStore(variable, &server{})
	s := v.(*server)
	s.once.Do(func() {
		s.db, s.err = sql.Open(driver, dsn)
		if s.err == nil {
			s.err = s.db.PingContext(Context(t))
		}
	})
	require.NoError(t, s.err, "%s", variable)
	return s.db, dsn
}

// Scratch creates a schema or database with a fresh name for one test,
// running create (a format with one %s for the name) on admin, and drops
// it with drop when t ends. Register it before anything that must be closed
// first: cleanups run in reverse order.
func Scratch(t testing.TB, admin *sql.DB, create, drop string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "sqlauth_" + hex.EncodeToString(b)
	_, err := admin.ExecContext(Context(t), fmt.Sprintf(create, name))
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.ExecContext(context.Background(), fmt.Sprintf(drop, name))
		require.NoError(t, err)
	})
	return name
}

// Context returns a context for one test, cancelled when it ends.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Open returns an adapter over a fresh store, with its tables created.
func (d Database) Open(t testing.TB, opts sqlauth.Options) (*sqlauth.Adapter, Store) {
	t.Helper()
	store := d.NewStore(t)
	a, err := d.New(Context(t), store.DB, opts)
	require.NoError(t, err)
	require.NoError(t, a.CreateTables(Context(t)))
	return a, store
}

// Conformance runs adaptertest.Run in both modes, with the default table
// names.
func Conformance(t *testing.T, d Database) {
	for _, m := range Modes {
		t.Run(m.Name, func(t *testing.T) {
			adaptertest.Run(t, func(t *testing.T) auth.Adapter {
				a, store := d.Open(t, sqlauth.Options{NoForeignKeys: m.NoForeignKeys})
				hooks := storeHooks{a, store.DB, d}
				if d.UniqueAttribute == nil {
					return hooks
				}
				return uniqueAttributes{hooks, d.UniqueAttribute}
			})
		})
	}
}

// storeHooks gives the conformance suite the adapter's store:
// adaptertest.UserRecordRemover with a Database's ForeignKeysOff.
type storeHooks struct {
	*sqlauth.Adapter
	db       *sql.DB
	database Database
}

// RemoveUserRecord deletes the user's row with foreign keys off, on one
// connection, so that nothing cascades.
func (h storeHooks) RemoveUserRecord(ctx context.Context, userID string) error {
	conn, err := h.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	syntax := h.database.Dialect.Syntax()
	if _, err := conn.ExecContext(ctx, h.database.ForeignKeysOff[0]); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, syntax.Bind("DELETE FROM "+h.Schema().Users.Quoted(syntax)+" WHERE id = ?"), userID)
	if _, onErr := conn.ExecContext(ctx, h.database.ForeignKeysOff[1]); err == nil {
		err = onErr
	}
	return err
}

// uniqueAttributes implements adaptertest.UniqueAttributes with a
// Database's UniqueAttribute statements.
type uniqueAttributes struct {
	storeHooks
	statements []string
}

func (u uniqueAttributes) MakeUnique(ctx context.Context, name string) (adaptertest.UniqueLimits, error) {
	for _, stmt := range u.statements {
		if _, err := u.db.ExecContext(ctx, fmt.Sprintf(stmt, name)); err != nil {
			return adaptertest.UniqueLimits{}, err
		}
	}
	return adaptertest.UniqueLimits{}, nil
}

// Run runs the sqlauth-specific tests: in both modes, then the schema
// tests.
func Run(t *testing.T, d Database) {
	for _, m := range Modes {
		t.Run(m.Name, func(t *testing.T) {
			for _, tc := range modeTests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, d, sqlauth.Options{NoForeignKeys: m.NoForeignKeys})
				})
			}
		})
	}
	for name, tests := range map[string][]schemaTest{"Schema": schemaTests, "SessionAttributes": sessionAttributeTests} {
		t.Run(name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, d)
				})
			}
		})
	}
}

type modeTest struct {
	name string
	run  func(t *testing.T, d Database, opts sqlauth.Options)
}

func user(t testing.TB, a *sqlauth.Adapter, id string, attrs map[string]any) {
	t.Helper()
	require.NoError(t, a.SetUser(Context(t), auth.UserRecord{ID: id, Attributes: attrs}, nil))
}

type (
	named    string
	namedInt int16
)

var modeTests = []modeTest{
	{"AttributesKeepTheirTypes", func(t *testing.T, d Database, opts sqlauth.Options) {
		a, _ := d.Open(t, opts)
		ctx := Context(t)
		when := time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("X", 5*3600))
		n := int64(7)
		stored := map[string]any{
			"int8": int8(-8), "uint16": uint16(16), "int": 42, "uint64": uint64(math.MaxInt64),
			"min": int64(math.MinInt64), "max": int64(math.MaxInt64), "named": namedInt(3),
			"whole": 2.0, "float32": float32(0.5), "fraction": 0.1, "big": 1e300, "tiny": 5e-324, "huge int-like": 1e21,
			"negative": -1.25, "inf": math.Inf(1), "-inf": math.Inf(-1),
			"time": when, "bytes": []byte{0, 1, 2, 255}, "empty bytes": []byte{},
			"string": "ünï <&> \"quoted\" \\ \u2028", "named string": named("x"), "empty": "",
			"true": true, "null": nil, "pointer": &n, "nil pointer": (*int64)(nil),
			"list": []any{int64(1), "two", 3.0, nil, []any{}}, "strings": []string{"a", "b"}, "array": [2]int{1, 2},
			"map": map[string]any{"nested": map[string]any{"deep": int64(1), "at": when}}, "typed map": map[string]int{"a": 1},
			"tag-like": map[string]any{"date": "not a tag"},
		}
		want := map[string]any{
			"int8": int64(-8), "uint16": int64(16), "int": int64(42), "uint64": int64(math.MaxInt64),
			"min": int64(math.MinInt64), "max": int64(math.MaxInt64), "named": int64(3),
			"whole": 2.0, "float32": 0.5, "fraction": 0.1, "big": 1e300, "tiny": 5e-324, "huge int-like": 1e21,
			"negative": -1.25, "inf": math.Inf(1), "-inf": math.Inf(-1),
			"time": when.UTC(), "bytes": []byte{0, 1, 2, 255}, "empty bytes": []byte{},
			"string": "ünï <&> \"quoted\" \\ \u2028", "named string": "x", "empty": "",
			"true": true, "null": nil, "pointer": int64(7), "nil pointer": nil,
			"list": []any{int64(1), "two", 3.0, nil, []any{}}, "strings": []any{"a", "b"}, "array": []any{int64(1), int64(2)},
			"map": map[string]any{"nested": map[string]any{"deep": int64(1), "at": when.UTC()}}, "typed map": map[string]any{"a": int64(1)},
			"tag-like": map[string]any{"date": "not a tag"},
		}
		user(t, a, "typed", stored)
		got, err := a.GetUser(ctx, "typed")
		require.NoError(t, err)
		assert.Equal(t, want, got.Attributes)
		_, _, err = a.GetSessionAndUser(ctx, "none")
		require.ErrorIs(t, err, auth.ErrNotFound)

		updated, err := a.UpdateUser(ctx, "typed", map[string]any{"nan": math.NaN(), "whole": float32(3)})
		require.NoError(t, err)
		got, err = a.GetUser(ctx, "typed")
		require.NoError(t, err)
		for _, u := range []auth.UserRecord{updated, got} {
			assert.True(t, math.IsNaN(u.Attributes["nan"].(float64)), "NaN survives")
			assert.Equal(t, 3.0, u.Attributes["whole"])
			delete(u.Attributes, "nan")
			u.Attributes["whole"] = 2.0
			assert.Equal(t, want, u.Attributes, "other attributes are kept")
		}
	}},
	{"AttributesRefusedBeforeWriting", func(t *testing.T, d Database, opts sqlauth.Options) {
		a, _ := d.Open(t, opts)
		ctx := Context(t)
		cyclic := map[string]any{}
		cyclic["self"] = cyclic
		deep := any("bottom")
		for range 70 {
			deep = []any{deep}
		}
		for reason, attrs := range map[string]map[string]any{
			"struct":                {"s": struct{ A int }{1}},
			"channel":               {"c": make(chan int)},
			"function":              {"f": func() {}},
			"int map keys":          {"m": map[int]string{1: "x"}},
			"uint64 beyond int64":   {"u": uint64(math.MaxInt64) + 1},
			"invalid UTF-8":         {"s": "\xff"},
			"NUL in a value":        {"s": "a\x00b"},
			"NUL deep in a value":   {"l": []any{map[string]any{"k": "a\x00b"}}},
			"operator in typed map": {"m": map[string]string{"$gt": ""}},
			"dot in typed map":      {"m": map[string]bool{"a.b": true}},
			"cycle":                 {"c": cyclic},
			"nesting over 64":       {"d": deep},
			"year 10000":            {"t": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		} {
			err := a.SetUser(ctx, auth.UserRecord{ID: "refused", Attributes: attrs}, nil)
			var ie *auth.InputError
			require.ErrorAs(t, err, &ie, reason)
			assert.Equal(t, "attribute", ie.Field, reason)
			_, err = a.GetUser(ctx, "refused")
			require.ErrorIs(t, err, auth.ErrNotFound, "%s: nothing stored", reason)
		}
		user(t, a, "kept", map[string]any{"a": int64(1)})
		_, err := a.UpdateUser(ctx, "kept", map[string]any{"b": struct{}{}})
		require.ErrorIs(t, err, auth.ErrInvalidInput)
		got, err := a.GetUser(ctx, "kept")
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"a": int64(1)}, got.Attributes)

		bad := "a\x00b"
		err = a.SetKey(ctx, auth.KeyRecord{ID: "k", UserID: "kept", HashedPassword: &bad})
		require.ErrorIs(t, err, auth.ErrInvalidInput)
	}},
	{"IDsCompareExactly", func(t *testing.T, d Database, opts sqlauth.Options) {
		// Ids that a case-insensitive, accent-insensitive or PAD SPACE
		// comparison would confuse are all different records.
		a, _ := d.Open(t, opts)
		ctx := Context(t)
		ids := []string{"alice", "Alice", "alice ", "alicé", "alice\u0301", " alice"}
		for _, id := range ids {
			k := auth.KeyRecord{ID: "username:" + id, UserID: id, PrimaryKey: true}
			require.NoError(t, a.SetUser(ctx, auth.UserRecord{ID: id, Attributes: map[string]any{"name": id}}, &k), "%q", id)
			require.NoError(t, a.SetSession(ctx, auth.SessionRecord{ID: "s:" + id, UserID: id, ActiveExpires: 1, IdleExpires: 2}))
		}
		for _, id := range ids {
			u, err := a.GetUser(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, id, u.Attributes["name"])
			k, err := a.GetKey(ctx, "username:"+id)
			require.NoError(t, err)
			assert.Equal(t, id, k.UserID)
			s, u2, err := a.GetSessionAndUser(ctx, "s:"+id)
			require.NoError(t, err)
			assert.Equal(t, id, s.UserID)
			assert.Equal(t, id, u2.ID)
		}
		_, err := a.GetKey(ctx, "username:ALICE")
		require.ErrorIs(t, err, auth.ErrNotFound)
		require.NoError(t, a.DeleteUser(ctx, "alice"))
		for _, id := range ids[1:] {
			_, err := a.GetUser(ctx, id)
			require.NoError(t, err, "deleting alice must not delete %q", id)
		}
	}},
	{"ConcurrentUpdatesKeepEveryAttribute", func(t *testing.T, d Database, opts sqlauth.Options) {
		a, _ := d.Open(t, opts)
		ctx := Context(t)
		user(t, a, "busy", nil)
		const writers = 8
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				_, err := a.UpdateUser(ctx, "busy", map[string]any{fmt.Sprint("a", i): int64(i)})
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		got, err := a.GetUser(ctx, "busy")
		require.NoError(t, err)
		assert.Len(t, got.Attributes, writers, "a read-modify-write without a row lock loses updates")
	}},
	{"InsertWaitsForDeletionThenFails", func(t *testing.T, d Database, opts sqlauth.Options) {
		// A transaction deletes the user (as DeleteUser does) and stays
		// open; SetSession and SetKey must wait for it and then see the
		// user gone.
		a, store := d.Open(t, opts)
		ctx := Context(t)
		user(t, a, "doomed", nil)
		tx := d.begin(t, store, a, "DELETE FROM {users} WHERE id = ?", "doomed")
		errs := make(chan error, 2)
		go func() {
			errs <- a.SetSession(ctx, auth.SessionRecord{ID: "late-session", UserID: "doomed", ActiveExpires: 1, IdleExpires: 2})
		}()
		go func() {
			errs <- a.SetKey(ctx, auth.KeyRecord{ID: "late:key", UserID: "doomed"})
		}()
		waitForLockWaiters(t, store, 2)
		require.NoError(t, tx.Commit())
		for range 2 {
			require.ErrorIs(t, <-errs, auth.ErrInvalidUserID)
		}
		requireAbsent(t, a, "late-session", "late:key")
	}},
	{"DeletionWaitsForInsertThenRemovesIt", func(t *testing.T, d Database, opts sqlauth.Options) {
		// A transaction checks the user with a shared lock and inserts a
		// session (as SetSession does) and stays open; DeleteUser must wait
		// for it and then delete that session too.
		a, store := d.Open(t, opts)
		ctx := Context(t)
		user(t, a, "doomed", nil)
		tx := d.begin(t, store, a, "SELECT id FROM {users} WHERE id = ?{share}", "doomed")
		_, err := tx.ExecContext(ctx, d.sql(a, "INSERT INTO {sessions} (id, user_id, active_expires, idle_expires) VALUES (?, ?, 1, 2)"), "racing", "doomed")
		require.NoError(t, err)
		deleted := make(chan error, 1)
		go func() { deleted <- a.DeleteUser(ctx, "doomed") }()
		waitForLockWaiters(t, store, 1)
		require.NoError(t, tx.Commit())
		require.NoError(t, <-deleted)
		_, err = a.GetSession(ctx, "racing")
		require.ErrorIs(t, err, auth.ErrNotFound, "the session committed while DeleteUser waited must be deleted")
	}},
	{"OrphanRows", func(t *testing.T, d Database, opts sqlauth.Options) {
		// A session row whose user is missing, as another program could
		// write it: the foreign key refuses it; without one, it is no
		// session-and-user, and DeleteUser of its user id removes it.
		a, store := d.Open(t, opts)
		ctx := Context(t)
		_, err := store.DB.ExecContext(ctx, d.sql(a, "INSERT INTO {sessions} (id, user_id, active_expires, idle_expires) VALUES (?, ?, 1, 2)"), "orphan", "ghost")
		if !opts.NoForeignKeys {
			require.Equal(t, sqlauth.ForeignKeyViolation, d.Dialect.Classify(err), "the foreign key refuses orphans: %v", err)
			return
		}
		require.NoError(t, err, "NoForeignKeys tables have no foreign key")
		_, err = a.GetSession(ctx, "orphan")
		require.NoError(t, err)
		_, _, err = a.GetSessionAndUser(ctx, "orphan")
		require.ErrorIs(t, err, auth.ErrNotFound)
		require.NoError(t, a.DeleteUser(ctx, "ghost"))
		_, err = a.GetSession(ctx, "orphan")
		require.ErrorIs(t, err, auth.ErrNotFound, "DeleteUser removes what a missing user left behind")
	}},
	{"UnreadableAttributesAreDataError", func(t *testing.T, d Database, opts sqlauth.Options) {
		a, store := d.Open(t, opts)
		ctx := Context(t)
		_, err := store.DB.ExecContext(ctx, d.sql(a, "INSERT INTO {users} (id, attributes) VALUES (?, ?)"), "odd", `[1, 2]`)
		require.NoError(t, err)
		_, err = a.GetUser(ctx, "odd")
		var de *sqlauth.DataError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, "attributes", de.Column)
		assert.Equal(t, "odd", de.ID)
		_, err = a.UpdateUser(ctx, "odd", map[string]any{"x": int64(1)})
		require.ErrorAs(t, err, &de, "an update never overwrites what it cannot read")
	}},
	{"QualifiedReservedTableNames", func(t *testing.T, d Database, opts sqlauth.Options) {
		store := d.NewStore(t)
		ctx := Context(t)
		opts.UserTable, opts.SessionTable, opts.KeyTable = store.Name+".user", store.Name+".session", store.Name+".keys"
		a, err := d.New(ctx, store.DB, opts)
		require.NoError(t, err)
		require.NoError(t, a.CreateTables(ctx))
		k := auth.KeyRecord{ID: "email:x", UserID: "x", PrimaryKey: true}
		require.NoError(t, a.SetUser(ctx, auth.UserRecord{ID: "x"}, &k))
		require.NoError(t, a.SetSession(ctx, auth.SessionRecord{ID: "sx", UserID: "x"}))
		_, _, err = a.GetSessionAndUser(ctx, "sx")
		require.NoError(t, err)
		require.NoError(t, a.DeleteUser(ctx, "x"))
		requireAbsent(t, a, "sx", "email:x")
	}},
	{"CanceledContextDuringWait", func(t *testing.T, d Database, opts sqlauth.Options) {
		// A call blocked on a lock returns when its deadline passes, with
		// an error that says so.
		a, store := d.Open(t, opts)
		ctx := Context(t)
		user(t, a, "locked", nil)
		tx := d.begin(t, store, a, "DELETE FROM {users} WHERE id = ?", "locked")
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		err := a.SetSession(short, auth.SessionRecord{ID: "waiting", UserID: "locked"})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NoError(t, tx.Rollback())
		if d.CancelStopsStatement {
			_, err = a.GetSession(ctx, "waiting")
			require.ErrorIs(t, err, auth.ErrNotFound, "a statement cancelled in the server writes nothing")
			return
		}
		// The outcome is unknown, as after a lost connection; say which it was.
		_, err = a.GetSession(ctx, "waiting")
		t.Logf("outcome of the interrupted SetSession: session stored = %v", err == nil)
	}},
}

// requireAbsent fails t unless the session and the key are both absent.
func requireAbsent(t *testing.T, a *sqlauth.Adapter, sessionID, keyID string) {
	t.Helper()
	_, err := a.GetSession(Context(t), sessionID)
	require.ErrorIs(t, err, auth.ErrNotFound, "session %s", sessionID)
	_, err = a.GetKey(Context(t), keyID)
	require.ErrorIs(t, err, auth.ErrNotFound, "key %s", keyID)
}

// sql returns query with {users}, {sessions}, {keys} replaced by a's
// tables, {share} by the dialect's shared-lock clause, and '?' by its
// placeholders.
func (d Database) sql(a *sqlauth.Adapter, query string) string {
	syntax, s := d.Dialect.Syntax(), a.Schema()
	return syntax.Bind(strings.NewReplacer(
		"{users}", s.Users.Quoted(syntax),
		"{sessions}", s.Sessions.Quoted(syntax),
		"{keys}", s.Keys.Quoted(syntax),
		"{share}", syntax.LockForShare,
	).Replace(query))
}

// begin opens a transaction on the store that runs query (see sql) and
// stays open, holding the locks it took, until the test commits it or
// ends.
func (d Database) begin(t *testing.T, store Store, a *sqlauth.Adapter, query string, args ...any) *sql.Tx {
	t.Helper()
	ctx := Context(t)
	tx, err := store.DB.BeginTx(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback() })
	rows, err := tx.QueryContext(ctx, d.sql(a, query), args...)
	require.NoError(t, err)
	require.NoError(t, rows.Close())
	return tx
}

// waitForLockWaiters returns once n of the store's connections wait for a
// lock. Where the store cannot tell (SQLite), it pauses briefly: the
// waiters cannot get ahead of the open transaction either way, the pause
// only makes it likely that they are already waiting.
func waitForLockWaiters(t *testing.T, store Store, n int) {
	t.Helper()
	if store.LockWaiters == nil {
		time.Sleep(100 * time.Millisecond)
		return
	}
	ctx, cancel := context.WithTimeout(Context(t), 30*time.Second)
	defer cancel()
	for {
		got, err := store.LockWaiters(ctx)
		require.NoError(t, err)
		if got >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %d lock waiters: %v", n, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

type schemaTest struct {
	name string
	run  func(t *testing.T, d Database)
}

var schemaTests = []schemaTest{
	{"CreateTablesIsIdempotent", func(t *testing.T, d Database) {
		a, _ := d.Open(t, sqlauth.Options{})
		ctx := Context(t)
		user(t, a, "u", map[string]any{"a": int64(1)})
		require.NoError(t, a.CreateTables(ctx))
		require.NoError(t, a.CheckSchema(ctx))
		got, err := a.GetUser(ctx, "u")
		require.NoError(t, err, "a second CreateTables keeps the data")
		assert.Equal(t, int64(1), got.Attributes["a"])
	}},
	{"CheckSchemaFindsMissingTables", func(t *testing.T, d Database) {
		store := d.NewStore(t)
		a, err := d.New(Context(t), store.DB, sqlauth.Options{})
		require.NoError(t, err)
		var se *sqlauth.SchemaError
		require.ErrorAs(t, a.CheckSchema(Context(t)), &se)
		assert.Equal(t, sqlauth.DefaultUserTable, se.Table)
	}},
	{"ForeignKeyModeRefusesTablesWithout", func(t *testing.T, d Database) {
		store := d.NewStore(t)
		ctx := Context(t)
		plain, err := d.New(ctx, store.DB, sqlauth.Options{NoForeignKeys: true})
		require.NoError(t, err)
		require.NoError(t, plain.CreateTables(ctx))
		strict, err := d.New(ctx, store.DB, sqlauth.Options{})
		require.NoError(t, err)
		var se *sqlauth.SchemaError
		require.ErrorAs(t, strict.CheckSchema(ctx), &se)
		assert.Contains(t, se.Reason, "foreign key")
		require.ErrorAs(t, strict.CreateTables(ctx), &se, "CreateTables keeps existing tables, and says they lack foreign keys")
	}},
	{"NoForeignKeyModeAcceptsTablesWith", func(t *testing.T, d Database) {
		store := d.NewStore(t)
		ctx := Context(t)
		strict, err := d.New(ctx, store.DB, sqlauth.Options{})
		require.NoError(t, err)
		require.NoError(t, strict.CreateTables(ctx))
		plain, err := d.New(ctx, store.DB, sqlauth.Options{NoForeignKeys: true})
		require.NoError(t, err)
		require.NoError(t, plain.CheckSchema(ctx))
		user(t, plain, "u", nil)
		require.NoError(t, plain.SetSession(ctx, auth.SessionRecord{ID: "s", UserID: "u"}))
		require.NoError(t, plain.DeleteUser(ctx, "u"))
		_, err = plain.GetSession(ctx, "s")
		require.ErrorIs(t, err, auth.ErrNotFound)
	}},
	{"BadOptions", func(t *testing.T, d Database) {
		store := d.NewStore(t)
		for _, opts := range []sqlauth.Options{
			{UserTable: "a-b"},
			{SessionTable: "1abc"},
			{KeyTable: "a.b.c"},
			{KeyTable: `x"; DROP TABLE y; --`},
			{UserTable: strings.Repeat("x", 64)},
			{UserTable: "same", SessionTable: "same"},
		} {
			_, err := d.New(Context(t), store.DB, opts)
			require.Error(t, err, "%+v", opts)
			assert.True(t, strings.HasPrefix(err.Error(), "sqlauth: "), err.Error())
		}
	}},
	{"NewFailsOnUnreachableDatabase", func(t *testing.T, d Database) {
		store := d.NewStore(t)
		ctx, cancel := context.WithCancel(Context(t))
		cancel()
		_, err := d.New(ctx, store.DB, sqlauth.Options{})
		require.ErrorIs(t, err, context.Canceled)
	}},
}

// Benchmark measures the calls on the request path in both modes:
// GetSessionAndUser (every authenticated request) and SetSession (every
// sign-in and renewal), plus DeleteUser of a user with sessions and keys.
func Benchmark(b *testing.B, d Database) {
	for _, m := range Modes {
		b.Run(m.Name, func(b *testing.B) {
			a, _ := d.Open(b, sqlauth.Options{NoForeignKeys: m.NoForeignKeys})
			ctx := Context(b)
			user(b, a, "bench", map[string]any{"username": "bench", "age": int64(40), "admin": false})
			require.NoError(b, a.SetSession(ctx, auth.SessionRecord{ID: "bench-session", UserID: "bench", ActiveExpires: 1, IdleExpires: 2}))
			b.Run("GetSessionAndUser", func(b *testing.B) {
				for b.Loop() {
					if _, _, err := a.GetSessionAndUser(ctx, "bench-session"); err != nil {
						b.Fatal(err)
					}
				}
			})
			sessions := 0 // across runs of the sub-benchmark (-count), so ids stay new
			b.Run("SetSession", func(b *testing.B) {
				for b.Loop() {
					sessions++
					s := auth.SessionRecord{ID: fmt.Sprint("s-", sessions), UserID: "bench", ActiveExpires: 1, IdleExpires: 2}
					if err := a.SetSession(ctx, s); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("DeleteUserWith3SessionsAnd2Keys", func(b *testing.B) {
				n := 0
				for b.Loop() {
					b.StopTimer()
					n++
					id := fmt.Sprint("u-", n)
					k := auth.KeyRecord{ID: "email:" + id, UserID: id, PrimaryKey: true}
					require.NoError(b, a.SetUser(ctx, auth.UserRecord{ID: id}, &k))
					require.NoError(b, a.SetKey(ctx, auth.KeyRecord{ID: "otp:" + id, UserID: id}))
					for i := range 3 {
						require.NoError(b, a.SetSession(ctx, auth.SessionRecord{ID: fmt.Sprint(id, "-", i), UserID: id}))
					}
					b.StartTimer()
					if err := a.DeleteUser(ctx, id); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// DocumentsDDL checks that the package documentation in file (a source
// file of the calling package) shows the statements CreateTables runs for
// the default options, tab-indented, and the throttle table's that
// Options.ThrottleTable adds, so the documented DDL cannot drift from the
// DDL that runs.
func DocumentsDDL(t *testing.T, file string, dialect sqlauth.Dialect) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ParseComments|parser.PackageClauseOnly)
	require.NoError(t, err)
	require.NotNil(t, f.Doc, "%s has no package documentation", file)
	stmts, err := sqlauth.CreateTablesSQL(dialect, sqlauth.Options{})
	require.NoError(t, err)
	withThrottle, err := sqlauth.CreateTablesSQL(dialect, sqlauth.Options{ThrottleTable: sqlauth.DefaultThrottleTable})
	require.NoError(t, err)
	require.Equal(t, stmts, withThrottle[:len(stmts)], "the throttle table's statements come last")
	for _, part := range [][]string{stmts, withThrottle[len(stmts):]} {
		var want strings.Builder
		for _, stmt := range part {
			for line := range strings.Lines(stmt + "\n") {
				want.WriteString("\t" + line)
			}
		}
		assert.Contains(t, f.Doc.Text(), want.String(), "the package documentation of %s shows other DDL than CreateTables runs", file)
	}
}
