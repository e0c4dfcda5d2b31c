package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// Races between a login and a password change, played out in a fixed
// order with a gateHasher.

// outdatedHash is a hash of password that the tests' hasher
// (InsecureFastHasher, m=8) verifies and wants replaced (other parameters).
func outdatedHash(t *testing.T, password string) string {
	t.Helper()
	hash, err := (&auth.Argon2id{Memory: 16, Iterations: 1, Parallelism: 1}).Hash(t.Context(), password)
	require.NoError(t, err)
	require.True(t, auth.InsecureFastHasher().NeedsRehash(hash))
	return hash
}

// annWithOutdatedHash returns an env over a fresh adapter of b, with a
// gateHasher, and a user "ann" whose key username:ann holds an outdated
// hash of password.
func annWithOutdatedHash(t *testing.T, b backend, password string) (*env, *gateHasher) {
	t.Helper()
	e, hasher := newGateEnv(t, b)
	u, err := e.a.CreateUser(e.ctx, profile{Username: "ann"}, nil)
	require.NoError(t, err)
	storeKey(t, e, u.ID, "username:ann", outdatedHash(t, password))
	return e, hasher
}

// storedHash reads the key's hash straight from the adapter.
func storedHash(t *testing.T, e *env, keyID string) string {
	t.Helper()
	rec, err := e.a.Adapter().GetKey(e.ctx, keyID)
	require.NoError(t, err)
	require.NotNil(t, rec.HashedPassword)
	return *rec.HashedPassword
}

// replacesHashes reports whether the adapter can replace a hash by
// compare-and-set on its database (auth.KeyPasswordReplacer, supported).
func replacesHashes(t *testing.T, adapter auth.Adapter) bool {
	t.Helper()
	r, ok := adapter.(auth.KeyPasswordReplacer)
	if !ok {
		return false
	}
	err := r.ReplaceKeyPassword(t.Context(), "probe:no-such-key", "old", "new")
	if errors.Is(err, errors.ErrUnsupported) {
		return false
	}
	require.ErrorIs(t, err, auth.ErrNotFound)
	return true
}

// TestLoginUpgradesHashesOnlyByCompareAndSet: a login replaces an outdated
// hash where the adapter can do it safely, and leaves it alone where not.
func TestLoginUpgradesHashesOnlyByCompareAndSet(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		e, _ := annWithOutdatedHash(t, b, "pw")
		old := storedHash(t, e, "username:ann")
		_, err := e.a.UseKey(e.ctx, "username", "ann", "pw")
		require.NoError(t, err)
		if replacesHashes(t, e.a.Adapter()) {
			assert.Regexp(t, `^\$argon2id\$v=19\$m=8,t=1,p=1\$`, storedHash(t, e, "username:ann"), "upgraded")
		} else {
			assert.Equal(t, old, storedHash(t, e, "username:ann"), "no compare-and-set, no upgrade")
		}
		_, err = e.a.UseKey(e.ctx, "username", "ann", "pw")
		require.NoError(t, err)
	})
}

// TestRehashNeverRestoresAnOldPassword: a login with the old password
// computes an upgraded hash while the password is changed. The upgrade must
// not be stored over the new password.
func TestRehashNeverRestoresAnOldPassword(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		e, hasher := annWithOutdatedHash(t, b, "old password")
		rehashing := hasher.holdNextHash()
		login := async(func() (auth.Key, error) { return e.a.UseKey(e.ctx, "username", "ann", "old password") })
		select {
		case <-rehashing.reached:
			// The login verified the old password and holds its new hash.
			_, err := e.a.UpdateKeyPassword(e.ctx, "username", "ann", "new password")
			require.NoError(t, err)
			rehashing.open()
			if r := <-login; r.err != nil {
				require.ErrorIs(t, r.err, auth.ErrInvalidPassword, "the login may fail: its password is no longer the key's")
			}
		case r := <-login:
			// This adapter cannot replace hashes safely: no upgrade at all.
			require.NoError(t, r.err)
			rehashing.open() // for the next Hash, which is the change's
			_, err := e.a.UpdateKeyPassword(e.ctx, "username", "ann", "new password")
			require.NoError(t, err)
		}
		_, err := e.a.UseKey(e.ctx, "username", "ann", "new password")
		require.NoError(t, err, "the new password works")
		_, err = e.a.UseKey(e.ctx, "username", "ann", "old password")
		require.ErrorIs(t, err, auth.ErrInvalidPassword, "the old password must not come back")
	})
}

