package main

import (
	"net/http"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
)

func TestParseUserAgent(t *testing.T) {
	for _, tc := range []struct{ ua, browser, os string }{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox", "Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome", "Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge", "Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari", "macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari", "iOS"},
		{"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1", "Chrome", "iPadOS"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36", "Chrome", "Android"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome", "ChromeOS"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36", "Chrome", "Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0", "Opera", "Windows"},
		{"curl/8.5.0", "Unknown browser", "unknown system"},
		{"", "Unknown browser", "unknown system"},
	} {
		browser, os := parseUserAgent(tc.ua)
		assert.Equal(t, tc.browser, browser, tc.ua)
		assert.Equal(t, tc.os, os, tc.ua)
	}
}

// sessionIDs are the ids of the user's stored sessions.
func sessionIDs(t *testing.T, db *mongo.Database, userID string) []string {
	t.Helper()
	cur, err := db.Collection(mongoauth.DefaultSessionCollection).Find(t.Context(), bson.D{{Key: "user_id", Value: userID}})
	require.NoError(t, err)
	var docs []struct {
		ID string `bson:"_id"`
	}
	require.NoError(t, cur.All(t.Context(), &docs))
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids
}

var handleField = regexp.MustCompile(`name="session" value="([^"]*)"`)

// handles are the session handles in the forms of a home page.
func (r response) handles() []string {
	var out []string
	for _, m := range handleField.FindAllStringSubmatch(r.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestEndSession: the sessions list names each other session by a handle,
// never its id, and signs it out with its own button; a handle or id of
// another user's session is refused exactly as one that names nothing.
func TestEndSession(t *testing.T) {
	a, base, db := startTestApp(t)
	laptop, phone, bob := newVisitor(t, base), newVisitor(t, base), newVisitor(t, base)
	require.Equal(t, http.StatusSeeOther, laptop.post("/signup", "username", "ann", "password", "ann's password").Status)
	require.Equal(t, http.StatusSeeOther, phone.post("/login", "username", "ann", "password", "ann's password").Status)
	require.Equal(t, http.StatusSeeOther, bob.post("/signup", "username", "bob", "password", "bob's password").Status)
	ann, bobID := userIDOf(t, db, "ann"), userIDOf(t, db, "bob")
	annSessions, bobSessions := sessionIDs(t, db, ann), sessionIDs(t, db, bobID)
	require.Len(t, annSessions, 2)
	require.Len(t, bobSessions, 1)

	home := laptop.get("/")
	require.Equal(t, http.StatusOK, home.Status)
	for _, id := range annSessions {
		assert.NotContains(t, home.Body, id, "a session id in the page")
	}
	handles := home.handles()
	require.Len(t, handles, 1, "one button: the other session's")
	assert.Contains(t, home.Body, "Unknown browser on unknown system", "Go's client names no browser")

	// Refusals: each answered alike, with nothing changed.
	notFound := func(value string) response {
		t.Helper()
		res := laptop.post("/sessions/end", "session", value)
		assert.Equal(t, http.StatusNotFound, res.Status, value)
		assert.Equal(t, msgSessionNotFound, res.message("error"), value)
		return res
	}
	nothing := notFound("no-such-handle")
	for _, value := range []string{a.handles.of(bobSessions[0]), bobSessions[0], "", annSessions[0]} {
		assert.Equal(t, nothing.Body, notFound(value).Body, "the answer for %q tells nothing", value)
	}
	assert.Equal(t, stored{Users: 1, Sessions: 1, Keys: 1}, storedFor(t, db, bobID), "bob's session is untouched")
	assert.Equal(t, http.StatusOK, bob.get("/").Status)
	assert.Equal(t, stored{Users: 1, Sessions: 2, Keys: 1}, storedFor(t, db, ann))

	// The laptop signs the phone out by its button's handle.
	res := laptop.post("/sessions/end", "session", handles[0])
	require.Equal(t, http.StatusSeeOther, res.Status, res.message("error"))
	assert.Equal(t, "/?done=session-ended", res.Location)
	assert.Equal(t, "That session has been signed out.", laptop.get(res.Location).message("notice"))
	assert.Equal(t, "/login", phone.get("/").Location, "the phone is logged out")
	assert.Equal(t, stored{Users: 1, Sessions: 1, Keys: 1}, storedFor(t, db, ann))
	assert.Empty(t, laptop.get("/").handles())

	// The laptop's own handle (it has no button) logs it out.
	res = laptop.post("/sessions/end", "session", a.handles.of(sessionIDs(t, db, ann)[0]))
	assert.Equal(t, "/login?done=logged-out", res.Location)
	assert.Equal(t, stored{Users: 1, Keys: 1}, storedFor(t, db, ann))
}

// TestSessionsShowTheirDevices: a session stores the browser and system of
// its login, when it was created and when it was last seen, and nothing
// else about the request.
func TestSessionsShowTheirDevices(t *testing.T) {
	var clock atomic.Pointer[time.Time]
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	clock.Store(&start)
	_, base, db := startTestApp(t, func(c *auth.Config) { c.Now = func() time.Time { return *clock.Load() } })
	v := newVisitor(t, base)
	v.userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	require.Equal(t, http.StatusSeeOther, v.post("/signup", "username", "ann", "password", "ann's password").Status)
	ann := userIDOf(t, db, "ann")
	var doc bson.M
	require.NoError(t, db.Collection(mongoauth.DefaultSessionCollection).FindOne(t.Context(), bson.D{{Key: "user_id", Value: ann}}).Decode(&doc))
	delete(doc, "_id")
	assert.Equal(t, bson.M{
		"user_id": ann, "active_expires": start.Add(24 * time.Hour).UnixMilli(), "idle_expires": start.Add(15 * 24 * time.Hour).UnixMilli(),
		"issued_at": start.UnixMilli(),
		"browser":   "Firefox", "os": "Linux", "created_at": bson.DateTime(start.UnixMilli()), "last_seen": bson.DateTime(start.UnixMilli()),
	}, doc, "what a session stores")
	home := v.get("/")
	assert.Contains(t, home.Body, "Firefox on Linux")
	assert.Contains(t, home.Body, "Signed in 1 May 2024 12:00 UTC")
	assert.Contains(t, home.Body, "last seen 1 May 2024 12:00 UTC")

	later := start.Add(lastSeenInterval - time.Second)
	clock.Store(&later)
	assert.Contains(t, v.get("/").Body, "last seen 1 May 2024 12:00 UTC", "not yet due")
	later = start.Add(lastSeenInterval)
	clock.Store(&later)
	assert.Contains(t, v.get("/").Body, "last seen 1 May 2024 12:05 UTC", "last seen follows the requests")
}
