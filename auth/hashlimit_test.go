package auth_test

import (
	"context"
	"fmt"
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
)

// blockingHasher holds every Hash and Verify until release is closed, and
// records how many ran at once.
type blockingHasher struct {
	auth.PasswordHasher
	release          chan struct{}
	running, maxSeen atomic.Int64
	entered          chan struct{}
}

func newBlockingHasher() *blockingHasher {
	return &blockingHasher{PasswordHasher: auth.InsecureFastHasher(), release: make(chan struct{}), entered: make(chan struct{}, 100)}
}

func (h *blockingHasher) hold(ctx context.Context) error {
	n := h.running.Add(1)
	defer h.running.Add(-1)
	for {
		m := h.maxSeen.Load()
		if n <= m || h.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	h.entered <- struct{}{}
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *blockingHasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.hold(ctx); err != nil {
		return "", err
	}
	return h.PasswordHasher.Hash(ctx, password)
}

func (h *blockingHasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	if err := h.hold(ctx); err != nil {
		return false, err
	}
	return h.PasswordHasher.Verify(ctx, hash, password)
}

// TestConcurrentHashingIsBounded: with MaxConcurrentHashes slots taken,
// every further Hash or Verify the core would make (logins, dummy
// verifications for unknown keys, sign-ups, password changes) waits at
// most MaxHashWait and then fails with ErrBusy, without hashing.
func TestConcurrentHashingIsBounded(t *testing.T) {
	for _, b := range allBackends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			hasher := newBlockingHasher()
			e := newEnv(t, b.newAdapter(t), func(c *auth.Config) {
				c.PasswordHasher = hasher
				c.MaxConcurrentHashes = 2
				c.MaxHashWait = 50 * time.Millisecond
			})
			// The user is made with the hasher let through.
			close(hasher.release)
			u := e.user("ann", "right")
			_, err := e.a.UseKey(e.ctx, "username", "nobody", "warm-up") // makes the dummy hash
			require.ErrorIs(t, err, auth.ErrInvalidKeyID)
			hasher.release = make(chan struct{})
			for len(hasher.entered) > 0 {
				<-hasher.entered
			}

			// Two logins take both slots and stay inside the hasher.
			var wg sync.WaitGroup
			release := sync.OnceFunc(func() { close(hasher.release) })
			defer func() { release(); wg.Wait() }()
			for range 2 {
				wg.Go(func() {
					_, err := e.a.UseKey(e.ctx, "username", "ann", "wrong")
					assert.ErrorIs(t, err, auth.ErrInvalidPassword)
				})
			}
			<-hasher.entered
			<-hasher.entered

			// A short deadline turns a call that would wait for the hasher
			// (no bound) into a context error instead of a hang.
			ctx, cancel := context.WithTimeout(e.ctx, 2*time.Second)
			defer cancel()
			requireBusy := func(err error, call string) {
				t.Helper()
				require.ErrorIs(t, err, auth.ErrBusy, call)
				var le *auth.LimitError
				require.ErrorAs(t, err, &le, call)
				assert.GreaterOrEqual(t, le.RetryAfter, time.Second, call)
			}
			_, err = e.a.UseKey(ctx, "username", "ann", "wrong")
			requireBusy(err, "UseKey")
			_, err = e.a.UseKey(ctx, "username", "nobody", "wrong")
			requireBusy(err, "UseKey of an unknown key (dummy verification)")
			_, err = e.a.CreateUser(ctx, profile{Username: "bob"}, &auth.KeyParams{ProviderID: "username", ProviderUserID: "bob", Password: "pw"})
			requireBusy(err, "CreateUser")
			_, err = e.a.GetKey(e.ctx, "username", "bob")
			require.ErrorIs(t, err, auth.ErrInvalidKeyID, "the refused sign-up wrote nothing")
			_, err = e.a.CreateKey(ctx, u.ID, auth.KeyParams{ProviderID: "email", ProviderUserID: "ann@example.com", Password: "pw"})
			requireBusy(err, "CreateKey")
			_, err = e.a.UpdateKeyPassword(ctx, "username", "ann", "new")
			requireBusy(err, "UpdateKeyPassword")
			w := httptest.NewRecorder()
			_, err = e.a.LogIn(w, request(http.MethodPost, "", "https://"+testHost).WithContext(ctx), "username", "ann", "right")
			requireBusy(err, "LogIn")
			assert.Nil(t, sessionCookie(t, w))
			assert.Equal(t, int64(2), hasher.maxSeen.Load(), "never more than MaxConcurrentHashes in the hasher")

			release()
			wg.Wait()
			_, err = e.a.UseKey(e.ctx, "username", "ann", "right")
			require.NoError(t, err, "slots are free again, and the refused password change changed nothing")
			assert.Equal(t, int64(2), hasher.maxSeen.Load())
		})
	}
}

func TestRetryAfter(t *testing.T) {
	w := httptest.NewRecorder()
	assert.True(t, auth.SetRetryAfter(w, &auth.LimitError{Limit: auth.ErrBusy, RetryAfter: 1500 * time.Millisecond}))
	assert.Equal(t, "2", w.Header().Get("Retry-After"), "whole seconds, rounded up")
	w = httptest.NewRecorder()
	assert.False(t, auth.SetRetryAfter(w, auth.ErrInvalidPassword))
	assert.Empty(t, w.Header().Get("Retry-After"))
}

