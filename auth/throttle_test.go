package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/auth/throttletest"
)

// requireThrottled checks that err is ErrThrottled with the given wait.
func requireThrottled(t *testing.T, err error, retryAfter time.Duration, msg string) {
	t.Helper()
	require.ErrorIs(t, err, auth.ErrThrottled, msg)
	var le *auth.LimitError
	require.ErrorAs(t, err, &le, msg)
	assert.Equal(t, retryAfter, le.RetryAfter, msg)
}

// testKeyThrottle: 3 free failures, then one per 5 minutes.
var testKeyThrottle = auth.ThrottlePolicy{FreeFailures: 3, MaxDelay: 5 * time.Minute}

// TestKeyThrottle: failures for one key use up its free failures, then
// one attempt per MaxDelay gets through; a refused attempt reads nothing,
// hashes nothing, takes as long as a failed login and looks the same
// whether or not the key exists; time heals the record.
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
				requireThrottled(t, err, 5*time.Minute, user+": the 4th attempt, even with the right password")
				assert.Equal(t, calls, e.counter.count(), "%s: a refused attempt reads nothing", user)
				assert.Equal(t, failure, took, "%s: a refused attempt takes as long as a failure", user)
			}

			// One attempt per MaxDelay; refused attempts do not count.
			for range 3 {
				e.clock.Advance(5*time.Minute - time.Second)
				_, err = e.a.UseKey(e.ctx, "username", "ann", "wrong")
				requireThrottled(t, err, time.Second, "a second early")
				e.clock.Advance(time.Second)
				_, err = e.a.UseKey(e.ctx, "username", "ann", "wrong")
				require.ErrorIs(t, err, auth.ErrInvalidPassword, "after MaxDelay")
				_, err = e.a.UseKey(e.ctx, "username", "ann", "wrong")
				requireThrottled(t, err, 5*time.Minute, "and then locked again")
			}

			// Time heals, a failure a MaxDelay; a success takes back only
			// its own attempt.
			e.clock.Advance(10 * time.Minute)
			_, err = e.a.UseKey(e.ctx, "username", "ann", "right")
			require.NoError(t, err, "two failures have healed")
			_, err = e.a.UseKey(e.ctx, "username", "ann", "right")
			require.NoError(t, err, "a success takes nothing")
			for range 2 {
				_, err := e.a.UseKey(e.ctx, "username", "ann", "wrong")
				require.ErrorIs(t, err, auth.ErrInvalidPassword, "the healed failures")
			}
			_, err = e.a.UseKey(e.ctx, "username", "ann", "right")
			requireThrottled(t, err, 5*time.Minute, "the success did not clear the record")

			// Unused, a record heals completely: "nobody" has all its free
			// failures back FreeFailures × MaxDelay after its last one.
			e.clock.Advance(15 * time.Minute)
			for range 3 {
				_, err := e.a.UseKey(e.ctx, "username", "nobody", "wrong")
				require.ErrorIs(t, err, auth.ErrInvalidKeyID, "healed")
			}
			_, err = e.a.UseKey(e.ctx, "username", "nobody", "wrong")
			requireThrottled(t, err, 5*time.Minute, "counted afresh")

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
				c.ClientThrottle = auth.ThrottlePolicy{FreeFailures: 4, MaxDelay: time.Minute}
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
			requireThrottled(t, loginFrom(e, attacker, "ann", "ann's"), time.Minute, "one per MaxDelay")
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

func (s *recordingStore) Update(ctx context.Context, key string, u auth.ThrottleUpdate) (time.Time, bool, error) {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	if s.err != nil {
		return time.Time{}, false, s.err
	}
	return s.ThrottleStore.Update(ctx, key, u)
}

