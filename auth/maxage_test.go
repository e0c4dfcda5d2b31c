package auth_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

const day = 24 * time.Hour

// TestSessionMaxAge: a session used every three days is renewed again and
// again, yet it ends 30 days (auth.DefaultSessionMaxAge) after it was
// created, and the user has to sign in again. Its expiry times never
// promise more than that, so the cookie ends with it too.
func TestSessionMaxAge(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		s := e.session(u.ID)
		created := e.clock.Now()
		end := created.Add(auth.DefaultSessionMaxAge)
		assert.Equal(t, created, s.IssuedAt)
		renewals := 0
		for e.clock.Advance(3 * day); e.clock.Now().Before(end); e.clock.Advance(3 * day) {
			got, err := e.a.ValidateSession(e.ctx, s.Token)
			require.NoError(t, err, "day %.0f", e.clock.Now().Sub(created).Hours()/24)
			if got.Fresh {
				renewals++
			}
			assert.Equal(t, created, got.IssuedAt, "a renewal keeps the creation time")
			assert.False(t, got.IdleExpires.After(end), "idle expiry %v is past the session's end %v", got.IdleExpires, end)
			cookie := e.a.SessionCookie(got)
			assert.LessOrEqual(t, cookie.MaxAge, int(end.Sub(e.clock.Now())/time.Second)+1, "the cookie outlives the session")
			s = got
		}
		assert.GreaterOrEqual(t, renewals, 9, "the session was renewed along the way")
		_, err := e.a.ValidateSession(e.ctx, s.Token)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID, "still valid after %v", e.clock.Now().Sub(created))
		_, err = e.a.Adapter().GetSession(e.ctx, s.ID)
		require.ErrorIs(t, err, auth.ErrNotFound, "the ended session is deleted")
	})
}

// TestSessionMaxAgeOff: a negative SessionMaxAge turns the absolute
// lifetime off, as in Lucia v1: a session used every few days lives on.
func TestSessionMaxAgeOff(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), func(c *auth.Config) { c.SessionMaxAge = -1 })
	u := e.user("ann", "pw")
	s := e.session(u.ID)
	for range 370 / 5 {
		e.clock.Advance(5 * day)
		var err error
		s, err = e.a.ValidateSession(e.ctx, s.Token)
		require.NoError(t, err)
	}
}

// TestSessionMaxAgeConfigured: a shorter SessionMaxAge applies to
// sessions stored before it was set, whatever their stored expiry says,
// and UserSessions neither lists nor keeps them.
func TestSessionMaxAgeConfigured(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		adapter := b.newAdapter(t)
		before := newEnv(t, adapter, nil)
		u := before.user("ann", "pw")
		s := before.session(u.ID)

		after := newEnv(t, adapter, func(c *auth.Config) { c.SessionMaxAge = 12 * time.Hour })
		after.clock.Advance(12 * time.Hour)
		live, err := after.a.UserSessions(after.ctx, u.ID)
		require.NoError(t, err)
		assert.Empty(t, live)
		_, err = adapter.GetSession(after.ctx, s.ID)
		require.ErrorIs(t, err, auth.ErrNotFound, "the over-age session is deleted")
	})
}

// TestSessionWithoutIssuedTime: a session stored without a creation time
// (by Lucia v1, or a version of this module before SessionMaxAge) counts
// its age from its first validation by this core, which stores that time.
func TestSessionWithoutIssuedTime(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), func(c *auth.Config) { c.LuciaV1 = true })
		u := e.user("ann", "pw")
		token := auth.RandomID(auth.SessionIDLength)
		now := e.clock.Now()
		require.NoError(t, e.a.Adapter().SetSession(e.ctx, auth.SessionRecord{
			ID: token, UserID: u.ID, ActiveExpires: now.Add(day).UnixMilli(), IdleExpires: now.Add(15 * day).UnixMilli(),
		}))
		e.clock.Advance(time.Hour)
		firstSeen := e.clock.Now()
		s, err := e.a.ValidateSession(e.ctx, token)
		require.NoError(t, err)
		if _, ok := e.a.Adapter().(auth.SessionUpdater); !ok {
			assert.True(t, s.IssuedAt.IsZero(), "without SessionUpdater nothing is written until a renewal")
			return
		}
		assert.Equal(t, firstSeen, s.IssuedAt)
		assert.Equal(t, firstSeen.UnixMilli(), e.storedSession(s.ID).IssuedAt, "the first validation stores the time")
		assert.False(t, s.IdleExpires.After(firstSeen.Add(auth.DefaultSessionMaxAge)))

		for e.clock.Advance(3 * day); e.clock.Now().Before(firstSeen.Add(auth.DefaultSessionMaxAge)); e.clock.Advance(3 * day) {
			s, err = e.a.ValidateSession(e.ctx, token)
			require.NoError(t, err)
			assert.Equal(t, firstSeen, s.IssuedAt)
		}
		_, err = e.a.ValidateSession(e.ctx, token)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID)
	})
}

// TestSessionMaxAgeCookie: a session near its end gets a cookie that ends
// with it, not with a full idle period.
func TestSessionMaxAgeCookie(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), func(c *auth.Config) { c.SessionMaxAge = 36 * time.Hour })
	u := e.user("ann", "pw")
	s := e.session(u.ID)
	e.clock.Advance(25 * time.Hour) // idle: renewed
	w := httptest.NewRecorder()
	renewed, err := e.a.ValidateSession(e.ctx, s.Token)
	require.NoError(t, err)
	require.True(t, renewed.Fresh)
	e.a.SetSessionCookie(w, renewed)
	c := sessionCookie(t, w)
	require.NotNil(t, c)
	assert.Equal(t, int((11 * time.Hour).Seconds()), c.MaxAge)
	assert.Equal(t, s.IssuedAt.Add(36*time.Hour), renewed.IdleExpires)
	assert.Equal(t, s.IssuedAt.Add(36*time.Hour), renewed.ActiveExpires, "the active period ends with the session too")
}
