package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// requireThrottled checks that err is ErrThrottled with the given wait.
func requireThrottled(t *testing.T, err error, retryAfter time.Duration, msg string) {
	t.Helper()
	require.ErrorIs(t, err, auth.ErrThrottled, msg)
	var le *auth.LimitError
	require.ErrorAs(t, err, &le, msg)
	assert.Equal(t, retryAfter, le.RetryAfter, msg)
}

// testKeyThrottle: 3 free failures, then 1, 2, 4 minutes, locked at 5.
var testKeyThrottle = auth.ThrottlePolicy{FreeFailures: 3, BaseDelay: time.Minute, MaxDelay: 5 * time.Minute, ForgetAfter: time.Hour}

// TestKeyThrottle: failures for one key slow down its further attempts,
// then lock it; a locked attempt reads nothing, hashes nothing, takes as
// long as a failed login and looks the same whether or not the key exists.
func TestKeyThrottle(t *testing.T) {
	for _, b := range allBackends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e, clock := newTimedEnv(t, b, func(c *auth.Config) { c.KeyThrottle = testKeyThrottle })
			u := e.user("ann", "right")
			_, err := e.a.UseKey(e.ctx, "username", "ann", "right") // measures the formats
			require.NoError(t, err)
			failure, err := timedUseKey(e, clock, "username", "ann", "wrong")
			require.ErrorIs(t, err, auth.ErrInvalidPassword)

			for _, user := range []string{"ann", "nobody"} {
				for i := range 2 {
					_, err := e.a.UseKey(e.ctx, "username", user, "wrong")
					require.Error(t, err)
					require.NotErrorIs(t, err, auth.ErrThrottled, "%s: failure %d is free", user, i)
				}
				if user == "nobody" {
					_, err := e.a.UseKey(e.ctx, "username", user, "wrong")
					require.ErrorIs(t, err, auth.ErrInvalidKeyID, "the third failure is free")
				}
				calls := e.counter.count()
				took, err := timedUseKey(e, clock, "username", user, "right")
				requireThrottled(t, err, time.Minute, user+": the 4th attempt, even with the right password")
				assert.Equal(t, calls, e.counter.count(), "%s: a throttled attempt reads nothing", user)
				assert.Equal(t, failure, took, "%s: a throttled attempt takes as long as a failure", user)
			}

			// Waits double up to the lock; throttled attempts do not count.
			for _, wait := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
				_, err := e.a.UseKey(e.ctx, "username", "ann", "wrong")
				requireThrottled(t, err, wait, "still waiting")
				e.clock.Advance(wait - time.Second)
				_, err = e.a.UseKey(e.ctx, "username", "ann", "wrong")
				requireThrottled(t, err, time.Second, "a second early")
				e.clock.Advance(time.Second)
				_, err = e.a.UseKey(e.ctx, "username", "ann", "wrong")
				require.ErrorIs(t, err, auth.ErrInvalidPassword, "after %s", wait)
			}

			// The lock ends; a success clears the key's record.
			e.clock.Advance(5 * time.Minute)
			_, err = e.a.UseKey(e.ctx, "username", "ann", "right")
			require.NoError(t, err)
			for range 3 {
				_, err := e.a.UseKey(e.ctx, "username", "ann", "wrong")
				require.ErrorIs(t, err, auth.ErrInvalidPassword, "free failures again")
			}
			_, err = e.a.UseKey(e.ctx, "username", "ann", "wrong")
			requireThrottled(t, err, time.Minute, "throttled again")

			// Unused for ForgetAfter after its wait, a record is forgotten:
			// "nobody" has its free failures back (else its second attempt
			// here would wait 2 minutes).
			e.clock.Advance(time.Hour)
			for range 3 {
				_, err := e.a.UseKey(e.ctx, "username", "nobody", "wrong")
				require.ErrorIs(t, err, auth.ErrInvalidKeyID, "forgotten after ForgetAfter")
			}
			_, err = e.a.UseKey(e.ctx, "username", "nobody", "wrong")
			requireThrottled(t, err, time.Minute, "counted afresh")

			// Other keys are not affected.
			_, err = e.a.CreateKey(e.ctx, u.ID, auth.KeyParams{ProviderID: "email", ProviderUserID: "ann@example.com", Password: "right"})
			require.NoError(t, err)
			_, err = e.a.UseKey(e.ctx, "email", "ann@example.com", "right")
			require.NoError(t, err)
		})
	}
}

