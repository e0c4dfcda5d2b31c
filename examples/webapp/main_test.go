package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/mongotest"
)

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m)) }

// startApp serves the app's handler on a test server over a fresh
// database, as run -dev does (Development cookies, for plain HTTP);
// configure may change the auth configuration.
func startApp(t *testing.T, configure ...func(*auth.Config)) (baseURL string, db *mongo.Database) {
	t.Helper()
	_, baseURL, db = startTestApp(t, configure...)
	return baseURL, db
}

// startTestApp is startApp that also returns the app.
func startTestApp(t *testing.T, configure ...func(*auth.Config)) (a *app, baseURL string, db *mongo.Database) {
	t.Helper()
	db = mongotest.Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := newApp(ctx, db, true, configure...)
	require.NoError(t, err)
	server := httptest.NewUnstartedServer(a.routes())
	a.baseURL = "http://" + server.Listener.Addr().String() // for the links in mail (recovery.go)
	server.Start()
	t.Cleanup(server.Close)
	return a, server.URL, db
}

// stored counts what the database holds of a user: the user document,
// sessions and keys.
type stored struct{ Users, Sessions, Keys int64 }

func storedFor(t *testing.T, db *mongo.Database, userID string) stored {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	count := func(collection string, filter bson.D) int64 {
		n, err := db.Collection(collection).CountDocuments(ctx, filter)
		require.NoError(t, err)
		return n
	}
	return stored{
		Users:    count(mongoauth.DefaultUserCollection, bson.D{{Key: "_id", Value: userID}}),
		Sessions: count(mongoauth.DefaultSessionCollection, bson.D{{Key: "user_id", Value: userID}}),
		Keys:     count(mongoauth.DefaultKeyCollection, bson.D{{Key: "user_id", Value: userID}}),
	}
}

// countUsers counts all users in db.
func countUsers(t *testing.T, db *mongo.Database) int64 {
	t.Helper()
	n, err := db.Collection(mongoauth.DefaultUserCollection).CountDocuments(t.Context(), bson.D{})
	require.NoError(t, err)
	return n
}

// userIDOf looks the user id up through the username key, as stored.
func userIDOf(t *testing.T, db *mongo.Database, username string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var key struct {
		UserID string `bson:"user_id"`
	}
	err := db.Collection(mongoauth.DefaultKeyCollection).
		FindOne(ctx, bson.D{{Key: "_id", Value: usernameProvider + ":" + username}}).Decode(&key)
	require.NoError(t, err, "the key of %q", username)
	require.NotEmpty(t, key.UserID)
	return key.UserID
}

// setStoredHash replaces the password hash of username's key in the
// database, as another application could have stored it.
func setStoredHash(t *testing.T, db *mongo.Database, username, hash string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := db.Collection(mongoauth.DefaultKeyCollection).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: usernameProvider + ":" + username}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "hashed_password", Value: hash}}}})
	require.NoError(t, err)
	require.Equal(t, int64(1), res.MatchedCount, "the key of %q", username)
}

// visitor is a plain HTTP client with its own cookie jar. It does not
// follow redirects, so that tests see them, and sends the Origin header
// a browser sends with forms, unless origin is changed.
type visitor struct {
	t      *testing.T
	base   string
	origin string
	client *http.Client
	// userAgent, when set, is sent as the User-Agent header.
	userAgent string
}

func newVisitor(t *testing.T, baseURL string) *visitor {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &visitor{t: t, base: baseURL, origin: baseURL, client: &http.Client{
		Jar:           jar,
		Timeout:       time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is what a test looks at: status, Location, Retry-After and
// body.
type response struct {
	Status     int
	Location   string
	RetryAfter string
	Body       string
}

func (v *visitor) do(req *http.Request) response {
	v.t.Helper()
	if v.userAgent != "" {
		req.Header.Set("User-Agent", v.userAgent)
	}
	res, err := v.client.Do(req)
	require.NoError(v.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(v.t, err)
	return response{Status: res.StatusCode, Location: res.Header.Get("Location"), RetryAfter: res.Header.Get("Retry-After"), Body: string(body)}
}

func (v *visitor) get(path string) response {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodGet, v.base+path, nil)
	require.NoError(v.t, err)
	return v.do(req)
}

// post sends a form: name, value, name, value...
func (v *visitor) post(path string, fields ...string) response {
	v.t.Helper()
	form := url.Values{}
	for i := 0; i+1 < len(fields); i += 2 {
		form.Add(fields[i], fields[i+1])
	}
	req, err := http.NewRequest(http.MethodPost, v.base+path, strings.NewReader(form.Encode()))
	require.NoError(v.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if v.origin != "" {
		req.Header.Set("Origin", v.origin)
	}
	return v.do(req)
}

// message returns the unescaped text of the page's element with the given
// id ("error" or "notice"), or "" if there is none.
func (r response) message(id string) string {
	_, rest, found := strings.Cut(r.Body, ` id="`+id+`"`)
	if !found {
		return ""
	}
	_, rest, _ = strings.Cut(rest, ">")
	text, _, _ := strings.Cut(rest, "</p>")
	return html.UnescapeString(text)
}
