package interop_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// profile is the user attributes both applications use.
type profile struct {
	Username string `auth:"username"`
}

// clock is Config.Now: the real time plus an offset the test moves. Lucia
// keeps the real time, so moving Go's clock back creates sessions that are
// already idle or dead for Lucia, and moving it forward makes Go see
// Lucia's sessions idle or dead.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) set(d time.Duration) { c.offset.Store(int64(d)) }

// sides is one database seen by Lucia (JavaScript) and by the Go core in
// the two configurations the README describes.
type sides struct {
	js        *lucia
	adapter   auth.Adapter
	clock     *clock
	shared    *auth.Auth[profile] // LuciaV1, the shared-database setup
	upgrading *auth.Auth[profile] // the default hasher, for a Go-only database
}

// upgradesHashes reports whether logins through the adapter can upgrade a
// hash: whether it swaps hashes atomically here, as asked of a key that
// does not exist (ErrNotFound if it can, errors.ErrUnsupported if not).
func (s *sides) upgradesHashes(ctx context.Context) bool {
	r, ok := s.adapter.(auth.KeyPasswordReplacer)
	return ok && !errors.Is(r.ReplaceKeyPassword(ctx, "username:nobody", "s2:a:b", "s2:c:d"), errors.ErrUnsupported)
}

func newSides(t *testing.T, js *lucia, adapter auth.Adapter) *sides {
	t.Helper()
	s := &sides{js: js, adapter: adapter, clock: &clock{}}
	var err error
	s.shared, err = auth.New[profile](adapter, auth.Config{LuciaV1: true, Now: s.clock.Now})
	require.NoError(t, err)
	s.upgrading, err = auth.New[profile](adapter, auth.Config{Now: s.clock.Now})
	require.NoError(t, err)
	return s
}

// storedHash reads a key's hash straight from the adapter.
func (s *sides) storedHash(t *testing.T, ctx context.Context, keyID string) string {
	t.Helper()
	rec, err := s.adapter.GetKey(ctx, keyID)
	require.NoError(t, err)
	require.NotNil(t, rec.HashedPassword, keyID)
	return *rec.HashedPassword
}

const s2Pattern = `^s2:[a-zA-Z0-9]{16}:[0-9a-f]{128}$`

