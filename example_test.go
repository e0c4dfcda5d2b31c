package mongoauth_test

// The examples run in go test against the test server: TestMain
// (mongotest.MainWithURI) sets MONGODB_URI to a server of the tests' own.
// The README's Go blocks are copied from here, and readme_test.go checks
// that each still appears in this file or in examples/quickstart.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/sqlauth"
	"github.com/luciago/mongoauth/sqlauth/sqlite"
)

// Profile is an application's user attributes.
type Profile struct {
	Username string `auth:"username"`
}

// exampleDB connects to MONGODB_URI as an application does, and returns a
// database of that name and a function that drops it.
func exampleDB(ctx context.Context, name string) (*mongo.Database, func()) {
	client, err := mongo.Connect(options.Client().ApplyURI(os.Getenv("MONGODB_URI")))
	if err != nil {
		log.Fatal(err)
	}
	db := client.Database(name)
	return db, func() {
		_ = db.Drop(ctx)
		_ = client.Disconnect(ctx)
	}
}

// exampleAuth is the README's setup: an adapter with its indexes, and the
// core over it.
func exampleAuth(ctx context.Context, name string, config auth.Config) (*mongoauth.Adapter, *auth.Auth[Profile], func()) {
	db, drop := exampleDB(ctx, name)
	adapter, err := mongoauth.New(ctx, db, mongoauth.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := adapter.EnsureIndexes(ctx); err != nil {
		log.Fatal(err)
	}
	a, err := auth.New[Profile](adapter, config)
	if err != nil {
		log.Fatal(err)
	}
	return adapter, a, drop
}

func ExampleNew() {
	ctx := context.Background()
	db, drop := exampleDB(ctx, "example_new")
	defer drop()

	adapter, err := mongoauth.New(ctx, db, mongoauth.Options{})
	if err != nil {
		log.Fatal(err)
	}
	report, err := adapter.EnsureIndexes(ctx) // collections and indexes; once, at start
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("transactions: %v (%s); read path: %s (%s)", adapter.UsesTransactions(),
		adapter.TransactionsReason(), adapter.ReadPath(), adapter.ReadPathReason())

	fmt.Println(report.Created)
	// Output: [auth_session.user_id_1 auth_key.user_id_1]
}

// Users, keys and sessions without HTTP.
func Example_usersKeysAndSessions() {
	ctx := context.Background()
	_, a, drop := exampleAuth(ctx, "example_users", auth.Config{})
	defer drop()
	password, newPassword, token := "correct horse", "battery staple", "one-time-token-1234"

	user, err := a.CreateUser(ctx, Profile{Username: "ann"}, // the user and its key, or neither
		&auth.KeyParams{ProviderID: "username", ProviderUserID: "ann", Password: password})
	if errors.Is(err, auth.ErrDuplicateKeyID) {
		log.Fatal("username taken; no user was created")
	}
	_, session, err := a.UseKeyAndCreateSession(ctx, "username", "ann", password) // a login without HTTP
	if err != nil {
		log.Fatal(err)
	}
	_, user, err = a.ValidateSessionUser(ctx, session.Token) // every request: the middleware does it
	fmt.Println(user.Attributes.Username, err)

	// A one-time login link: a key that works once.
	if _, err := a.CreateKey(ctx, user.ID, auth.KeyParams{ProviderID: "link", ProviderUserID: token, ExpiresIn: 15 * time.Minute}); err != nil {
		log.Fatal(err)
	}
	if _, err := a.UseKey(ctx, "link", token, ""); err != nil { // auth.ErrExpiredKey when late
		log.Fatal(err)
	}
	if _, err := a.UpdateKeyPassword(ctx, "username", "ann", newPassword); err != nil {
		log.Fatal(err)
	}
	if err := a.InvalidateUserSessions(ctx, user.ID); err != nil { // log out everywhere
		log.Fatal(err)
	}
	sessions, err := a.UserSessions(ctx, user.ID) // "your devices"
	fmt.Println(len(sessions), err)
	if err := a.DeleteUser(ctx, user.ID); err != nil { // also its keys and sessions
		log.Fatal(err)
	}
	_, err = a.UseKey(ctx, "link", token, "")
	fmt.Println(errors.Is(err, auth.ErrInvalidKeyID))
	_, err = a.GetUser(ctx, user.ID)
	fmt.Println(errors.Is(err, auth.ErrInvalidUserID))
	// Output:
	// ann <nil>
	// 0 <nil>
	// true
	// true
}

// browserOf names the browser of a User-Agent header, crudely.
func browserOf(userAgent string) string {
	if userAgent == "" {
		return "unknown"
	}
	return "Firefox"
}

func ExampleSessionAttributes() {
	ctx := context.Background()
	db, drop := exampleDB(ctx, "example_sattrs")
	defer drop()
	adapter, err := mongoauth.New(ctx, db, mongoauth.Options{})
	if err != nil {
		log.Fatal(err)
	}

	type Device struct { // what a "your devices" page shows
		Browser  string    `auth:"browser"`
		Created  time.Time `auth:"created_at"`
		LastSeen time.Time `auth:"last_seen,omitempty"`
	}
	a, err := auth.New[Profile](adapter, auth.Config{
		SessionAttributes: func(r *http.Request) any { // at LogIn, SignUp and StartSession
			return Device{Browser: browserOf(r.UserAgent()), Created: time.Now()}
		},
		LastSeenAttribute: "last_seen", // validation keeps it current, at most hourly
	})
	if err != nil {
		log.Fatal(err)
	}
	user, err := a.CreateUser(ctx, Profile{Username: "ann"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	session, err := a.CreateSessionWithAttributes(ctx, user.ID, Device{Browser: "curl"}) // without HTTP
	if err != nil {
		log.Fatal(err)
	}
	device, err := auth.SessionAttributes[Device](session) // any Session: context, UserSessions, ...
	fmt.Println(device.Browser, err)
	err = a.UpdateSessionAttributes(ctx, session.ID, map[string]any{"browser": "Safari"}) // one write
	fmt.Println(err)
	// Output:
	// curl <nil>
	// <nil>
}

// Run Repair periodically where the server has no TTL indexes (FerretDB,
// or without Options.SessionTTL): it deletes expired sessions and keys and
// orphans, and leaves alone what needs a person (see Report).
func ExampleAdapter_Repair() {
	ctx := context.Background()
	adapter, _, drop := exampleAuth(ctx, "example_repair", auth.Config{})
	defer drop()

	found, err := adapter.Check(ctx, mongoauth.RepairOptions{})   // reads only
	fixed, err2 := adapter.Repair(ctx, mongoauth.RepairOptions{}) // fixes what is safe
	if err := errors.Join(err, err2); err != nil {
		log.Fatal(err)
	}
	fmt.Println(found.OrphanSessions.Found, fixed.ExpiredSessions.Deleted, fixed.Unreadable.Found)
	// Output: 0 0 0
}

// With SessionTTL the server deletes dead sessions itself, where it supports
// TTL indexes; EnsureIndexes says whether it does.
func ExampleOptions_sessionTTL() {
	ctx := context.Background()
	db, drop := exampleDB(ctx, "example_ttl")
	defer drop()
	adapter, err := mongoauth.New(ctx, db, mongoauth.Options{SessionTTL: true})
	if err != nil {
		log.Fatal(err)
	}
	report, err := adapter.EnsureIndexes(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if len(report.Unsupported) > 0 {
		log.Printf("no TTL indexes on this server (%v): run Repair periodically", report.Unsupported)
	}
	fmt.Println(len(report.Unsupported) + len(report.Created))
	// Output: 3
}

// Every instance of the application counts failed logins in one
// collection, so that N instances do not give an attacker N allowances.
func ExampleAdapter_ThrottleStore() {
	ctx := context.Background()
	db, drop := exampleDB(ctx, "example_throttle")
	defer drop()
	adapter, err := mongoauth.New(ctx, db, mongoauth.Options{
		ThrottleCollection: mongoauth.DefaultThrottleCollection,
	})
	if err != nil {
		log.Fatal(err)
	}
	// The collection and its TTL index (records go once they hold no debt).
	if _, err := adapter.EnsureIndexes(ctx); err != nil {
		log.Fatal(err)
	}
	store, err := adapter.ThrottleStore()
	if err != nil {
		log.Fatal(err)
	}
	_, err = auth.New[Profile](adapter, auth.Config{ThrottleStore: store})
	fmt.Println(err)
	// Output: <nil>
}

// Beside a running Lucia v1 application, on its database.
func Example_luciaV1() {
	ctx := context.Background()
	db, drop := exampleDB(ctx, "example_lucia")
	defer drop()
	adapter, err := mongoauth.New(ctx, db, mongoauth.Options{})
	if err != nil {
		log.Fatal(err)
	}

	// Session ids unhashed, auth.LuciaScrypt, Lucia's cookie name auth_session:
	a, err := auth.New[Profile](adapter, auth.Config{LuciaV1: true})
	if err != nil {
		log.Fatal(err)
	}
	w := httptest.NewRecorder()
	a.ClearSessionCookie(w)
	fmt.Println(w.Result().Cookies()[0].Name)
	// Output: auth_session
}

// The same core on a relational database: here SQLite, in a file.
func Example_relational() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.db")

	db, err := sql.Open("sqlite", sqlite.DSN(path)) // or postgres.New, mysql.New: the same calls
	if err != nil {
		log.Fatal(err)
	}
	adapter, err := sqlite.New(ctx, db, sqlauth.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := adapter.CreateTables(ctx); err != nil { // idempotent; once, at start
		log.Fatal(err)
	}
	a, err := auth.New[Profile](adapter, auth.Config{}) // as with MongoDB
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	user, err := a.CreateUser(ctx, Profile{Username: "ann"}, nil)
	fmt.Println(user.Attributes.Username, err)
	// Output: ann <nil>
}
