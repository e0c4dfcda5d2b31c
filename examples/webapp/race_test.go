package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// An account deleted in one browser while another browser of the same
// account logs in or changes the password: the other browser must be
// answered as a logged-out visitor, never with a server error. A
// holdingHasher stops the other request right after its password check,
// the account is deleted, and then the request goes on: the race, every
// time.

// holdingHasher holds the next Verify, once it has checked the password,
// until the test releases it.
type holdingHasher struct {
	auth.PasswordHasher
	mu   sync.Mutex
	next chan<- chan struct{}
}

// holdNextVerify arms the hold and returns a channel that yields, once the
// held Verify has checked the password, the channel to close to release it.
func (h *holdingHasher) holdNextVerify() <-chan chan struct{} {
	arrived := make(chan chan struct{}, 1)
	h.mu.Lock()
	h.next = arrived
	h.mu.Unlock()
	return arrived
}

func (h *holdingHasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	ok, err := h.PasswordHasher.Verify(ctx, hash, password)
	h.mu.Lock()
	arrived := h.next
	h.next = nil
	h.mu.Unlock()
	if arrived != nil {
		release := make(chan struct{})
		arrived <- release
		select {
		case <-release:
		case <-ctx.Done():
		}
	}
	return ok, err
}

// postAsync sends a form from v in the background; the response (or the
// transport error) arrives on the channel.
func (v *visitor) postAsync(path string, fields ...string) <-chan response {
	form := url.Values{}
	for i := 0; i+1 < len(fields); i += 2 {
		form.Add(fields[i], fields[i+1])
	}
	done := make(chan response, 1)
	go func() {
		req, err := http.NewRequest(http.MethodPost, v.base+path, strings.NewReader(form.Encode()))
		if err != nil {
			done <- response{Body: err.Error()}
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", v.origin)
		res, err := v.client.Do(req)
		if err != nil {
			done <- response{Body: err.Error()}
			return
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		done <- response{Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(body)}
	}()
	return done
}

// raceWithDeletion sends other's request in the background, holds it
// right after its password check, deletes the account from owner's
// browser, and returns other's response once it is released.
func raceWithDeletion(t *testing.T, hasher *holdingHasher, owner, other *visitor, password, path string, fields ...string) response {
	t.Helper()
	held := hasher.holdNextVerify()
	pending := other.postAsync(path, fields...)
	var release chan struct{}
	select {
	case release = <-held:
	case <-time.After(time.Minute):
		t.Fatal("the request never checked a password")
	}
	res := owner.post("/delete", "password", password)
	require.Equal(t, http.StatusSeeOther, res.Status, res.message("error"))
	require.Equal(t, "/signup?done=deleted", res.Location)
	close(release)
	return <-pending
}

// signedUpWithHold starts the app with a holdingHasher and signs up
// username in a first browser, the owner; left counts what the database
// holds of the account.
func signedUpWithHold(t *testing.T, username, password string) (base string, hasher *holdingHasher, owner *visitor, left func() stored) {
	t.Helper()
	hasher = &holdingHasher{PasswordHasher: auth.InsecureFastHasher()}
	base, db := startApp(t, func(c *auth.Config) { c.PasswordHasher = hasher })
	owner = newVisitor(t, base)
	require.Equal(t, http.StatusSeeOther, owner.post("/signup", "username", username, "password", password).Status)
	// The first login measures the hasher for the failure floor; make it
	// here, so that the hold catches the raced request's own check.
	require.Equal(t, http.StatusUnauthorized, newVisitor(t, base).post("/login", "username", "nobody", "password", "no password").Status)
	userID := userIDOf(t, db, username)
	return base, hasher, owner, func() stored { return storedFor(t, db, userID) }
}

func TestLoginWhileAccountIsDeleted(t *testing.T) {
	base, hasher, owner, left := signedUpWithHold(t, "eve", "eve's password")
	other := newVisitor(t, base)
	res := raceWithDeletion(t, hasher, owner, other, "eve's password", "/login", "username", "eve", "password", "eve's password")
	assert.Equal(t, http.StatusUnauthorized, res.Status, "answered as an unknown username: %s", res.Body)
	assert.Equal(t, msgWrongLogin, res.message("error"))
	assert.Equal(t, "/login", other.get("/").Location, "not logged in")
	assert.Equal(t, stored{}, left(), "nothing of the account is left")
}

func TestPasswordChangeWhileAccountIsDeleted(t *testing.T) {
	base, hasher, owner, left := signedUpWithHold(t, "fin", "fin's password")
	other := newVisitor(t, base)
	require.Equal(t, http.StatusSeeOther, other.post("/login", "username", "fin", "password", "fin's password").Status)
	res := raceWithDeletion(t, hasher, owner, other, "fin's password", "/password", "current", "fin's password", "new", "fin's new password")
	assert.Equal(t, http.StatusSeeOther, res.Status, "answered as a logged-out visitor: %s", res.Body)
	assert.Equal(t, "/login", res.Location)
	assert.Equal(t, "/login", other.get("/").Location, "logged out")
	assert.Equal(t, stored{}, left(), "nothing of the account is left")
}

// The pages that check no password (home, sign out everywhere else, sign
// out one session) meet the same race between the moment Middleware has
// found the user and the page's own reads. The test serves them through
// the app's own middleware with the account deleted (from the owner's
// browser) right after RequireUser has let the request through: the
// race, every time.
func TestPagesWhileAccountIsDeleted(t *testing.T) {
	for _, page := range []struct {
		name, method, path string
		handler            func(*app) http.HandlerFunc
	}{
		{"Home", http.MethodGet, "/", func(a *app) http.HandlerFunc { return a.home }},
		{"EndOtherSessions", http.MethodPost, "/sessions/end-others", func(a *app) http.HandlerFunc { return a.endOtherSessions }},
		{"EndSession", http.MethodPost, "/sessions/end", func(a *app) http.HandlerFunc { return a.endSession }},
	} {
		t.Run(page.name, func(t *testing.T) {
			a, base, db := startTestApp(t)
			owner := newVisitor(t, base)
			require.Equal(t, http.StatusSeeOther, owner.post("/signup", "username", "gus", "password", "gus's password").Status)
			userID := userIDOf(t, db, "gus")
			other := newVisitor(t, base)
			require.Equal(t, http.StatusSeeOther, other.post("/login", "username", "gus", "password", "gus's password").Status)

			deletedMeanwhile := a.auth.Middleware(parseForms(a.auth.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				res := owner.post("/delete", "password", "gus's password")
				require.Equal(t, "/signup?done=deleted", res.Location, res.message("error"))
				page.handler(a)(w, r)
			}))))
			req := httptest.NewRequest(page.method, base+page.path, strings.NewReader(url.Values{"session": {"any"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", base)
			for _, c := range other.client.Jar.Cookies(req.URL) {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			deletedMeanwhile.ServeHTTP(rec, req)

			assert.Equal(t, http.StatusSeeOther, rec.Code, "answered as a logged-out visitor: %s", rec.Body)
			assert.Equal(t, "/login", rec.Header().Get("Location"))
			cleared := false
			for _, c := range rec.Result().Cookies() {
				cleared = cleared || (c.Name == auth.DefaultCookieName && c.MaxAge < 0)
			}
			assert.True(t, cleared, "the session cookie is cleared: %q", rec.Header().Values("Set-Cookie"))
			assert.Equal(t, stored{}, storedFor(t, db, userID), "nothing of the account is left")
		})
	}
}
