package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests drive the app with plain HTTP requests; browser_test.go
// walks the same pages in Chromium.

func TestSignupMessages(t *testing.T) {
	base, db := startApp(t)
	v := newVisitor(t, base)

	for _, tc := range []struct {
		name, username, password string
		status                   int
		message                  string
	}{
		{"empty username", "", "long enough", http.StatusUnprocessableEntity, "Choose a username."},
		{"short username", "al", "long enough", http.StatusUnprocessableEntity, "The username must have 3 to 32 characters."},
		{"username with a space", "ann lee", "long enough", http.StatusUnprocessableEntity, "The username may contain only letters a-z, digits, '-' and '_'."},
		{"empty password", "ann", "", http.StatusUnprocessableEntity, "Choose a password."},
		{"short password", "ann", "1234567", http.StatusUnprocessableEntity, "The password is too short: use at least 8 characters."},
		{"long password", "ann", strings.Repeat("p", 257), http.StatusUnprocessableEntity, "The password is too long: use at most 256 characters."},
		{"password with NUL", "ann", "long\x00enough", http.StatusUnprocessableEntity, "The password contains characters that cannot be used."},
		{"password not UTF-8", "ann", "long \xffnough", http.StatusUnprocessableEntity, "The password contains characters that cannot be used."},
	} {
		res := v.post("/signup", "username", tc.username, "password", tc.password)
		assert.Equal(t, tc.status, res.Status, tc.name)
		assert.Equal(t, tc.message, res.message("error"), tc.name)
	}
	// None of the refused sign-ups stored anything.
	require.Zero(t, countUsers(t, db))

	// Eight characters are enough; the username is stored lower-case.
	res := v.post("/signup", "username", " Ann ", "password", "12345678")
	require.Equal(t, http.StatusSeeOther, res.Status, res.message("error"))
	require.Equal(t, "/", res.Location)
	userID := userIDOf(t, db, "ann")

	// A second visitor cannot take the name, in any case.
	other := newVisitor(t, base)
	res = other.post("/signup", "username", "ANN", "password", "another password")
	assert.Equal(t, http.StatusConflict, res.Status)
	assert.Equal(t, `The username "ann" is taken. Please choose another one.`, res.message("error"))
	assert.Equal(t, stored{Users: 1, Sessions: 1, Keys: 1}, storedFor(t, db, userID))
	assert.Equal(t, int64(1), countUsers(t, db), "the refused sign-up left no user behind")
}

func TestLoginMessages(t *testing.T) {
	base, _ := startApp(t)
	newVisitor(t, base).post("/signup", "username", "bob", "password", "bob's password")

	v := newVisitor(t, base)
	for _, tc := range []struct {
		name, username, password string
		status                   int
		message                  string
	}{
		{"wrong password", "bob", "not bob's password", http.StatusUnauthorized, msgWrongLogin},
		{"unknown user", "nobody", "bob's password", http.StatusUnauthorized, msgWrongLogin},
		{"empty password", "bob", "", http.StatusUnprocessableEntity, msgMissingLogin},
		{"empty username", "", "bob's password", http.StatusUnprocessableEntity, msgMissingLogin},
	} {
		res := v.post("/login", "username", tc.username, "password", tc.password)
		assert.Equal(t, tc.status, res.Status, tc.name)
		assert.Equal(t, tc.message, res.message("error"), tc.name)
		assert.Equal(t, http.StatusSeeOther, v.get("/").Status, "%s: still logged out", tc.name)
	}

	res := v.post("/login", "username", "Bob", "password", "bob's password")
	require.Equal(t, http.StatusSeeOther, res.Status, res.message("error"))
	home := v.get("/")
	require.Equal(t, http.StatusOK, home.Status)
	assert.Contains(t, home.Body, `<strong id="username">bob</strong>`)
}

