package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// coreTests run against every backend: the in-memory adapter with and
// without SessionAndUserGetter, the MongoDB adapter and the SQLite adapter.
var coreTests = []struct {
	name string
	run  func(t *testing.T, b backend)
}{
	{"CreateUserGeneratesLuciaIDs", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		joined := time.Date(2023, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
		u, err := e.a.CreateUser(e.ctx, profile{Username: "ann", Age: 33, Joined: joined}, nil)
		require.NoError(t, err)
		assertID(t, u.ID, auth.UserIDLength)
		got, err := e.a.GetUser(e.ctx, u.ID)
		require.NoError(t, err)
		assert.Equal(t, auth.User[profile]{ID: u.ID, Attributes: profile{Username: "ann", Age: 33, Joined: joined}}, got)
	}},
	{"IDsLuciaWrote", func(t *testing.T, b backend) {
		// Lucia 1.x draws user and session ids from a-z, A-Z and 0-9 (Go
		// from a-z0-9 only) and stores key ids of any length, such as an
		// e-mail key of a 254-byte address: records it wrote work here.
		adapter := b.newAdapter(t)
		e := newEnv(t, adapter, func(c *auth.Config) { c.LuciaV1 = true })
		hash, err := auth.InsecureFastHasher().Hash(e.ctx, "pw")
		require.NoError(t, err)
		userID, sessionID := "AbCdEfGhIjK1234", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789ABCD"
		address := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 184) + ".test"
		require.Len(t, address, 254)
		key := auth.KeyRecord{ID: "email:" + address, UserID: userID, HashedPassword: &hash, PrimaryKey: true}
		require.NoError(t, adapter.SetUser(e.ctx, auth.UserRecord{ID: userID, Attributes: map[string]any{"username": "lucia"}}, &key))
		now := e.clock.Now().UnixMilli()
		require.NoError(t, adapter.SetSession(e.ctx, auth.SessionRecord{ID: sessionID, UserID: userID, ActiveExpires: now + 3_600_000, IdleExpires: now + 7_200_000}))

		k, err := e.a.UseKey(e.ctx, "email", address, "pw")
		require.NoError(t, err)
		assert.Equal(t, userID, k.UserID)
		_, err = e.a.UpdateKeyPassword(e.ctx, "email", address, "new")
		require.NoError(t, err)
		s, u, err := e.a.ValidateSessionUser(e.ctx, sessionID)
		require.NoError(t, err)
		assert.Equal(t, sessionID, s.ID, "LuciaV1: stored under the token, as Lucia stores it")
		assert.Equal(t, sessionID, s.Token)
		assert.Equal(t, auth.User[profile]{ID: userID, Attributes: profile{Username: "lucia"}}, u)
		require.NoError(t, e.a.InvalidateSession(e.ctx, sessionID))
		mine, err := e.a.CreateSession(e.ctx, userID)
		require.NoError(t, err)
		assertID(t, mine.ID, auth.SessionIDLength)
		assert.Equal(t, mine.Token, mine.ID)
	}},
	{"CreateUserWithPrimaryKey", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "secret password")
		k, err := e.a.GetKey(e.ctx, "username", "ann")
		require.NoError(t, err)
		assert.Equal(t, auth.Key{ProviderID: "username", ProviderUserID: "ann", UserID: u.ID, Primary: true, PasswordDefined: true}, k)
		used, err := e.a.UseKey(e.ctx, "username", "ann", "secret password")
		require.NoError(t, err)
		assert.Equal(t, u.ID, used.UserID)
	}},
	{"CreateUserWithTakenKeyLeavesNoUser", func(t *testing.T, b backend) {
		ids := []string{"first-user", "second-user"}
		e := newEnv(t, b.newAdapter(t), func(c *auth.Config) {
			c.GenerateUserID = func(context.Context) (string, error) {
				id := ids[0]
				ids = ids[1:]
				return id, nil
			}
		})
		e.user("ann", "pw")
		_, err := e.a.CreateUser(e.ctx, profile{Username: "ann again"},
			&auth.KeyParams{ProviderID: "username", ProviderUserID: "ann", Password: "pw"})
		require.ErrorIs(t, err, auth.ErrDuplicateKeyID)
		_, err = e.a.GetUser(e.ctx, "second-user")
		require.ErrorIs(t, err, auth.ErrInvalidUserID)
	}},
	{"CustomUserIDGenerator", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), func(c *auth.Config) {
			c.GenerateUserID = func(context.Context) (string, error) { return "user-4711", nil }
		})
		u, err := e.a.CreateUser(e.ctx, profile{Username: "ann"}, nil)
		require.NoError(t, err)
		assert.Equal(t, "user-4711", u.ID)

		failing := errors.New("id service down")
		e = newEnv(t, b.newAdapter(t), func(c *auth.Config) {
			c.GenerateUserID = func(context.Context) (string, error) { return "", failing }
		})
		_, err = e.a.CreateUser(e.ctx, profile{}, nil)
		require.ErrorIs(t, err, failing)

		e = newEnv(t, b.newAdapter(t), func(c *auth.Config) {
			c.GenerateUserID = func(context.Context) (string, error) { return "", nil }
		})
		calls := e.counter.count()
		_, err = e.a.CreateUser(e.ctx, profile{}, nil)
		require.ErrorIs(t, err, auth.ErrInvalidInput)
		assert.Equal(t, calls, e.counter.count(), "an invalid generated id must not reach the adapter")
	}},
	{"UpdateUserWritesTypedAttributes", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u, err := e.a.CreateUser(e.ctx, profile{Username: "ann", Age: 33}, nil)
		require.NoError(t, err)
		// Age is omitempty: its zero value leaves the stored age alone.
		got, err := e.a.UpdateUser(e.ctx, u.ID, profile{Username: "anna"})
		require.NoError(t, err)
		assert.Equal(t, profile{Username: "anna", Age: 33}, got.Attributes)
		stored, err := e.a.GetUser(e.ctx, u.ID)
		require.NoError(t, err)
		assert.Equal(t, got, stored)

		_, err = e.a.UpdateUser(e.ctx, "no-such-user", profile{Username: "x"})
		require.ErrorIs(t, err, auth.ErrInvalidUserID)
	}},
	{"GetUnknownUser", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		_, err := e.a.GetUser(e.ctx, "no-such-user")
		require.ErrorIs(t, err, auth.ErrInvalidUserID)
	}},
	{"DeleteUserCascades", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		other := e.user("bob", "pw")
		s := e.session(u.ID)
		otherSession := e.session(other.ID)
		require.NoError(t, e.a.DeleteUser(e.ctx, u.ID))
		_, err := e.a.GetUser(e.ctx, u.ID)
		require.ErrorIs(t, err, auth.ErrInvalidUserID)
		_, err = e.a.ValidateSession(e.ctx, s.Token)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID)
		_, err = e.a.GetKey(e.ctx, "username", "ann")
		require.ErrorIs(t, err, auth.ErrInvalidKeyID)
		_, err = e.a.ValidateSession(e.ctx, otherSession.Token)
		require.NoError(t, err, "another user's session survives")
		require.NoError(t, e.a.DeleteUser(e.ctx, u.ID), "deleting a missing user is not an error")
	}},
	{"PersistentKeyPasswords", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "first")
		k, err := e.a.CreateKey(e.ctx, u.ID, auth.KeyParams{ProviderID: "email", ProviderUserID: "ann@example.com", Password: "mail pw"})
		require.NoError(t, err)
		assert.Equal(t, auth.Key{ProviderID: "email", ProviderUserID: "ann@example.com", UserID: u.ID, PasswordDefined: true}, k)
		assert.False(t, k.SingleUse())

		_, err = e.a.UseKey(e.ctx, "email", "ann@example.com", "wrong")
		require.ErrorIs(t, err, auth.ErrInvalidPassword)
		_, err = e.a.UseKey(e.ctx, "email", "ann@example.com", "")
		require.ErrorIs(t, err, auth.ErrInvalidPassword)
		_, err = e.a.UseKey(e.ctx, "email", "nobody@example.com", "mail pw")
		require.ErrorIs(t, err, auth.ErrInvalidKeyID)
		used, err := e.a.UseKey(e.ctx, "email", "ann@example.com", "mail pw")
		require.NoError(t, err)
		assert.Equal(t, k, used)
		_, err = e.a.UseKey(e.ctx, "email", "ann@example.com", "mail pw")
		require.NoError(t, err, "a persistent key can be used again")

		_, err = e.a.CreateKey(e.ctx, u.ID, auth.KeyParams{ProviderID: "email", ProviderUserID: "ann@example.com"})
		require.ErrorIs(t, err, auth.ErrDuplicateKeyID)
		_, err = e.a.CreateKey(e.ctx, "no-such-user", auth.KeyParams{ProviderID: "email", ProviderUserID: "x@example.com"})
		require.ErrorIs(t, err, auth.ErrInvalidUserID)
	}},
	{"KeyWithoutPassword", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		k, err := e.a.CreateKey(e.ctx, u.ID, auth.KeyParams{ProviderID: "github", ProviderUserID: "4711"})
		require.NoError(t, err)
		assert.False(t, k.PasswordDefined)
		used, err := e.a.UseKey(e.ctx, "github", "4711", "")
		require.NoError(t, err)
		assert.Equal(t, u.ID, used.UserID)
		_, err = e.a.UseKey(e.ctx, "github", "4711", "anything")
		require.ErrorIs(t, err, auth.ErrInvalidPassword, "a password for a passwordless key is refused")
	}},
	{"SingleUseKeyIsConsumed", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		k, err := e.a.CreateKey(e.ctx, u.ID, auth.KeyParams{ProviderID: "otp", ProviderUserID: "ann-1", Password: "123456", ExpiresIn: time.Hour})
		require.NoError(t, err)
		assert.True(t, k.SingleUse())
		assert.Equal(t, e.clock.Now().Add(time.Hour), k.Expires)
		assert.False(t, k.Expired)

		_, err = e.a.UseKey(e.ctx, "otp", "ann-1", "000000")
		require.ErrorIs(t, err, auth.ErrInvalidPassword)
		_, err = e.a.GetKey(e.ctx, "otp", "ann-1")
		require.NoError(t, err, "a failed attempt does not consume the key")

		e.clock.Advance(59 * time.Minute)
		used, err := e.a.UseKey(e.ctx, "otp", "ann-1", "123456")
		require.NoError(t, err)
		assert.Equal(t, u.ID, used.UserID)
		_, err = e.a.UseKey(e.ctx, "otp", "ann-1", "123456")
		require.ErrorIs(t, err, auth.ErrInvalidKeyID, "second use")
	}},
	{"SingleUseKeyWorksOnceUnderRace", func(t *testing.T, b backend) {
		adapter := b.newAdapter(t)
		if _, ok := adapter.(auth.KeyConsumer); !ok {
			t.Skip("adapter does not implement auth.KeyConsumer; without it concurrent uses may all succeed, as UseKey documents")
		}
		e := newEnv(t, adapter, nil)
		u := e.user("ann", "pw")
		_, err := e.a.CreateKey(e.ctx, u.ID, auth.KeyParams{ProviderID: "link", ProviderUserID: "ann-1", ExpiresIn: time.Hour})
		require.NoError(t, err)
		const racers = 8
		var wg sync.WaitGroup
		var wins atomic.Int32
		for range racers {
			wg.Go(func() {
				_, err := e.a.UseKey(e.ctx, "link", "ann-1", "")
				if err == nil {
					wins.Add(1)
				} else if !errors.Is(err, auth.ErrInvalidKeyID) {
					t.Errorf("UseKey: %v", err)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int32(1), wins.Load(), "a single-use key must log in exactly once")
	}},
	{"ExpiredSingleUseKey", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		_, err := e.a.CreateKey(e.ctx, u.ID, auth.KeyParams{ProviderID: "otp", ProviderUserID: "ann-2", Password: "123456", ExpiresIn: time.Hour})
		require.NoError(t, err)
		e.clock.Advance(time.Hour)
		k, err := e.a.GetKey(e.ctx, "otp", "ann-2")
		require.NoError(t, err)
		assert.True(t, k.Expired)

		_, err = e.a.UseKey(e.ctx, "otp", "ann-2", "wrong")
		require.ErrorIs(t, err, auth.ErrInvalidPassword, "expiry is not revealed without the password")
		_, err = e.a.UseKey(e.ctx, "otp", "ann-2", "123456")
		require.ErrorIs(t, err, auth.ErrExpiredKey)
		_, err = e.a.GetKey(e.ctx, "otp", "ann-2")
		require.ErrorIs(t, err, auth.ErrInvalidKeyID, "an expired key is deleted when used")
	}},
	{"UserKeys", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		e.user("bob", "pw")
		_, err := e.a.CreateKey(e.ctx, u.ID, auth.KeyParams{ProviderID: "github", ProviderUserID: "4711"})
		require.NoError(t, err)
		keys, err := e.a.UserKeys(e.ctx, u.ID)
		require.NoError(t, err)
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.ProviderID+":"+k.ProviderUserID)
		}
		assert.ElementsMatch(t, []string{"username:ann", "github:4711"}, ids)
		_, err = e.a.UserKeys(e.ctx, "no-such-user")
		require.ErrorIs(t, err, auth.ErrInvalidUserID)
	}},
	{"UpdateKeyPassword", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		e.user("ann", "old")
		k, err := e.a.UpdateKeyPassword(e.ctx, "username", "ann", "new")
		require.NoError(t, err)
		assert.True(t, k.PasswordDefined)
		_, err = e.a.UseKey(e.ctx, "username", "ann", "old")
		require.ErrorIs(t, err, auth.ErrInvalidPassword)
		_, err = e.a.UseKey(e.ctx, "username", "ann", "new")
		require.NoError(t, err)

		k, err = e.a.UpdateKeyPassword(e.ctx, "username", "ann", "")
		require.NoError(t, err)
		assert.False(t, k.PasswordDefined, "an empty password removes it")
		_, err = e.a.UseKey(e.ctx, "username", "ann", "")
		require.NoError(t, err)

		_, err = e.a.UpdateKeyPassword(e.ctx, "username", "nobody", "x")
		require.ErrorIs(t, err, auth.ErrInvalidKeyID)
	}},
	{"DeleteKeySparesPrimaryKeys", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		_, err := e.a.CreateKey(e.ctx, u.ID, auth.KeyParams{ProviderID: "github", ProviderUserID: "4711"})
		require.NoError(t, err)
		require.NoError(t, e.a.DeleteKey(e.ctx, "github", "4711"))
		require.NoError(t, e.a.DeleteKey(e.ctx, "username", "ann"))
		_, err = e.a.GetKey(e.ctx, "github", "4711")
		require.ErrorIs(t, err, auth.ErrInvalidKeyID)
		_, err = e.a.GetKey(e.ctx, "username", "ann")
		require.NoError(t, err, "a primary key is not deleted")
	}},
	{"MalformedKeyParamsWriteNothing", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		calls := e.counter.count()
		for _, p := range []auth.KeyParams{
			{ProviderID: "", ProviderUserID: "x"},
			{ProviderID: "a:b", ProviderUserID: "x"},
			{ProviderID: "email", ProviderUserID: ""},
			{ProviderID: "email", ProviderUserID: strings.Repeat("x", auth.MaxIDLength)},
			{ProviderID: "email", ProviderUserID: "x", ExpiresIn: -time.Second},
		} {
			_, err := e.a.CreateKey(e.ctx, u.ID, p)
			require.ErrorIs(t, err, auth.ErrInvalidInput, "%+v", p)
			var ie *auth.InputError
			require.ErrorAs(t, err, &ie)
		}
		_, err := e.a.CreateUser(e.ctx, profile{}, &auth.KeyParams{ProviderID: "otp", ProviderUserID: "x", ExpiresIn: time.Hour})
		require.ErrorIs(t, err, auth.ErrInvalidInput, "a primary key cannot be single-use")
		_, err = e.a.UseKey(e.ctx, "", "ann", "pw")
		require.ErrorIs(t, err, auth.ErrInvalidInput)
		assert.Equal(t, calls, e.counter.count(), "malformed input never reaches the adapter")
	}},
	{"SessionLifecycle", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		start := e.clock.Now()
		s := e.session(u.ID)
		assertID(t, s.Token, auth.SessionIDLength)
		assert.Equal(t, auth.HashSessionToken(s.Token), s.ID, "stored under the token's hash")
		assert.Equal(t, auth.Session{
			ID: s.ID, Token: s.Token, UserID: u.ID, State: auth.SessionActive, Fresh: true, IssuedAt: start,
			ActiveExpires: start.Add(24 * time.Hour),
			IdleExpires:   start.Add(15 * 24 * time.Hour),
		}, s)

		// Active: returned as is.
		e.clock.Advance(24*time.Hour - time.Millisecond)
		got, err := e.a.ValidateSession(e.ctx, s.Token)
		require.NoError(t, err)
		want := s
		want.Fresh = false
		assert.Equal(t, want, got)

		// Idle: renewed, with new expiry times.
		e.clock.Advance(time.Millisecond)
		renewed, err := e.a.ValidateSession(e.ctx, s.Token)
		require.NoError(t, err)
		assert.True(t, renewed.Fresh)
		assert.Equal(t, auth.SessionActive, renewed.State)
		assert.Equal(t, e.clock.Now().Add(24*time.Hour), renewed.ActiveExpires)
		assert.Equal(t, e.clock.Now().Add(15*24*time.Hour), renewed.IdleExpires)
		if _, inPlace := e.a.Adapter().(auth.SessionUpdater); inPlace {
			assert.Equal(t, s.ID, renewed.ID, "renewed in place")
			sessions, err := e.a.Adapter().GetSessionsByUserID(e.ctx, u.ID)
			require.NoError(t, err)
			assert.Len(t, sessions, 1)
		} else {
			// Without SessionUpdater: a new session; the old one stays
			// valid until it dies, as in Lucia v1.
			assert.NotEqual(t, s.ID, renewed.ID)
			old, err := e.a.GetSession(e.ctx, s.Token)
			require.NoError(t, err)
			assert.Equal(t, auth.SessionIdle, old.State)
		}

		// Dead: invalid, and deleted from the database.
		e.clock.Advance(15*24*time.Hour - time.Millisecond)
		_, err = e.a.GetSession(e.ctx, renewed.Token)
		require.NoError(t, err, "the renewed session lives until its new idle expiry")
		e.clock.Advance(time.Millisecond)
		for _, dead := range []auth.Session{s, renewed} {
			_, err = e.a.ValidateSession(e.ctx, dead.Token)
			require.ErrorIs(t, err, auth.ErrInvalidSessionID)
			_, err = e.a.Adapter().GetSession(e.ctx, dead.ID)
			require.ErrorIs(t, err, auth.ErrNotFound, "a dead session is deleted when met")
		}
	}},
	{"KeepDeadSessions", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), func(c *auth.Config) { c.KeepDeadSessions = true })
		u := e.user("ann", "pw")
		s := e.session(u.ID)
		e.clock.Advance(15 * 24 * time.Hour)
		_, err := e.a.ValidateSession(e.ctx, s.Token)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID)
		_, err = e.a.CreateSession(e.ctx, u.ID)
		require.NoError(t, err)
		_, err = e.a.Adapter().GetSession(e.ctx, s.ID)
		require.NoError(t, err, "without cleanup the dead session stays")
	}},
	{"CustomPeriods", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), func(c *auth.Config) {
			c.ActivePeriod = time.Hour
			c.IdlePeriod = 2 * time.Hour
		})
		u := e.user("ann", "pw")
		s := e.session(u.ID)
		assert.Equal(t, e.clock.Now().Add(time.Hour), s.ActiveExpires)
		assert.Equal(t, e.clock.Now().Add(3*time.Hour), s.IdleExpires)
		e.clock.Advance(3 * time.Hour)
		_, err := e.a.ValidateSession(e.ctx, s.Token)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID)
	}},
	{"MalformedSessionIDsNeverReachTheAdapter", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		before := e.counter.count()
		for _, id := range []string{
			"", "short",
			strings.Repeat("a", auth.SessionIDLength-1),
			strings.Repeat("a", auth.SessionIDLength+1),
			strings.Repeat("a", auth.SessionIDLength-1) + "-",
			strings.Repeat("é", auth.SessionIDLength/2),
		} {
			_, err := e.a.GetSession(e.ctx, id)
			require.ErrorIs(t, err, auth.ErrInvalidSessionID, "%q", id)
			_, err = e.a.ValidateSession(e.ctx, id)
			require.ErrorIs(t, err, auth.ErrInvalidSessionID, "%q", id)
			_, _, err = e.a.ValidateSessionUser(e.ctx, id)
			require.ErrorIs(t, err, auth.ErrInvalidSessionID, "%q", id)
		}
		assert.Equal(t, before, e.counter.count())
		// A well-formed id does reach it.
		_, err := e.a.GetSession(e.ctx, strings.Repeat("a", auth.SessionIDLength))
		require.ErrorIs(t, err, auth.ErrInvalidSessionID)
		assert.Equal(t, before+1, e.counter.count())
	}},
	{"ValidateSessionUser", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		s := e.session(u.ID)

		before := e.counter.count()
		gotS, gotU, err := e.a.ValidateSessionUser(e.ctx, s.Token)
		require.NoError(t, err)
		assert.Equal(t, s.ID, gotS.ID)
		assert.False(t, gotS.Fresh)
		assert.Equal(t, u, gotU)
		wantCalls := int64(2) // GetSession, GetUser
		if _, ok := e.a.Adapter().(auth.SessionAndUserGetter); ok {
			wantCalls = 1 // GetSessionAndUser
		}
		assert.Equal(t, wantCalls, e.counter.count()-before, "adapter calls for an active session")

		e.clock.Advance(25 * time.Hour)
		renewed, gotU, err := e.a.ValidateSessionUser(e.ctx, s.Token)
		require.NoError(t, err)
		assert.True(t, renewed.Fresh)
		assert.Equal(t, e.clock.Now().Add(24*time.Hour), renewed.ActiveExpires)
		assert.Equal(t, u, gotU)

		require.NoError(t, e.a.DeleteUser(e.ctx, u.ID))
		_, _, err = e.a.ValidateSessionUser(e.ctx, renewed.Token)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID)
	}},
	{"RenewalForDeletedUser", func(t *testing.T, b backend) {
		// A session that outlives its user (left behind by a crash of the
		// standalone protocol, or deleted in between) cannot be renewed.
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		s := e.session(u.ID)
		e.clock.Advance(25 * time.Hour)
		require.NoError(t, e.a.DeleteUser(e.ctx, u.ID))
		_, err := e.a.ValidateSession(e.ctx, s.Token)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID)
	}},
	{"UserSessions", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), func(c *auth.Config) { c.KeepDeadSessions = true })
		u := e.user("ann", "pw")
		other := e.user("bob", "pw")
		dead := e.session(u.ID)
		e.clock.Advance(10 * 24 * time.Hour)
		idle := e.session(u.ID)
		e.clock.Advance(5*24*time.Hour + time.Millisecond) // dead is dead, idle is idle
		active := e.session(u.ID)
		_, err := e.a.CreateSession(e.ctx, other.ID)
		require.NoError(t, err)

		// With KeepDeadSessions, UserSessions leaves the dead one alone.
		live, err := e.a.UserSessions(e.ctx, u.ID)
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{idle.ID, active.ID}, sessionIDs(live))
		_, err = e.a.Adapter().GetSession(e.ctx, dead.ID)
		require.NoError(t, err)

		require.NoError(t, e.a.DeleteDeadUserSessions(e.ctx, u.ID))
		_, err = e.a.Adapter().GetSession(e.ctx, dead.ID)
		require.ErrorIs(t, err, auth.ErrNotFound)
		_, err = e.a.GetSession(e.ctx, idle.Token)
		require.NoError(t, err)

		_, err = e.a.UserSessions(e.ctx, "no-such-user")
		require.ErrorIs(t, err, auth.ErrInvalidUserID)
	}},
	{"AutomaticCleanup", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		first := e.session(u.ID)
		second := e.session(u.ID)
		e.clock.Advance(16 * 24 * time.Hour)
		third := e.session(u.ID)
		recs, err := e.a.Adapter().GetSessionsByUserID(e.ctx, u.ID)
		require.NoError(t, err)
		require.Len(t, recs, 1, "creating a session deletes the user's dead ones (%s, %s)", first.ID, second.ID)
		assert.Equal(t, third.ID, recs[0].ID)

		e.clock.Advance(16 * 24 * time.Hour)
		live, err := e.a.UserSessions(e.ctx, u.ID)
		require.NoError(t, err)
		assert.Empty(t, live)
		recs, err = e.a.Adapter().GetSessionsByUserID(e.ctx, u.ID)
		require.NoError(t, err)
		assert.Empty(t, recs, "UserSessions deletes dead sessions")
	}},
	{"InvalidateSessions", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		other := e.user("bob", "pw")
		s1 := e.session(u.ID)
		s2 := e.session(u.ID)
		s3 := e.session(u.ID)
		kept := e.session(other.ID)

		require.NoError(t, e.a.InvalidateSession(e.ctx, s1.ID))
		_, err := e.a.ValidateSession(e.ctx, s1.Token)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID)
		_, err = e.a.ValidateSession(e.ctx, s2.Token)
		require.NoError(t, err)
		require.NoError(t, e.a.InvalidateSession(e.ctx, s1.ID), "invalidating twice is fine")

		require.NoError(t, e.a.InvalidateUserSessions(e.ctx, u.ID))
		for _, id := range []string{s2.ID, s3.ID} {
			_, err = e.a.ValidateSession(e.ctx, id)
			require.ErrorIs(t, err, auth.ErrInvalidSessionID)
		}
		_, err = e.a.ValidateSession(e.ctx, kept.Token)
		require.NoError(t, err)
	}},
	{"CreateSessionForUnknownUser", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		_, err := e.a.CreateSession(e.ctx, "no-such-user")
		require.ErrorIs(t, err, auth.ErrInvalidUserID)
	}},
	{"CanceledContext", func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		ctx, cancel := context.WithCancel(e.ctx)
		cancel()
		_, err := e.a.CreateSession(ctx, u.ID)
		require.ErrorIs(t, err, context.Canceled)
		_, err = e.a.UseKey(ctx, "username", "ann", "pw")
		require.ErrorIs(t, err, context.Canceled)
		_, err = e.a.CreateUser(ctx, profile{Username: "bob"}, &auth.KeyParams{ProviderID: "username", ProviderUserID: "bob", Password: "pw"})
		require.ErrorIs(t, err, context.Canceled)
		_, err = e.a.GetKey(e.ctx, "username", "bob")
		require.ErrorIs(t, err, auth.ErrInvalidKeyID, "nothing was written")
		sessions, err := e.a.Adapter().GetSessionsByUserID(e.ctx, u.ID)
		require.NoError(t, err)
		assert.Empty(t, sessions)
	}},
}

func TestCore(t *testing.T) {
	backends := append(memoryBackends[:len(memoryBackends):len(memoryBackends)], mongoBackend, sqliteBackend)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range coreTests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, b)
				})
			}
		})
	}
}

// assertID checks a generated id's length and alphabet.
func assertID(t *testing.T, id string, length int) {
	t.Helper()
	assert.Len(t, id, length)
	assert.Equal(t, "", strings.Trim(id, auth.IDAlphabet), "id %q has characters outside the alphabet", id)
}

func sessionIDs(sessions []auth.Session) []string {
	ids := make([]string, len(sessions))
	for i, s := range sessions {
		ids[i] = s.ID
	}
	return ids
}