// TestConcurrentAttemptsCannotSlipPastTheThrottle: an attempt counts when
// it starts, not when it fails, so a burst at a key that has not failed
// yet gets only its free attempts verified. Every verification is held
// until each attempt of the burst has either reached the hasher or been
// turned away, so the burst overlaps on any machine.
func TestConcurrentAttemptsCannotSlipPastTheThrottle(t *testing.T) {
	hasher := &heldVerifier{PasswordHasher: auth.InsecureFastHasher(), release: make(chan struct{})}
	e := newEnv(t, newMemoryAdapter(), func(c *auth.Config) {
		c.PasswordHasher = hasher
		c.KeyThrottle = testKeyThrottle
		c.MaxConcurrentHashes = -1
	})
	e.user("ann", "right")
	require.NoError(t, auth.PrepareLogins(e.ctx, e.a))
	hasher.armed.Store(true)
	const burst = 50
	var throttled, answered atomic.Int64
	var wg sync.WaitGroup
	for range burst {
		wg.Go(func() {
			defer answered.Add(1)
			_, err := e.a.UseKey(e.ctx, "username", "ann", "wrong")
			if errors.Is(err, auth.ErrThrottled) {
				throttled.Add(1)
			} else {
				assert.ErrorIs(t, err, auth.ErrInvalidPassword)
			}
		})
	}
	require.Eventually(t, func() bool { return hasher.held.Load()+answered.Load() == burst },
		time.Minute, time.Millisecond, "every attempt reaches the hasher or is answered")
	close(hasher.release)
	wg.Wait()
	assert.Equal(t, int64(testKeyThrottle.FreeFailures), hasher.held.Load(), "only the free attempts were verified")
	assert.Equal(t, int64(burst-testKeyThrottle.FreeFailures), throttled.Load())
}

// heldVerifier holds every Verify, once armed, until release is closed,
// counting the calls it holds.
type heldVerifier struct {
	auth.PasswordHasher
	armed   atomic.Bool
	held    atomic.Int64
	release chan struct{}
}

func (h *heldVerifier) Verify(ctx context.Context, hash, password string) (bool, error) {
	if h.armed.Load() {
		h.held.Add(1)
		select {
		case <-h.release:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	return h.PasswordHasher.Verify(ctx, hash, password)
}

// loginFrom posts a login from the given remote address.
func loginFrom(e *env, remoteAddr, username, password string) error {
	r := request(http.MethodPost, "", "https://"+testHost)
	r.RemoteAddr = remoteAddr
	_, err := e.a.LogIn(httptest.NewRecorder(), r, "username", username, password)
	return err
}

// TestClientThrottle: LogIn also counts failures per client (by default
// its IP address), over every key; a success takes back only its own
// attempt, so an attacker cannot reset the count with an account of their
// own.
func TestClientThrottle(t *testing.T) {
	for _, b := range allBackends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b.newAdapter(t), func(c *auth.Config) {
				c.ClientThrottle = auth.ThrottlePolicy{FreeFailures: 4, BaseDelay: time.Minute}
			})
			e.user("mallory", "mallory's")
			e.user("ann", "ann's")
			const attacker = "203.0.113.7:4711"
			for i := range 4 {
				require.ErrorIs(t, loginFrom(e, attacker, "user"+strconv.Itoa(i), "guess"), auth.ErrInvalidKeyID)
				if i < 3 {
					require.NoError(t, loginFrom(e, attacker, "mallory", "mallory's"), "the attacker's own account")
				}
			}
			err := loginFrom(e, "203.0.113.7:5000", "ann", "ann's")
			requireThrottled(t, err, time.Minute, "the fifth attempt from the address, on any key")
			require.NoError(t, loginFrom(e, "198.51.100.1:4711", "ann", "ann's"), "another client")
			_, err = e.a.UseKey(e.ctx, "username", "ann", "ann's")
			require.NoError(t, err, "UseKey has no client")
			e.clock.Advance(time.Minute)
			require.ErrorIs(t, loginFrom(e, attacker, "ann", "guess"), auth.ErrInvalidPassword)
		})
	}
}

func TestClientIP(t *testing.T) {
	for remote, want := range map[string]string{
		"203.0.113.7:4711":            "203.0.113.7",
		"[::ffff:203.0.113.7]:4711":   "203.0.113.7",
		"[2001:db8:1:2:3:4:5:6]:4711": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:80":   "2001:db8:1:2::/64",
		"@":                           "@",
		"not an address":              "not an address",
	} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = remote
		assert.Equal(t, want, auth.ClientIP(r), remote)
	}
}