// runScenarios checks both directions on one database. The subtests run
// in order against one Lucia process; each uses its own users.
func runScenarios(t *testing.T, ctx context.Context, s *sides) {
	t.Run("JSSignUpGoLogIn", func(t *testing.T) {
		u := s.js.signUp("ann", "ann's password", map[string]any{"username": "ann"})
		jsHash := s.storedHash(t, ctx, "username:ann")
		require.Regexp(t, s2Pattern, jsHash, "Lucia's own hash")

		_, err := s.shared.UseKey(ctx, "username", "ann", "wrong")
		require.ErrorIs(t, err, auth.ErrInvalidPassword)
		key, err := s.shared.UseKey(ctx, "username", "ann", "ann's password")
		require.NoError(t, err)
		assert.Equal(t, u.UserID, key.UserID)
		_, code := s.js.logIn("ann", "ann's password")
		require.Empty(t, code, "Lucia after a Go login")
		_, err = s.shared.UseKey(ctx, "username", "ann", "ann's password")
		require.NoError(t, err, "Go after a Lucia login")
		assert.Equal(t, jsHash, s.storedHash(t, ctx, "username:ann"), "the shared setup keeps the hash")

		user, err := s.shared.GetUser(ctx, u.UserID)
		require.NoError(t, err)
		assert.Equal(t, "ann", user.Attributes.Username)
	})

	t.Run("GoSignUpJSLogIn", func(t *testing.T) {
		user, err := s.shared.CreateUser(ctx, profile{Username: "bob"},
			&auth.KeyParams{ProviderID: "username", ProviderUserID: "bob", Password: "bob's password"})
		require.NoError(t, err)
		goHash := s.storedHash(t, ctx, "username:bob")
		require.Regexp(t, s2Pattern, goHash, "LuciaScrypt's hash")

		_, err = s.shared.UseKey(ctx, "username", "bob", "bob's password")
		require.NoError(t, err)
		key, code := s.js.logIn("bob", "bob's password")
		require.Empty(t, code, "Lucia verifies the Go hash, after a Go login")
		assert.Equal(t, user.ID, key.UserID)
		_, err = s.shared.UseKey(ctx, "username", "bob", "bob's password")
		require.NoError(t, err, "Go after a Lucia login")
		assert.Equal(t, goHash, s.storedHash(t, ctx, "username:bob"))

		var jsUser jsUser
		s.js.must(&jsUser, "getUser", user.ID)
		assert.Equal(t, "bob", jsUser.Attributes["username"])

		// A password change from Go, then a login from Lucia.
		_, err = s.shared.UpdateKeyPassword(ctx, "username", "bob", "bob's new password")
		require.NoError(t, err)
		_, code = s.js.logIn("bob", "bob's new password")
		require.Empty(t, code)
		_, code = s.js.logIn("bob", "bob's password")
		require.Equal(t, "AUTH_INVALID_PASSWORD", code, "the old password")
	})

	t.Run("Sessions", func(t *testing.T) {
		// No password: Lucia's scrypt is plain JavaScript, seconds a hash.
		u := s.js.signUp("cleo", "", map[string]any{"username": "cleo"})

		// A session Lucia created, validated by Go.
		var js jsSession
		s.js.must(&js, "createSession", u.UserID)
		session, user, err := s.shared.ValidateSessionUser(ctx, js.SessionID)
		require.NoError(t, err)
		assert.Equal(t, auth.SessionActive, session.State)
		assert.False(t, session.Fresh)
		assert.Equal(t, js.ActivePeriodExpiresAt, session.ActiveExpires.UnixMilli())
		assert.Equal(t, js.IdlePeriodExpiresAt, session.IdleExpires.UnixMilli())
		assert.Equal(t, "cleo", user.Attributes.Username)
		assert.Nil(t, session.Attributes, "Lucia v1 writes no session attributes")

		// Go renews it in place when idle (same id, later expiries); Lucia
		// accepts the renewed session.
		s.clock.set(25 * time.Hour)
		renewed, err := s.shared.ValidateSession(ctx, js.SessionID)
		s.clock.set(0)
		require.NoError(t, err)
		require.True(t, renewed.Fresh)
		require.Equal(t, js.SessionID, renewed.ID)
		require.Greater(t, renewed.IdleExpires.UnixMilli(), js.IdlePeriodExpiresAt)
		got, jsUser, code := s.js.validate(renewed.ID)
		require.Empty(t, code, "Lucia validates Go's renewal")
		assert.Equal(t, "active", got.State)
		assert.False(t, got.Fresh)
		assert.Equal(t, renewed.ActiveExpires.UnixMilli(), got.ActivePeriodExpiresAt)
		assert.Equal(t, renewed.IdleExpires.UnixMilli(), got.IdlePeriodExpiresAt)
		assert.Equal(t, u.UserID, jsUser.UserID)

		// A session Go created a day and an hour ago: idle for Lucia, which
		// renews it; Go accepts the new session.
		s.clock.set(-25 * time.Hour)
		old, err := s.shared.CreateSession(ctx, u.UserID)
		s.clock.set(0)
		require.NoError(t, err)
		got, _, code = s.js.validate(old.ID)
		require.Empty(t, code)
		require.True(t, got.Fresh, "Lucia renewed the idle session")
		require.NotEqual(t, old.ID, got.SessionID)
		session, err = s.shared.ValidateSession(ctx, got.SessionID)
		require.NoError(t, err, "Go validates Lucia's renewal")
		assert.Equal(t, auth.SessionActive, session.State)
		assert.False(t, session.Fresh)
		assert.Equal(t, got.IdlePeriodExpiresAt, session.IdleExpires.UnixMilli())

		// A dead session is refused and deleted by either side.
		s.clock.set(-16 * 24 * time.Hour)
		dead, err := s.shared.CreateSession(ctx, u.UserID)
		s.clock.set(0)
		require.NoError(t, err)
		_, _, code = s.js.validate(dead.ID)
		require.Equal(t, "AUTH_INVALID_SESSION_ID", code)
		_, err = s.adapter.GetSession(ctx, dead.ID)
		require.ErrorIs(t, err, auth.ErrNotFound, "Lucia deleted the dead session")
		s.js.must(&js, "createSession", u.UserID)
		s.clock.set(16 * 24 * time.Hour)
		_, err = s.shared.ValidateSession(ctx, js.SessionID)
		s.clock.set(0)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID)
		_, _, code = s.js.validate(js.SessionID)
		require.Equal(t, "AUTH_INVALID_SESSION_ID", code, "Go deleted the dead session")

		// Logging out on one side ends the session on the other.
		require.NoError(t, s.shared.InvalidateSession(ctx, got.SessionID))
		_, _, code = s.js.validate(got.SessionID)
		require.Equal(t, "AUTH_INVALID_SESSION_ID", code)
	})

	t.Run("SessionMaxAge", func(t *testing.T) {
		// Lucia writes no creation time: Go's first validation stores it,
		// which Lucia ignores, and from then on Go ends the session 30
		// days later however often it renews it.
		u := s.js.signUp("fred", "", map[string]any{"username": "fred"})
		var js jsSession
		s.js.must(&js, "createSession", u.UserID)
		stored, err := s.adapter.GetSession(ctx, js.SessionID)
		require.NoError(t, err)
		require.Zero(t, stored.IssuedAt, "Lucia stores none")
		first, err := s.shared.ValidateSession(ctx, js.SessionID)
		require.NoError(t, err)
		stored, err = s.adapter.GetSession(ctx, js.SessionID)
		require.NoError(t, err)
		require.Equal(t, first.IssuedAt.UnixMilli(), stored.IssuedAt, "Go's first validation stores it")
		_, _, code := s.js.validate(js.SessionID)
		require.Empty(t, code, "Lucia reads the session with Go's issued_at")

		for _, days := range []int{10, 20, 29} {
			s.clock.set(time.Duration(days) * 24 * time.Hour)
			renewed, err := s.shared.ValidateSession(ctx, js.SessionID)
			s.clock.set(0)
			require.NoError(t, err, "day %d", days)
			require.True(t, renewed.Fresh, "renewed on day %d", days)
		}
		s.clock.set(auth.DefaultSessionMaxAge)
		_, err = s.shared.ValidateSession(ctx, js.SessionID)
		s.clock.set(0)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID, "30 days after Go first saw it")
		_, _, code = s.js.validate(js.SessionID)
		require.Equal(t, "AUTH_INVALID_SESSION_ID", code, "Go deleted it")
	})

	t.Run("DefaultConfigurationUpgrades", func(t *testing.T) {
		// What the README says of the default hasher: the first Go login
		// replaces Lucia's hash with argon2id, and Lucia refuses the
		// password from then on.
		s.js.signUp("dora", "dora's password", map[string]any{"username": "dora"})
		_, err := s.upgrading.UseKey(ctx, "username", "dora", "dora's password")
		require.NoError(t, err)
		if !s.upgradesHashes(ctx) {
			// An adapter that cannot swap a hash atomically (MongoDB's on
			// FerretDB) declines the upgrade, as the README says: Lucia's
			// hash stays. Set an argon2id one to go on.
			require.Regexp(t, `^s2:`, s.storedHash(t, ctx, "username:dora"))
			_, code := s.js.logIn("dora", "dora's password")
			require.Empty(t, code, "the hash was left alone")
			_, err = s.upgrading.UpdateKeyPassword(ctx, "username", "dora", "dora's password")
			require.NoError(t, err)
		}
		require.Regexp(t, `^\$argon2id\$`, s.storedHash(t, ctx, "username:dora"))
		_, code := s.js.logIn("dora", "dora's password")
		require.Equal(t, "AUTH_INVALID_PASSWORD", code, "Lucia cannot verify argon2id")

		// The shared setup does not downgrade that hash: Go logs in,
		// Lucia still cannot, until the password is set again.
		_, err = s.shared.UseKey(ctx, "username", "dora", "dora's password")
		require.NoError(t, err)
		require.Regexp(t, `^\$argon2id\$`, s.storedHash(t, ctx, "username:dora"))
		_, code = s.js.logIn("dora", "dora's password")
		require.Equal(t, "AUTH_INVALID_PASSWORD", code)
		_, err = s.shared.UpdateKeyPassword(ctx, "username", "dora", "dora's new password")
		require.NoError(t, err)
		_, code = s.js.logIn("dora", "dora's new password")
		require.Empty(t, code, "after a password change through the shared setup")

		// A user signed up by Go in the default configuration.
		_, err = s.upgrading.CreateUser(ctx, profile{Username: "emil"},
			&auth.KeyParams{ProviderID: "username", ProviderUserID: "emil", Password: "emil's password"})
		require.NoError(t, err)
		_, code = s.js.logIn("emil", "emil's password")
		require.Equal(t, "AUTH_INVALID_PASSWORD", code)
	})

	t.Run("PasswordlessKey", func(t *testing.T) {
		// Lucia ignores a password sent for a key without one; Go refuses
		// it (README: what differs).
		u := s.js.signUp("finn", "", map[string]any{"username": "finn"})
		key, code := s.js.logIn("finn", "anything")
		require.Empty(t, code)
		assert.False(t, key.PasswordDefined)
		_, err := s.shared.UseKey(ctx, "username", "finn", "anything")
		require.ErrorIs(t, err, auth.ErrInvalidPassword)
		goKey, err := s.shared.UseKey(ctx, "username", "finn", "")
		require.NoError(t, err)
		assert.Equal(t, u.UserID, goKey.UserID)
	})

	t.Run("LongKeyID", func(t *testing.T) {
		// An e-mail key of a 254-byte address: a 260-byte key id, which
		// Lucia stores without a limit.
		address := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 184) + ".test"
		require.Len(t, address, 254)
		var u jsUser
		s.js.must(&u, "createUser", "email", address, nil, map[string]any{"username": "ivan"})
		key, err := s.shared.UseKey(ctx, "email", address, "")
		require.NoError(t, err)
		assert.Equal(t, u.UserID, key.UserID)
	})

	t.Run("GitHubOAuth", func(t *testing.T) { githubScenario(t, ctx, s) })

	t.Run("PasswordChangedByNFKC", func(t *testing.T) {
		// Both sides hash the NFKC form ("pass1"). Lucia verifies the
		// password as typed, so it refuses the full-width spelling even
		// for its own hashes, and for Go's alike; Go accepts both
		// spellings.
		const typed, nfkc = "ｐａｓｓ\u2460", "pass1"
		s.js.signUp("gwen", typed, map[string]any{"username": "gwen"})
		_, err := s.shared.CreateUser(ctx, profile{Username: "hugo"},
			&auth.KeyParams{ProviderID: "username", ProviderUserID: "hugo", Password: typed})
		require.NoError(t, err)
		_, code := s.js.logIn("hugo", typed)
		assert.Equal(t, "AUTH_INVALID_PASSWORD", code)
		_, code = s.js.logIn("hugo", nfkc)
		assert.Empty(t, code)
		for _, name := range []string{"gwen", "hugo"} {
			for _, password := range []string{typed, nfkc} {
				_, err := s.shared.UseKey(ctx, "username", name, password)
				assert.NoError(t, err, "%s %q", name, password)
			}
		}
	})
}
