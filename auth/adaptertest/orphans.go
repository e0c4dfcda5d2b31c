package adaptertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// UserRecordRemover is the optional fixture hook of the group
// "OrphanSessions". When the adapter that NewAdapter returns implements it,
// the group removes a user's record behind the adapter's back, leaving its
// sessions and keys as a cascade stopped half-way, a crash or a manual
// delete would, and checks that every call of the auth core that returns a
// session refuses such an orphan session and deletes it, and that
// GetSessionAndUser reports it as the contract says. Adapters without it
// skip the group.
//
// A test implements it with a type that embeds the adapter under test and
// knows its store:
//
//	func (a withStore) RemoveUserRecord(ctx context.Context, userID string) error {
//		_, err := a.db.Collection("auth_user").DeleteOne(ctx, bson.D{{Key: "_id", Value: userID}})
//		return err
//	}
type UserRecordRemover interface {
	// RemoveUserRecord deletes the user's own record and nothing else: no
	// cascade (a relational store turns its foreign keys off for the
	// statement), no session or key.
	RemoveUserRecord(ctx context.Context, userID string) error
}

// orphanCore is the auth core the group runs over f's adapter, with a
// clock the test moves.
type orphanCore struct {
	core *auth.Auth[map[string]any]
	now  time.Time
}

// orphan stores a user with one session made by the core, then removes
// the user's record through the store; it skips without the hook. idle
// moves the clock past the session's active period, so that validating
// it would renew it.
func (f *fixture) orphan(idle bool) (*orphanCore, auth.UserRecord, auth.Session) {
	f.t.Helper()
	remover, ok := f.a.(UserRecordRemover)
	if !ok {
		f.t.Skip("the adapter under test does not implement adaptertest.UserRecordRemover: no way to remove a user behind its back")
	}
	c := &orphanCore{now: time.Now()}
	core, err := auth.New[map[string]any](f.a, auth.Config{Now: func() time.Time { return c.now }})
	require.NoError(f.t, err)
	c.core = core
	u := f.user(nil)
	s, err := core.CreateSession(f.ctx, u.ID)
	require.NoError(f.t, err)
	require.NoError(f.t, remover.RemoveUserRecord(f.ctx, u.ID))
	_, err = f.a.GetUser(f.ctx, u.ID)
	require.ErrorIs(f.t, err, auth.ErrNotFound, "RemoveUserRecord left the user")
	stored, err := f.a.GetSession(f.ctx, s.ID)
	require.NoError(f.t, err, "RemoveUserRecord took the session with the user: it must leave an orphan")
	require.Equal(f.t, u.ID, stored.UserID)
	if idle {
		c.now = s.ActiveExpires.Add(time.Minute)
	}
	return c, u, s
}

// requireOrphanDeleted asserts that the orphan session is no longer stored.
func (f *fixture) requireOrphanDeleted(s auth.Session) {
	f.t.Helper()
	_, err := f.a.GetSession(f.ctx, s.ID)
	require.ErrorIs(f.t, err, auth.ErrNotFound, "the orphan session is still stored")
}

// orphanTests check that a session whose user is gone is never taken for
// a valid one, whichever core call meets it, and that the call deletes it.
var orphanTests = []test{
	{"GetSessionAndUserReportsTheOrphan", func(f *fixture) {
		g := f.getter()
		_, u, s := f.orphan(false)
		rec, _, err := g.GetSessionAndUser(f.ctx, s.ID)
		require.ErrorIs(f.t, err, auth.ErrNotFound)
		assert.Equal(f.t, s.ID, rec.ID, "the session of a missing user comes back with ErrNotFound, so that it can be deleted")
		assert.Equal(f.t, u.ID, rec.UserID)
	}},
	{"GetSession", func(f *fixture) {
		c, _, s := f.orphan(false)
		_, err := c.core.GetSession(f.ctx, s.Token)
		require.ErrorIs(f.t, err, auth.ErrInvalidSessionID)
		f.requireOrphanDeleted(s)
	}},
	{"ValidateSession", func(f *fixture) {
		c, _, s := f.orphan(false)
		_, err := c.core.ValidateSession(f.ctx, s.Token)
		require.ErrorIs(f.t, err, auth.ErrInvalidSessionID)
		f.requireOrphanDeleted(s)
	}},
	{"ValidateSessionIdle", func(f *fixture) {
		c, _, s := f.orphan(true)
		_, err := c.core.ValidateSession(f.ctx, s.Token)
		require.ErrorIs(f.t, err, auth.ErrInvalidSessionID, "an orphan is not renewed")
		f.requireOrphanDeleted(s)
	}},
	{"ValidateSessionUser", func(f *fixture) {
		c, _, s := f.orphan(false)
		_, _, err := c.core.ValidateSessionUser(f.ctx, s.Token)
		require.ErrorIs(f.t, err, auth.ErrInvalidSessionID)
		f.requireOrphanDeleted(s)
	}},
	{"ValidateSessionUserIdle", func(f *fixture) {
		c, _, s := f.orphan(true)
		_, _, err := c.core.ValidateSessionUser(f.ctx, s.Token)
		require.ErrorIs(f.t, err, auth.ErrInvalidSessionID)
		f.requireOrphanDeleted(s)
	}},
	{"UserSessions", func(f *fixture) {
		c, u, s := f.orphan(false)
		sessions, err := c.core.UserSessions(f.ctx, u.ID)
		require.ErrorIs(f.t, err, auth.ErrInvalidUserID, "listed %d sessions of a user that is gone", len(sessions))
		f.requireOrphanDeleted(s)
	}},
	{"Middleware", func(f *fixture) {
		c, _, s := f.orphan(false)
		var seen bool
		h := c.core.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, seen = auth.SessionFromContext(r.Context())
		}))
		r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
		r.AddCookie(&http.Cookie{Name: c.core.SessionCookie(s).Name, Value: s.Token})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(f.t, http.StatusOK, w.Code)
		assert.False(f.t, seen, "the request went on with the orphan session")
		f.requireOrphanDeleted(s)
	}},
	{"CreateSession", func(f *fixture) {
		c, u, _ := f.orphan(false)
		_, err := c.core.CreateSession(f.ctx, u.ID)
		require.ErrorIs(f.t, err, auth.ErrInvalidUserID)
	}},
}