func TestAccountPagesCheckThePassword(t *testing.T) {
	base, db := startApp(t)
	v := newVisitor(t, base)
	v.post("/signup", "username", "cat", "password", "cat's password")
	userID := userIDOf(t, db, "cat")

	res := v.post("/password", "current", "wrong", "new", "a new password")
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, msgWrongPassword, res.message("error"))
	res = v.post("/password", "current", "cat's password", "new", "short")
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status)
	assert.Equal(t, "The password is too short: use at least 8 characters.", res.message("error"))

	res = v.post("/delete", "password", "wrong")
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, msgWrongPassword, res.message("error"))
	assert.Equal(t, stored{Users: 1, Sessions: 1, Keys: 1}, storedFor(t, db, userID))

	// The password is unchanged: the old one still logs in.
	res = newVisitor(t, base).post("/login", "username", "cat", "password", "cat's password")
	assert.Equal(t, http.StatusSeeOther, res.Status, res.message("error"))
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	base, db := startApp(t)
	v := newVisitor(t, base)
	v.post("/signup", "username", "dan", "password", "dan's password")
	userID := userIDOf(t, db, "dan")
	before := storedFor(t, db, userID)

	otherPort := "http://127.0.0.1:1"
	require.NotEqual(t, otherPort, base)
	for _, origin := range []string{"http://evil.example", "null", otherPort} {
		v.origin = origin
		for _, post := range [][]string{
			{"/delete", "password", "dan's password"},
			{"/password", "current", "dan's password", "new", "the attacker's password"},
			{"/sessions/end-others"},
			{"/logout"},
			{"/login", "username", "dan", "password", "dan's password"},
		} {
			res := v.post(post[0], post[1:]...)
			assert.Equal(t, http.StatusForbidden, res.Status, "POST %s from origin %q", post[0], origin)
			assert.Equal(t, msgCrossOrigin, res.message("error"), "POST %s from origin %q", post[0], origin)
		}
	}
	// Nothing changed: same user, session and key; the password still
	// works and the visitor is still logged in.
	assert.Equal(t, before, storedFor(t, db, userID))
	assert.Equal(t, http.StatusOK, v.get("/").Status)
	res := newVisitor(t, base).post("/login", "username", "dan", "password", "dan's password")
	assert.Equal(t, http.StatusSeeOther, res.Status, res.message("error"))
}

func TestVisitorsAreSentToLogin(t *testing.T) {
	base, _ := startApp(t)
	v := newVisitor(t, base)
	for _, path := range []string{"/", "/password", "/delete"} {
		res := v.get(path)
		assert.Equal(t, http.StatusSeeOther, res.Status, path)
		assert.Equal(t, "/login", res.Location, path)
	}
	res := v.post("/logout")
	assert.Equal(t, "/login", res.Location)
}

func TestOversizedFormsAreRefused(t *testing.T) {
	base, db := startApp(t)
	res := newVisitor(t, base).post("/signup", "username", "fay", "password", strings.Repeat("p", maxFormBytes))
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.Status)
	assert.Zero(t, countUsers(t, db))
}

// A key whose hash is bcrypt (written by an older app) cannot be checked:
// the core says ErrOutdatedPassword whatever the password. The login page
// answers it as any failed login, so that it does not tell which
// usernames exist; the account pages, where the user is known, say why.
func TestOutdatedPasswordHash(t *testing.T) {
	base, db := startApp(t)
	v := newVisitor(t, base)
	require.Equal(t, http.StatusSeeOther, v.post("/signup", "username", "dan", "password", "dan's password").Status)
	setStoredHash(t, db, "dan", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy")

	res := newVisitor(t, base).post("/login", "username", "dan", "password", "dan's password")
	assert.Equal(t, http.StatusUnauthorized, res.Status, res.Body)
	assert.Equal(t, msgWrongLogin, res.message("error"), "as for an unknown username")

	for _, page := range []struct{ path, field string }{{"/password", "current"}, {"/delete", "password"}} {
		res := v.post(page.path, page.field, "dan's password", "new", "a new password")
		assert.Equal(t, http.StatusUnauthorized, res.Status, "%s: %s", page.path, res.Body)
		assert.Equal(t, msgOutdatedPassword, res.message("error"), page.path)
	}
}