// loginCalls are the ways to log in with a password and get a session.
var loginCalls = []struct {
	name  string
	login func(e *env, password string) (auth.Session, error)
}{
	{"LogIn", func(e *env, password string) (auth.Session, error) {
		return e.a.LogIn(httptest.NewRecorder(), request(http.MethodPost, "", "https://"+testHost), "username", "ann", password)
	}},
	{"UseKeyAndCreateSession", func(e *env, password string) (auth.Session, error) {
		_, s, err := e.a.UseKeyAndCreateSession(e.ctx, "username", "ann", password)
		return s, err
	}},
}

// TestPasswordChangeEndsConcurrentLogins: once a password change followed
// by "end all sessions" has returned, no login that verified the old
// password may leave a session behind, however the two interleave. Here
// the login has verified the old password and not yet created its session
// when the change and the logout run.
func TestPasswordChangeEndsConcurrentLogins(t *testing.T) {
	for _, call := range loginCalls {
		t.Run(call.name, func(t *testing.T) {
			forEveryBackend(t, func(t *testing.T, b backend) {
				e, hasher := newGateEnv(t, b)
				u := e.user("ann", "old password")

				verified := hasher.holdNextVerify()
				login := async(func() (auth.Session, error) { return call.login(e, "old password") })
				verified.wait(t)
				_, err := e.a.UpdateKeyPassword(e.ctx, "username", "ann", "new password")
				require.NoError(t, err)
				require.NoError(t, e.a.InvalidateUserSessions(e.ctx, u.ID))
				verified.open()

				r := <-login
				require.ErrorIs(t, r.err, auth.ErrInvalidPassword)
				sessions, err := e.a.Adapter().GetSessionsByUserID(e.ctx, u.ID)
				require.NoError(t, err)
				assert.Empty(t, sessions, "the login left a session behind")
			})
		})
	}
}

// TestConcurrentUpgradeDoesNotFailALogin: two logins verify the same
// outdated hash; the first stores its upgrade while the second is held.
// The second sees another hash than it verified, but one that accepts the
// same password: it must succeed.
func TestConcurrentUpgradeDoesNotFailALogin(t *testing.T) {
	for _, call := range loginCalls {
		t.Run(call.name, func(t *testing.T) {
			forEveryBackend(t, func(t *testing.T, b backend) {
				e, hasher := annWithOutdatedHash(t, b, "pw")
				verified := hasher.holdNextVerify()
				held := async(func() (auth.Session, error) { return call.login(e, "pw") })
				verified.wait(t)
				first, err := call.login(e, "pw")
				require.NoError(t, err)
				verified.open()
				second := <-held
				require.NoError(t, second.err)
				for _, s := range []auth.Session{first, second.value} {
					_, err := e.a.GetSession(e.ctx, s.Token)
					require.NoError(t, err, "both sessions live")
				}
			})
		})
	}
}

// TestBusyUpgradeDoesNotFailALogin: a login whose password matched is not
// failed because its opportunistic hash upgrade finds every hashing slot
// taken; the upgrade is skipped and the old hash stays.
func TestBusyUpgradeDoesNotFailALogin(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		e, hasher := newGateEnv(t, b, func(c *auth.Config) {
			c.MaxConcurrentHashes = 1
			c.MaxHashWait = 100 * time.Millisecond
		})
		u, err := e.a.CreateUser(e.ctx, profile{Username: "ann"}, nil)
		require.NoError(t, err)
		old := outdatedHash(t, "pw")
		storeKey(t, e, u.ID, "username:ann", old)

		verifying := hasher.holdNextVerify()
		login := async(func() (auth.Key, error) { return e.a.UseKey(e.ctx, "username", "ann", "pw") })
		verifying.wait(t) // the login holds the only slot
		hashing := hasher.holdNextHash()
		other := async(func() (auth.Key, error) { return e.a.UpdateKeyPassword(e.ctx, "username", "nobody", "x") })
		require.Eventually(t, func() bool { return auth.HashWaiters(e.a) == 1 }, time.Minute, time.Millisecond)
		verifying.open() // the slot goes to the waiting call, which holds it
		r := <-login
		hashing.open()
		<-other
		require.NoError(t, r.err, "the password matched")
		assert.Equal(t, old, storedHash(t, e, "username:ann"), "no upgrade without a slot")
	})
}
