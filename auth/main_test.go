package auth_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/mongotest"
	"github.com/luciago/mongoauth/sqlauth"
	"github.com/luciago/mongoauth/sqlauth/sqlite"
)

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m)) }

// testClock is Config.Now for tests: time moves only when told to.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// profile is the attribute type most tests use.
type profile struct {
	Username string    `auth:"username"`
	Age      int       `auth:"age,omitempty"`
	Joined   time.Time `auth:"joined,omitempty"`
}

// env is one test's Auth over a counting wrapper of an adapter.
type env struct {
	t       *testing.T
	ctx     context.Context
	clock   *testClock
	counter *countingAdapter
	a       *auth.Auth[profile]
}

// backend makes a fresh, empty adapter for a test.
type backend struct {
	name       string
	newAdapter func(t *testing.T) auth.Adapter
}

// withoutGetter hides an adapter's SessionAndUserGetter.
type withoutGetter struct{ auth.Adapter }

var memoryBackends = []backend{
	{"Memory", func(*testing.T) auth.Adapter { return newMemoryAdapter() }},
	{"MemoryWithoutGetter", func(*testing.T) auth.Adapter { return withoutGetter{newMemoryAdapter()} }},
}

// mongoBackend is the real MongoDB adapter over a fresh database of the
// mongotest server (MONGODB_URI, Docker, or an embedded FerretDB).
var mongoBackend = backend{"MongoDB", func(t *testing.T) auth.Adapter {
	return newMongoAdapter(t, mongotest.Database(t))
}}

// sqliteBackend is the SQL adapter over a fresh SQLite file: the core runs
// unchanged on a relational database too.
var sqliteBackend = backend{"SQLite", func(t *testing.T) auth.Adapter {
	db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(t.TempDir(), "auth.db")))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := sqlite.New(ctx, db, sqlauth.Options{})
	require.NoError(t, err)
	require.NoError(t, a.CreateTables(ctx))
	return a
}}

func newMongoAdapter(t *testing.T, db *mongo.Database) *mongoauth.Adapter {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := mongoauth.New(ctx, db, mongoauth.Options{})
	require.NoError(t, err)
	_, err = a.EnsureIndexes(ctx)
	require.NoError(t, err)
	return a
}

// newEnv returns an Auth over a counting wrapper of adapter, with a test
// clock and the fast hasher; configure may change the Config further.
func newEnv(t *testing.T, adapter auth.Adapter, configure func(*auth.Config)) *env {
	t.Helper()
	e := &env{t: t, clock: newTestClock()}
	var wrapped auth.Adapter
	switch optionalInterfaces(adapter) {
	case 5:
		g := &countingGetterAdapter{countingAdapter{Adapter: adapter}}
		e.counter, wrapped = &g.countingAdapter, g
	case 0:
		e.counter = &countingAdapter{Adapter: adapter}
		wrapped = e.counter
	default:
		t.Fatalf("no counting wrapper for %T", adapter)
	}
	config := auth.Config{Now: e.clock.Now, PasswordHasher: auth.InsecureFastHasher()}
	if configure != nil {
		configure(&config)
	}
	var err error
	e.a, err = auth.New[profile](wrapped, config)
	require.NoError(t, err)
	// Failed logins are held to a floor that Lucia's scrypt formats set
	// to about 90 ms (timing.go); tests skip measuring them and the wait,
	// except those of the timing itself (newTimedEnv).
	auth.SetLoginTiming(e.a, time.Now, func(context.Context, time.Duration) {}, false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	e.ctx = ctx
	return e
}

// optionalInterfaces counts the optional adapter interfaces adapter
// implements; the counting wrappers pass on all of them or none.
func optionalInterfaces(adapter auth.Adapter) int {
	n := 0
	for _, ok := range []bool{
		is[auth.SessionAndUserGetter](adapter), is[auth.KeyConsumer](adapter), is[auth.KeyPasswordReplacer](adapter),
		is[auth.SessionUpdater](adapter), is[auth.ExpiredSessionDeleter](adapter),
	} {
		if ok {
			n++
		}
	}
	return n
}

func is[T any](v any) bool {
	_, ok := v.(T)
	return ok
}

// user creates a user with a primary "username" key and password.
func (e *env) user(username, password string) auth.User[profile] {
	e.t.Helper()
	u, err := e.a.CreateUser(e.ctx, profile{Username: username},
		&auth.KeyParams{ProviderID: "username", ProviderUserID: username, Password: password})
	require.NoError(e.t, err)
	return u
}

// session creates a session for the user.
func (e *env) session(userID string) auth.Session {
	e.t.Helper()
	s, err := e.a.CreateSession(e.ctx, userID)
	require.NoError(e.t, err)
	return s
}
