package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// A user deleted while another request of theirs runs (the account is
// deleted in one browser while another logs in or loads a page) is a
// typed, documented outcome, never a storage error.

// TestLogInWhileUserIsDeleted: the login has verified the password when
// the account is deleted. It must fail as for an unknown username, leave
// no session, and clear the cookie of the request's (now ended) session.
func TestLogInWhileUserIsDeleted(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		e, hasher := newGateEnv(t, b)
		u := e.user("ann", "pw")
		before := e.session(u.ID) // the browser's previous session

		verified := hasher.holdNextVerify()
		w := httptest.NewRecorder()
		login := async(func() (auth.Session, error) {
			return e.a.LogIn(w, request(http.MethodPost, before.Token, "https://"+testHost), "username", "ann", "pw")
		})
		verified.wait(t)
		require.NoError(t, e.a.DeleteUser(e.ctx, u.ID))
		verified.open()

		r := <-login
		require.ErrorIs(t, r.err, auth.ErrInvalidKeyID, "as for an unknown username")
		assert.ErrorIs(t, r.err, auth.ErrInvalidUserID, "and says why")
		c := sessionCookie(t, w)
		require.NotNil(t, c, "the ended session's cookie is cleared")
		assert.Equal(t, -1, c.MaxAge)
		sessions, err := e.a.Adapter().GetSessionsByUserID(e.ctx, u.ID)
		require.NoError(t, err)
		assert.Empty(t, sessions)
	})
}

// TestUseKeyAndCreateSessionWhileUserIsDeleted is the same without HTTP.
func TestUseKeyAndCreateSessionWhileUserIsDeleted(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		e, hasher := newGateEnv(t, b)
		u := e.user("ann", "pw")
		verified := hasher.holdNextVerify()
		login := async(func() (auth.Session, error) {
			_, s, err := e.a.UseKeyAndCreateSession(e.ctx, "username", "ann", "pw")
			return s, err
		})
		verified.wait(t)
		require.NoError(t, e.a.DeleteUser(e.ctx, u.ID))
		verified.open()
		r := <-login
		require.ErrorIs(t, r.err, auth.ErrInvalidKeyID)
		assert.ErrorIs(t, r.err, auth.ErrInvalidUserID)
	})
}

// TestUseKeyWhileUserIsDeleted: a key that goes away with its user while
// UseKey runs gives ErrInvalidKeyID where UseKey writes to the key (a
// single-use key is used up; an outdated hash is replaced).
func TestUseKeyWhileUserIsDeleted(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		for _, kind := range []string{"SingleUse", "OutdatedHash"} {
			t.Run(kind, func(t *testing.T) {
				e, hasher := annWithOutdatedHash(t, b, "pw")
				if kind == "SingleUse" {
					if !is[auth.KeyConsumer](e.a.Adapter()) {
						t.Skip("no auth.KeyConsumer: UseKey cannot tell that a single-use key went away, as it documents")
					}
					userID := userOfKey(t, e, "username:ann")
					_, err := e.a.CreateKey(e.ctx, userID, auth.KeyParams{ProviderID: "otp", ProviderUserID: "ann", Password: "123456", ExpiresIn: time.Hour})
					require.NoError(t, err)
				} else if !replacesHashes(t, e.a.Adapter()) {
					t.Skip("no compare-and-set on this adapter: UseKey writes nothing to a persistent key")
				}
				userID := userOfKey(t, e, "username:ann")
				verified := hasher.holdNextVerify()
				use := async(func() (auth.Key, error) {
					if kind == "SingleUse" {
						return e.a.UseKey(e.ctx, "otp", "ann", "123456")
					}
					return e.a.UseKey(e.ctx, "username", "ann", "pw")
				})
				verified.wait(t)
				require.NoError(t, e.a.DeleteUser(e.ctx, userID))
				verified.open()
				r := <-use
				require.ErrorIs(t, r.err, auth.ErrInvalidKeyID)
			})
		}
	})
}

func userOfKey(t *testing.T, e *env, keyID string) string {
	t.Helper()
	rec, err := e.a.Adapter().GetKey(e.ctx, keyID)
	require.NoError(t, err)
	return rec.UserID
}

// TestStartSessionForDeletedUser: StartSession for a user that is gone
// ends the request's session, so it clears its cookie too.
func TestStartSessionForDeletedUser(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		s := e.session(u.ID)
		require.NoError(t, e.a.DeleteUser(e.ctx, u.ID))
		w := httptest.NewRecorder()
		_, err := e.a.StartSession(w, request(http.MethodPost, s.Token, "https://"+testHost), u.ID)
		require.ErrorIs(t, err, auth.ErrInvalidUserID)
		c := sessionCookie(t, w)
		require.NotNil(t, c)
		assert.Equal(t, -1, c.MaxAge)
	})
}

// userReadHook is a memory adapter that runs afterRead once, after the
// first of UserSessions' two reads (the user, the user's sessions),
// whichever order they come in.
type userReadHook struct {
	*memoryAdapter
	once      sync.Once
	afterRead func()
}

func (h *userReadHook) GetUser(ctx context.Context, id string) (auth.UserRecord, error) {
	defer h.once.Do(h.afterRead)
	return h.memoryAdapter.GetUser(ctx, id)
}

func (h *userReadHook) GetSessionsByUserID(ctx context.Context, id string) ([]auth.SessionRecord, error) {
	defer h.once.Do(h.afterRead)
	return h.memoryAdapter.GetSessionsByUserID(ctx, id)
}

// TestUserSessionsWhileUserIsDeleted: a user deleted between UserSessions'
// reads gives ErrInvalidUserID, never an empty list for a user that had
// sessions and still seemed to exist.
func TestUserSessionsWhileUserIsDeleted(t *testing.T) {
	for _, inPlace := range []bool{true, false} {
		hooked := &userReadHook{memoryAdapter: newMemoryAdapter(), afterRead: func() {}}
		var adapter auth.Adapter = hooked
		if !inPlace {
			adapter = withoutGetter{hooked}
		}
		e := newEnv(t, adapter, nil)
		u := e.user("ann", "pw")
		e.session(u.ID)
		hooked.once = sync.Once{}
		hooked.afterRead = func() { require.NoError(t, hooked.DeleteUser(e.ctx, u.ID)) }
		sessions, err := e.a.UserSessions(e.ctx, u.ID)
		require.ErrorIs(t, err, auth.ErrInvalidUserID, "got %d sessions", len(sessions))
	}
}
