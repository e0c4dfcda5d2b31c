package auth_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// TestDeadSessionsAreDeletedWithOneCommand counts the adapter calls of the
// automatic cleanup: with an ExpiredSessionDeleter, a user's dead sessions
// go in one call however many there are; without, each costs a delete.
func TestDeadSessionsAreDeletedWithOneCommand(t *testing.T) {
	const dead = 5
	forEveryBackend(t, func(t *testing.T, b backend) {
		_, oneCall := b.newAdapter(t).(auth.ExpiredSessionDeleter)
		for _, tc := range []struct {
			name string
			call func(e *env, userID string)
			// calls made with an ExpiredSessionDeleter, and without one
			calls, fallbackCalls int64
		}{
			{"DeleteDeadUserSessions", func(e *env, userID string) {
				require.NoError(t, e.a.DeleteDeadUserSessions(e.ctx, userID))
			}, 1, 1 + dead}, // the delete; or a read, then a delete each
			{"CreateSession", func(e *env, userID string) {
				e.session(userID)
			}, 2, 2 + dead}, // the cleanup as above, then SetSession
			{"UserSessions", func(e *env, userID string) {
				live, err := e.a.UserSessions(e.ctx, userID)
				require.NoError(t, err)
				assert.Len(t, live, 1)
			}, 3, 2 + dead}, // GetUser, the sessions' read, then one delete; or a delete each
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, b.newAdapter(t), nil)
				u := e.user("ann", "pw")
				other := e.user("bob", "pw")
				otherDead := e.session(other.ID)
				for range dead {
					e.session(u.ID)
				}
				e.clock.Advance(16 * 24 * time.Hour)
				// A live session, stored without the core's cleanup.
				live := auth.SessionRecord{ID: auth.HashSessionToken(auth.RandomID(auth.SessionIDLength)), UserID: u.ID,
					ActiveExpires: e.clock.Now().Add(time.Hour).UnixMilli(), IdleExpires: e.clock.Now().Add(2 * time.Hour).UnixMilli()}
				require.NoError(t, e.a.Adapter().SetSession(e.ctx, live))

				before := e.counter.count()
				tc.call(e, u.ID)
				calls := e.counter.count() - before
				if oneCall {
					assert.Equal(t, tc.calls, calls, "adapter calls: one deletes all the dead sessions")
				} else {
					assert.Equal(t, tc.fallbackCalls, calls, "adapter calls without ExpiredSessionDeleter")
				}
				stored, err := e.a.Adapter().GetSessionsByUserID(e.ctx, u.ID)
				require.NoError(t, err)
				var ids []string
				for _, s := range stored {
					assert.Greater(t, s.IdleExpires, e.clock.Now().UnixMilli(), "a dead session is left")
					ids = append(ids, s.ID)
				}
				assert.Contains(t, ids, live.ID)
				_, err = e.a.Adapter().GetSession(e.ctx, otherDead.ID)
				require.NoError(t, err, "another user's dead session is not this user's cleanup")
			})
		}
	})
}
