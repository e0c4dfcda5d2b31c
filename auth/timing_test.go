package auth_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// costHasher verifies with the fast hasher but charges each verification
// what a production one costs, by the hash's format, on a test clock: the
// times measured on this machine in issue 9.
type costHasher struct {
	auth.PasswordHasher
	clock *testClock
	load  atomic.Int64 // multiplies the costs when above 1, as a busy machine does
}

const (
	costArgon2id     = 22 * time.Millisecond
	costScryptS2     = 80 * time.Millisecond
	costScryptLegacy = 40 * time.Millisecond
)

func (h *costHasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	load := time.Duration(max(h.load.Load(), 1))
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		h.clock.Advance(load * costArgon2id)
	case strings.HasPrefix(hash, "s2:"):
		h.clock.Advance(load * costScryptS2)
	case strings.Count(hash, ":") == 1:
		h.clock.Advance(load * costScryptLegacy)
	}
	return h.PasswordHasher.Verify(ctx, hash, password) // bcrypt: refused at once
}

// newTimedEnv is an env whose login timing runs on a test clock of its own,
// with a hasher that charges production costs to it.
func newTimedEnv(t *testing.T, b backend, configure func(*auth.Config)) (*env, *testClock) {
	e, clock, _ := newTimedEnvHasher(t, b, configure)
	return e, clock
}

func newTimedEnvHasher(t *testing.T, b backend, configure func(*auth.Config)) (*env, *testClock, *costHasher) {
	clock := newTestClock() // another than e.clock, which is Config.Now
	hasher := &costHasher{PasswordHasher: auth.InsecureFastHasher(), clock: clock}
	e := newEnv(t, b.newAdapter(t), func(c *auth.Config) {
		c.PasswordHasher = hasher
		if configure != nil {
			configure(c)
		}
	})
	auth.SetLoginTiming(e.a, clock.Now, func(_ context.Context, d time.Duration) { clock.Advance(d) }, true)
	return e, clock, hasher
}

// timedUseKey returns UseKey's error and how long it took on the clock.
func timedUseKey(e *env, clock *testClock, providerID, providerUserID, password string) (time.Duration, error) {
	start := clock.Now()
	_, err := e.a.UseKey(e.ctx, providerID, providerUserID, password)
	return clock.Now().Sub(start), err
}

// TestFailedLoginsTakeTheSameTime: a failed login takes the same time
// whether the key exists and however its password is stored, even for the
// first failure against a format (the first login measures every format).
// Measured on the real hasher by BenchmarkFailedLoginTiming.
func TestFailedLoginsTakeTheSameTime(t *testing.T) {
	vectors := map[string]hashVector{}
	for _, v := range readVectors(t, "testdata/scrypt_vectors.json") {
		vectors[v.Format] = v
	}
	for _, b := range allBackends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e, clock := newTimedEnv(t, b, nil)
			u := e.user("ann", "right")
			storeKey(t, e, u.ID, "email:s2", vectors["s2"].Hash)
			storeKey(t, e, u.ID, "email:legacy", vectors["legacy"].Hash)
			storeKey(t, e, u.ID, "email:bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy")
			_, err := e.a.CreateKey(e.ctx, u.ID, auth.KeyParams{ProviderID: "github", ProviderUserID: "4711"})
			require.NoError(t, err)

			// A successful login is not held: it takes its verification.
			_, err = timedUseKey(e, clock, "username", "ann", "right") // measures the formats
			require.NoError(t, err)
			took, err := timedUseKey(e, clock, "username", "ann", "right")
			require.NoError(t, err)
			assert.Equal(t, costArgon2id, took, "a successful login")

			times := map[string]time.Duration{}
			for _, tc := range []struct {
				name, providerID, providerUserID string
				want                             error
			}{
				{"wrong password, argon2id", "username", "ann", auth.ErrInvalidPassword},
				{"unknown key", "username", "nobody", auth.ErrInvalidKeyID},
				{"wrong password, s2 scrypt", "email", "s2", auth.ErrInvalidPassword},
				{"wrong password, legacy scrypt", "email", "legacy", auth.ErrInvalidPassword},
				{"bcrypt hash", "email", "bcrypt", auth.ErrOutdatedPassword},
				{"password for a passwordless key", "github", "4711", auth.ErrInvalidPassword},
			} {
				took, err := timedUseKey(e, clock, tc.providerID, tc.providerUserID, "wrong")
				require.ErrorIs(t, err, tc.want, tc.name)
				times[tc.name] = took
			}
			for name, took := range times {
				assert.Equal(t, times["unknown key"], took, "%s takes as long as an unknown key", name)
				assert.GreaterOrEqual(t, took, costScryptS2, "%s takes at least the slowest verification", name)
			}
		})
	}
}

// TestMinFailedLoginTime: a configured floor above the measured one wins.
func TestMinFailedLoginTime(t *testing.T) {
	e, clock := newTimedEnv(t, memoryBackends[0], func(c *auth.Config) { c.MinFailedLoginTime = time.Second })
	e.user("ann", "right")
	_, err := timedUseKey(e, clock, "username", "ann", "right") // measures the formats
	require.NoError(t, err)
	took, err := timedUseKey(e, clock, "username", "nobody", "wrong")
	require.ErrorIs(t, err, auth.ErrInvalidKeyID)
	assert.Equal(t, time.Second, took)
}

// TestFailureFloorFollowsTheLoad: the cost of a kind of hash measured only
// at the first login follows the machine's load as the hasher's own kind
// shows it, so that it is still covered when everything slows down.
func TestFailureFloorFollowsTheLoad(t *testing.T) {
	vectors := readVectors(t, "testdata/scrypt_vectors.json")
	e, clock, hasher := newTimedEnvHasher(t, memoryBackends[0], nil)
	u := e.user("ann", "right")
	for _, v := range vectors {
		if v.Format == "s2" {
			storeKey(t, e, u.ID, "email:s2", v.Hash)
			break
		}
	}
	_, err := timedUseKey(e, clock, "username", "ann", "right") // measures the formats
	require.NoError(t, err)
	calm, err := timedUseKey(e, clock, "username", "nobody", "wrong")
	require.ErrorIs(t, err, auth.ErrInvalidKeyID)

	hasher.load.Store(3)
	for range 16 { // logins with the hasher's own kind show the load
		_, err := e.a.UseKey(e.ctx, "username", "ann", "right")
		require.NoError(t, err)
	}
	busy, err := timedUseKey(e, clock, "username", "nobody", "wrong")
	require.ErrorIs(t, err, auth.ErrInvalidKeyID)
	s2, err := timedUseKey(e, clock, "email", "s2", "wrong")
	require.ErrorIs(t, err, auth.ErrInvalidPassword)
	assert.InDelta(t, float64(3*calm), float64(busy), float64(time.Microsecond), "the floor triples with the load")
	assert.Equal(t, busy, s2, "an s2 failure, three times slower now, is still covered")
}