// recordingStore is a ThrottleStore that notes the keys it is asked for,
// or fails.
type recordingStore struct {
	auth.ThrottleStore
	mu   sync.Mutex
	keys []string
	err  error
}

func (s *recordingStore) Update(ctx context.Context, key string, update func(auth.ThrottleRecord) auth.ThrottleRecord) error {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	return s.ThrottleStore.Update(ctx, key, update)
}

// TestThrottleStore: the records go to Config.ThrottleStore, named by kind;
// a failing store fails the login (closed) instead of skipping the check.
func TestThrottleStore(t *testing.T) {
	store := &recordingStore{ThrottleStore: auth.NewMemoryThrottleStore(0)}
	e := newEnv(t, newMemoryAdapter(), func(c *auth.Config) {
		c.ThrottleStore = store
		c.ClientKey = func(r *http.Request) string { return r.Header.Get("X-Client") }
	})
	e.user("ann", "right")
	r := request(http.MethodPost, "", "https://"+testHost)
	r.Header.Set("X-Client", "client-7")
	_, err := e.a.LogIn(httptest.NewRecorder(), r, "username", "ann", "wrong")
	require.ErrorIs(t, err, auth.ErrInvalidPassword)
	assert.Equal(t, []string{"client:client-7", "key:username:ann", // counted
		"key:username:ann", "client:client-7"}, // dated when answered
		store.keys)

	store.keys = nil
	store.err = errors.New("store down")
	_, err = e.a.UseKey(e.ctx, "username", "ann", "right")
	require.ErrorIs(t, err, store.err)
}

// TestMemoryThrottleStoreIsBounded: spraying more keys than the store
// holds drops the records updated longest ago, and expired records go.
func TestMemoryThrottleStoreIsBounded(t *testing.T) {
	ctx := context.Background()
	s := auth.NewMemoryThrottleStore(100)
	now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	set := func(key string, at time.Time, failures int) {
		require.NoError(t, s.Update(ctx, key, func(r auth.ThrottleRecord) auth.ThrottleRecord {
			return auth.ThrottleRecord{Failures: r.Failures + failures, Last: at, Expires: at.Add(time.Hour)}
		}))
	}
	get := func(key string) (rec auth.ThrottleRecord) {
		require.NoError(t, s.Update(ctx, key, func(r auth.ThrottleRecord) auth.ThrottleRecord { rec = r; return r }))
		return rec
	}
	set("victim", now, 5)
	for i := range 1000 {
		set("spray"+strconv.Itoa(i), now, 1)
		if i%50 == 0 {
			set("victim", now, 0) // touched: stays
		}
	}
	assert.Equal(t, 100, s.Len())
	assert.Equal(t, 5, get("victim").Failures, "a record updated recently stays")
	assert.Zero(t, get("spray0").Failures, "the oldest were dropped")

	later := now.Add(2 * time.Hour)
	for i := range 60 {
		set("fresh"+strconv.Itoa(i), later, 1)
	}
	assert.Equal(t, 60, s.Len(), "records expired before the latest attempt are dropped")

	require.NoError(t, s.Update(ctx, "fresh0", func(auth.ThrottleRecord) auth.ThrottleRecord { return auth.ThrottleRecord{} }))
	assert.Equal(t, 59, s.Len(), "a cleared record is deleted")
}

// TestThrottleWaitsCountFromTheAnswer: a wait runs from when the failure
// was answered, so that holding failures to the floor (here 2 s, longer
// than the first wait) does not use the wait up.
func TestThrottleWaitsCountFromTheAnswer(t *testing.T) {
	e, clock := newTimedEnv(t, memoryBackends[0], func(c *auth.Config) {
		c.KeyThrottle = auth.ThrottlePolicy{FreeFailures: 1, BaseDelay: time.Second}
		c.MinFailedLoginTime = 2 * time.Second
	})
	// Holding a failure takes time on both clocks, as it does in reality.
	auth.SetLoginTiming(e.a, clock.Now, func(_ context.Context, d time.Duration) { clock.Advance(d); e.clock.Advance(d) }, true)
	e.user("ann", "right")
	took, err := timedUseKey(e, clock, "username", "ann", "wrong")
	require.ErrorIs(t, err, auth.ErrInvalidPassword)
	require.Equal(t, 2*time.Second, took)
	_, err = e.a.UseKey(e.ctx, "username", "ann", "right")
	requireThrottled(t, err, time.Second, "the wait starts when the failure is answered")
}
