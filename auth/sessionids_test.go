package auth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestSessionIDsAreStoredHashed: what the store holds is the SHA-256 of
// the cookie's token, and that is no credential: a cookie carrying a
// stored id, as anyone who reads the sessions learns them, is refused.
func TestSessionIDsAreStoredHashed(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		w := httptest.NewRecorder()
		_, err := e.a.StartSession(w, request(http.MethodPost, "", "https://"+testHost), u.ID)
		require.NoError(t, err)
		token := sessionCookie(t, w).Value
		stored, err := e.a.Adapter().GetSessionsByUserID(e.ctx, u.ID)
		require.NoError(t, err)
		require.Len(t, stored, 1)
		assert.Equal(t, sha256Hex(token), stored[0].ID, "stored under the SHA-256 of the token, in hex")

		h := &recordingHandler{}
		serve(e.a.Middleware(h), request(http.MethodGet, token, ""))
		require.True(t, h.hasUser, "the token is the credential")
		h = &recordingHandler{}
		serve(e.a.Middleware(h), request(http.MethodGet, stored[0].ID, ""))
		assert.False(t, h.hasUser, "the stored id is not")
		h = &recordingHandler{}
		serve(e.a.Middleware(h), request(http.MethodGet, stored[0].ID[:auth.SessionIDLength], ""))
		assert.False(t, h.hasUser, "nor is any part of it")
	})
}

// TestSessionListAndSignOutWithHashedIDs: the device list names sessions
// by their stored ids, which sign one session out; InvalidateSession also
// takes a token, which it hashes.
func TestSessionListAndSignOutWithHashedIDs(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		phone, laptop := e.session(u.ID), e.session(u.ID)
		listed, err := e.a.UserSessions(e.ctx, u.ID)
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{phone.ID, laptop.ID}, sessionIDs(listed))
		for _, s := range listed {
			assert.Empty(t, s.Token, "the list knows no tokens")
		}

		require.NoError(t, e.a.InvalidateSession(e.ctx, phone.ID), "by the listed id")
		_, err = e.a.ValidateSession(e.ctx, phone.Token)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID)
		require.NoError(t, e.a.InvalidateSession(e.ctx, laptop.Token), "by the token")
		_, err = e.a.ValidateSession(e.ctx, laptop.Token)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID)

		before := e.counter.count()
		for _, bad := range []string{"", "garbage", phone.ID[:63], phone.ID + "0"} {
			require.ErrorIs(t, e.a.InvalidateSession(e.ctx, bad), auth.ErrInvalidSessionID, "%q", bad)
		}
		assert.Equal(t, before, e.counter.count(), "refused without an adapter call")
	})
}

// TestSessionsStoredBeforeHashing: a session stored under its token (by
// an earlier version, or by Lucia) cannot be reached once ids are hashed:
// its cookie is refused, and UserSessions neither lists nor keeps it.
func TestSessionsStoredBeforeHashing(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		token := auth.RandomID(auth.SessionIDLength)
		now := e.clock.Now()
		require.NoError(t, e.a.Adapter().SetSession(e.ctx, auth.SessionRecord{
			ID: token, UserID: u.ID, ActiveExpires: now.Add(time.Hour).UnixMilli(), IdleExpires: now.Add(2 * time.Hour).UnixMilli(),
		}))
		_, err := e.a.ValidateSession(e.ctx, token)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID)
		listed, err := e.a.UserSessions(e.ctx, u.ID)
		require.NoError(t, err)
		assert.Empty(t, listed)
		_, err = e.a.Adapter().GetSession(e.ctx, token)
		require.ErrorIs(t, err, auth.ErrNotFound, "deleted: no token leads to it")
	})
}

// TestLuciaV1StoresTokens: beside Lucia v1, which reads sessions by the
// token, ids are stored unhashed, with LuciaV1 or with the LuciaScrypt
// hasher, which implies it.
func TestLuciaV1StoresTokens(t *testing.T) {
	for name, configure := range map[string]func(*auth.Config){
		"LuciaV1":     func(c *auth.Config) { c.LuciaV1 = true },
		"LuciaScrypt": func(c *auth.Config) { c.PasswordHasher = auth.LuciaScrypt{} },
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, newMemoryAdapter(), configure)
			u, err := e.a.CreateUser(e.ctx, profile{Username: "ann"}, nil)
			require.NoError(t, err)
			s := e.session(u.ID)
			assert.Equal(t, s.Token, s.ID)
			_, err = e.a.Adapter().GetSession(e.ctx, s.Token)
			require.NoError(t, err, "stored under the token")
			got, err := e.a.ValidateSession(e.ctx, s.Token)
			require.NoError(t, err)
			assert.Equal(t, s.ID, got.ID)
		})
	}
}
