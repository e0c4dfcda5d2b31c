package auth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// withSessionCookies returns r carrying these session cookies, in this
// order, as a browser sends several cookies of one name (longer Path
// first, then older first).
func withSessionCookies(r *http.Request, ids ...string) *http.Request {
	for _, id := range ids {
		r.AddCookie(&http.Cookie{Name: auth.HostCookieName, Value: id})
	}
	return r
}

// plantedID is a well-formed session id that no session has, as a sibling
// subdomain can plant with Domain=<parent> and a longer Path.
var plantedID = strings.Repeat("p1", auth.SessionIDLength/2)

// TestPlantedSessionCookies: a session cookie planted by a sibling
// subdomain, sent before the real one, does not lock the user out.
func TestPlantedSessionCookies(t *testing.T) {
	for _, b := range memoryBackends {
		t.Run(b.name, func(t *testing.T) {
			testPlantedSessionCookies(t, b)
		})
	}
}

func testPlantedSessionCookies(t *testing.T, b backend) {
	t.Run("DoesNotShadowTheRealOne", func(t *testing.T) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		real := e.session(u.ID)
		expired := e.session(e.user("bob", "pw").ID)
		e.clock.Advance(16 * 24 * time.Hour)
		real = e.session(u.ID)

		var idInHandler string
		h := &recordingHandler{}
		w := serve(e.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			idInHandler, _ = e.a.SessionID(r)
			h.ServeHTTP(w, r)
		})), withSessionCookies(request(http.MethodGet, "", ""), plantedID, "garbage", expired.Token, real.Token))
		require.True(t, h.hasUser, "the real session behind the planted cookies")
		assert.Equal(t, u.ID, h.user.ID)
		assert.Equal(t, real.ID, h.session.ID)
		assert.Equal(t, real.Token, idInHandler, "SessionID names the cookie Middleware validated")
		assert.Nil(t, sessionCookie(t, w), "nothing cleared: a clearing cookie would delete the real one")
	})
	t.Run("FirstValidSessionWins", func(t *testing.T) {
		e := newEnv(t, b.newAdapter(t), nil)
		ann := e.session(e.user("ann", "pw").ID)
		bob := e.session(e.user("bob", "pw").ID)
		h := &recordingHandler{}
		serve(e.a.Middleware(h), withSessionCookies(request(http.MethodGet, "", ""), plantedID, bob.Token, ann.Token))
		require.True(t, h.hasUser)
		assert.Equal(t, bob.ID, h.session.ID)
	})
	t.Run("AtMostMaxSessionCookiesAreLookedUp", func(t *testing.T) {
		e := newEnv(t, b.newAdapter(t), nil)
		real := e.session(e.user("ann", "pw").ID)
		planted := make([]string, auth.MaxSessionCookies)
		for i := range planted {
			planted[i] = strings.Repeat(string(rune('a'+i)), auth.SessionIDLength)
		}

		// Within the bound (a repeated id counts once): found.
		within := append([]string{planted[0], planted[0]}, planted[1:auth.MaxSessionCookies-1]...)
		h := &recordingHandler{}
		serve(e.a.Middleware(h), withSessionCookies(request(http.MethodGet, "", ""), append(within, real.Token)...))
		assert.True(t, h.hasUser, "the real cookie is within the bound")

		// Beyond it: not looked up.
		before := e.counter.count()
		h = &recordingHandler{}
		w := serve(e.a.Middleware(h), withSessionCookies(request(http.MethodGet, "", ""), append(planted, real.Token)...))
		assert.False(t, h.hasUser, "the real cookie is beyond the bound")
		assert.Equal(t, int64(auth.MaxSessionCookies), e.counter.count()-before, "one lookup per id, up to the bound")
		require.NotNil(t, sessionCookie(t, w), "no valid session: the app's own cookie is cleared")
		assert.Equal(t, -1, sessionCookie(t, w).MaxAge)
	})
	t.Run("LogOutEndsEverySessionTheRequestCarries", func(t *testing.T) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		real, other := e.session(u.ID), e.session(u.ID)
		w := httptest.NewRecorder()
		require.NoError(t, e.a.LogOut(w, withSessionCookies(request(http.MethodPost, "", "https://"+testHost), plantedID, real.Token, other.Token)))
		for _, id := range []string{real.Token, other.Token} {
			_, err := e.a.GetSession(e.ctx, id)
			require.ErrorIs(t, err, auth.ErrInvalidSessionID)
		}
		assert.Equal(t, -1, sessionCookie(t, w).MaxAge)
	})
	t.Run("StartSessionEndsEverySessionTheRequestCarries", func(t *testing.T) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		real := e.session(u.ID)
		w := httptest.NewRecorder()
		s, err := e.a.StartSession(w, withSessionCookies(request(http.MethodPost, "", "https://"+testHost), plantedID, real.Token), u.ID)
		require.NoError(t, err)
		_, err = e.a.GetSession(e.ctx, real.Token)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID, "the pre-login session is invalidated (no fixation)")
		assert.Equal(t, s.Token, sessionCookie(t, w).Value)
	})
}