// limitedAdapter fails every session read with err.
type limitedAdapter struct {
	auth.Adapter
	err error
}

func (l limitedAdapter) GetSession(context.Context, string) (auth.SessionRecord, error) {
	return auth.SessionRecord{}, l.err
}

func TestDefaultErrorHandlerAnswersLimits(t *testing.T) {
	for _, tc := range []struct {
		limit  *auth.Error
		status int
	}{{auth.ErrBusy, http.StatusServiceUnavailable}, {auth.ErrThrottled, http.StatusTooManyRequests}} {
		err := fmt.Errorf("wrapped: %w", &auth.LimitError{Limit: tc.limit, RetryAfter: 3 * time.Second})
		a, aerr := auth.New[profile](limitedAdapter{newMemoryAdapter(), err}, auth.Config{})
		require.NoError(t, aerr)
		w := serve(a.Middleware(&recordingHandler{}), request(http.MethodGet, strings.Repeat("a", auth.SessionIDLength), ""))
		assert.Equal(t, tc.status, w.Code, tc.limit.Code)
		assert.Equal(t, "3", w.Header().Get("Retry-After"), tc.limit.Code)
	}
}

// TestFirstLoginDoesNotHoldUpOthers: the first login measures the kinds of
// hash (timing.go) and may wait for hashing slots; other logins wait for
// it only as long as for a slot, then fail with ErrBusy.
func TestFirstLoginDoesNotHoldUpOthers(t *testing.T) {
	hasher := newBlockingHasher()
	e := newEnv(t, newMemoryAdapter(), func(c *auth.Config) {
		c.PasswordHasher = hasher
		c.MaxHashWait = 50 * time.Millisecond
	})
	close(hasher.release)
	e.user("ann", "right")
	<-hasher.entered
	hasher.release = make(chan struct{})
	release := sync.OnceFunc(func() { close(hasher.release) })
	var wg sync.WaitGroup
	defer func() { release(); wg.Wait() }()
	wg.Go(func() {
		_, err := e.a.UseKey(e.ctx, "username", "ann", "right")
		assert.NoError(t, err)
	})
	<-hasher.entered // the first login is preparing, held in the hasher

	ctx, cancel := context.WithTimeout(e.ctx, 2*time.Second)
	defer cancel()
	_, err := e.a.UseKey(ctx, "username", "ann", "right")
	require.ErrorIs(t, err, auth.ErrBusy)
	release()
	wg.Wait()
	_, err = e.a.UseKey(e.ctx, "username", "ann", "right")
	require.NoError(t, err)
}

// TestLoginFloodIsTurnedAwayBeforeTheDatabase: once as many logins are
// under way as could get a hashing slot within MaxHashWait (16 per slot
// waiting, plus the slots), a further login fails with ErrBusy at once,
// before reading its key or touching the throttle store (a shared store
// is a database too: a flood must not become a flood of its writes).
func TestLoginFloodIsTurnedAwayBeforeTheDatabase(t *testing.T) {
	hasher := newBlockingHasher()
	store := &recordingStore{ThrottleStore: auth.NewMemoryThrottleStore(0)}
	e := newEnv(t, newMemoryAdapter(), func(c *auth.Config) {
		c.PasswordHasher = hasher
		c.MaxConcurrentHashes = 2
		c.MaxHashWait = time.Minute
		c.ThrottleStore = store
	})
	close(hasher.release)
	e.user("ann", "right")
	_, err := e.a.UseKey(e.ctx, "username", "nobody", "warm-up") // prepares the timing
	require.ErrorIs(t, err, auth.ErrInvalidKeyID)
	hasher.release = make(chan struct{})
	release := sync.OnceFunc(func() { close(hasher.release) })
	var wg sync.WaitGroup
	defer func() { release(); wg.Wait() }()

	const underWay = 2 * (1 + 16)
	before := e.counter.count()
	for i := range underWay {
		wg.Go(func() {
			_, err := e.a.UseKey(e.ctx, "username", "user"+strconv.Itoa(i), "wrong")
			assert.ErrorIs(t, err, auth.ErrInvalidKeyID)
		})
	}
	require.Eventually(t, func() bool { return e.counter.count()-before == underWay },
		time.Minute, time.Millisecond, "every login under way has read its key")

	store.mu.Lock()
	updates := len(store.keys)
	store.mu.Unlock()
	_, err = e.a.UseKey(e.ctx, "username", "ann", "right")
	require.ErrorIs(t, err, auth.ErrBusy)
	assert.Equal(t, int64(underWay), e.counter.count()-before, "the refused login read nothing")
	store.mu.Lock()
	assert.Len(t, store.keys, updates, "and updated no throttle record")
	store.mu.Unlock()
	release()
	wg.Wait()
	_, err = e.a.UseKey(e.ctx, "username", "ann", "right")
	require.NoError(t, err)
}