// TestThrottleStore: the records go to Config.ThrottleStore, named by kind;
// a failed login costs one update per record, a success one more to take
// it back; a failing store fails the login (closed) instead of skipping
// the check.
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
	assert.Equal(t, []string{"client:client-7", "key:username:ann"}, store.keys, "counted; a failure stays")

	store.keys = nil
	_, err = e.a.LogIn(httptest.NewRecorder(), r, "username", "ann", "right")
	require.NoError(t, err)
	assert.Equal(t, []string{"client:client-7", "key:username:ann", // counted
		"client:client-7", "key:username:ann"}, // taken back
		store.keys)

	store.keys = nil
	r.Header.Set("X-Client", strings.Repeat("x", 200))
	_, err = e.a.LogIn(httptest.NewRecorder(), r, "username", "ann", "wrong")
	require.ErrorIs(t, err, auth.ErrInvalidPassword)
	require.Len(t, store.keys, 2)
	assert.Equal(t, "client:sha256:", store.keys[0][:len("client:sha256:")], "a long client key is hashed")
	assert.Len(t, store.keys[0], len("client:sha256:")+64)

	store.keys = nil
	store.err = errors.New("store down")
	_, err = e.a.UseKey(e.ctx, "username", "ann", "right")
	require.ErrorIs(t, err, store.err)
}

// TestVoidedAttemptsAndSuccessesLeaveTheRecord: an attempt that reaches no
// verdict (a storage error here) and a success are taken back, so neither
// brings a wait closer nor makes one longer.
func TestVoidedAttemptsAndSuccessesLeaveTheRecord(t *testing.T) {
	adapter := &failingGetKey{Adapter: newMemoryAdapter()}
	e := newEnv(t, adapter, func(c *auth.Config) { c.KeyThrottle = testKeyThrottle })
	e.user("ann", "right")
	for range 2 {
		_, err := e.a.UseKey(e.ctx, "username", "ann", "wrong")
		require.ErrorIs(t, err, auth.ErrInvalidPassword)
	}
	adapter.fail.Store(true)
	for range 10 {
		_, err := e.a.UseKey(e.ctx, "username", "ann", "wrong")
		require.ErrorIs(t, err, errGetKey)
		e.clock.Advance(time.Second)
	}
	adapter.fail.Store(false)
	for range 10 {
		_, err := e.a.UseKey(e.ctx, "username", "ann", "right")
		require.NoError(t, err)
	}
	_, err := e.a.UseKey(e.ctx, "username", "ann", "wrong")
	require.ErrorIs(t, err, auth.ErrInvalidPassword, "the third free failure is still there")
	_, err = e.a.UseKey(e.ctx, "username", "ann", "right")
	requireThrottled(t, err, 5*time.Minute-10*time.Second, "the wait runs from the failures, lengthened by nothing")
}

var errGetKey = errors.New("GetKey failed")

// failingGetKey fails GetKey while fail is set.
type failingGetKey struct {
	auth.Adapter
	fail atomic.Bool
}

func (a *failingGetKey) GetKey(ctx context.Context, keyID string) (auth.KeyRecord, error) {
	if a.fail.Load() {
		return auth.KeyRecord{}, errGetKey
	}
	return a.Adapter.GetKey(ctx, keyID)
}

// TestMemoryThrottleStoreIsBounded: spraying more keys than the store
// holds drops the records updated longest ago, and healed records go.
func TestMemoryThrottleStoreIsBounded(t *testing.T) {
	ctx := context.Background()
	s := auth.NewMemoryThrottleStore(100)
	now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	add := func(key string, at time.Time, cost time.Duration) time.Time {
		until, applied, err := s.Update(ctx, key, auth.ThrottleUpdate{Now: at, Cost: cost, Limit: 10 * time.Hour})
		require.NoError(t, err)
		require.True(t, applied)
		return until
	}
	add("victim", now, 5*time.Hour)
	for i := range 1000 {
		add("spray"+strconv.Itoa(i), now, time.Hour)
		if i%50 == 0 {
			add("victim", now, time.Millisecond) // touched: stays
		}
	}
	assert.Equal(t, 100, s.Len())
	assert.Equal(t, now.Add(time.Hour), add("spray0", now, time.Hour), "the oldest were dropped")
	assert.True(t, add("victim", now, time.Millisecond).After(now.Add(5*time.Hour)), "a record updated recently stays")

	later := now.Add(2 * time.Hour)
	for i := range 60 {
		add("fresh"+strconv.Itoa(i), later, time.Hour)
	}
	assert.Equal(t, 61, s.Len(), "healed records are dropped; the victim's debt lasts")

	add("fresh0", later, -time.Hour)
	assert.Equal(t, 60, s.Len(), "a record taken back to no debt is deleted")
}

func TestMemoryThrottleStoreConformance(t *testing.T) {
	throttletest.Run(t, func(*testing.T) auth.ThrottleStore { return auth.NewMemoryThrottleStore(0) })
}
