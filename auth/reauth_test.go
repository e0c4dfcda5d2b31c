package auth_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// TestReauthenticateIsNotStoppedByTheKeyLock: a stranger who knows the
// username locks it with failed logins; its owner, signed in, can still
// confirm the password (to change it, or delete the account), which
// UseKey could not.
func TestReauthenticateIsNotStoppedByTheKeyLock(t *testing.T) {
	for _, b := range allBackends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b.newAdapter(t), nil)
			ann := e.user("ann", "right")
			session := e.session(ann.ID)
			for i := range auth.DefaultKeyThrottle.FreeFailures + 5 {
				_, err := e.a.UseKey(e.ctx, "username", "ann", "guess")
				if i >= auth.DefaultKeyThrottle.FreeFailures {
					require.ErrorIs(t, err, auth.ErrThrottled, "the stranger has locked the username")
				}
			}
			_, err := e.a.UseKey(e.ctx, "username", "ann", "right")
			require.ErrorIs(t, err, auth.ErrThrottled, "UseKey is held by the username lock")

			key, err := e.a.Reauthenticate(e.ctx, session, "username", "ann", "right")
			require.NoError(t, err, "the owner confirms the password anyway")
			assert.Equal(t, ann.ID, key.UserID)
			_, err = e.a.Reauthenticate(e.ctx, session, "username", "ann", "wrong")
			require.ErrorIs(t, err, auth.ErrInvalidPassword)
		})
	}
}

// TestReauthenticateIsThrottledPerSession: a stolen session gets
// ReauthThrottle's free failures, then one per MaxDelay, even with the
// right password; other sessions of the user are not affected, and a key
// of another user is answered and counted as an unknown one.
func TestReauthenticateIsThrottledPerSession(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), func(c *auth.Config) {
		c.ReauthThrottle = auth.ThrottlePolicy{FreeFailures: 3, MaxDelay: 10 * time.Minute}
	})
	ann := e.user("ann", "right")
	e.user("bob", "bob's")
	stolen, own := e.session(ann.ID), e.session(ann.ID)

	_, err := e.a.Reauthenticate(e.ctx, stolen, "username", "ann", "guess")
	require.ErrorIs(t, err, auth.ErrInvalidPassword)
	_, err = e.a.Reauthenticate(e.ctx, stolen, "username", "bob", "bob's")
	require.ErrorIs(t, err, auth.ErrInvalidKeyID, "another user's key, with its right password")
	_, err = e.a.Reauthenticate(e.ctx, stolen, "username", "nobody", "guess")
	require.ErrorIs(t, err, auth.ErrInvalidKeyID)
	calls := e.counter.count()
	_, err = e.a.Reauthenticate(e.ctx, stolen, "username", "ann", "right")
	requireThrottled(t, err, 10*time.Minute, "the fourth attempt of the session")
	assert.Equal(t, calls, e.counter.count(), "a refused attempt reads nothing")

	_, err = e.a.Reauthenticate(e.ctx, own, "username", "ann", "right")
	require.NoError(t, err, "another session of the user")
	_, err = e.a.UseKey(e.ctx, "username", "ann", "right")
	require.NoError(t, err, "the key itself is not locked")

	e.clock.Advance(10 * time.Minute)
	_, err = e.a.Reauthenticate(e.ctx, stolen, "username", "ann", "right")
	require.NoError(t, err, "one attempt per MaxDelay")

	_, err = e.a.Reauthenticate(e.ctx, auth.Session{}, "username", "ann", "right")
	require.ErrorIs(t, err, auth.ErrInvalidInput)
}
