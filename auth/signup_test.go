package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// signUpFrom signs a user up from the given remote address.
func signUpFrom(e *env, remoteAddr, username, password string) (*httptest.ResponseRecorder, auth.User[profile], auth.Session, error) {
	r := request(http.MethodPost, "", "https://"+testHost)
	r.RemoteAddr = remoteAddr
	w := httptest.NewRecorder()
	u, s, err := e.a.SignUp(w, r, profile{Username: username},
		auth.KeyParams{ProviderID: "username", ProviderUserID: username, Password: password})
	return w, u, s, err
}

// TestSignUp: SignUp creates the user with its key and logs it in.
func TestSignUp(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), nil)
	w, u, s, err := signUpFrom(e, "203.0.113.7:4711", "ann", "right")
	require.NoError(t, err)
	assert.Equal(t, u.ID, s.UserID)
	assert.Equal(t, s.Token, sessionCookie(t, w).Value)
	_, err = e.a.UseKey(e.ctx, "username", "ann", "right")
	require.NoError(t, err)

	r := request(http.MethodPost, "", "https://evil.example")
	_, _, err = e.a.SignUp(httptest.NewRecorder(), r, profile{}, auth.KeyParams{ProviderID: "username", ProviderUserID: "eve", Password: "pw"})
	require.ErrorIs(t, err, auth.ErrInvalidRequest, "a cross-site sign-up")
}

// TestSignUpIsThrottledPerClient: every sign-up that reaches the database
// counts, taken usernames too; beyond SignUpThrottle's allowance the client
// gets ErrThrottled before any hashing or database call. Bad input counts
// nowhere, and other clients are not affected.
func TestSignUpIsThrottledPerClient(t *testing.T) {
	hasher := &countingHasher{PasswordHasher: auth.InsecureFastHasher()}
	e := newEnv(t, newMemoryAdapter(), func(c *auth.Config) {
		c.PasswordHasher = hasher
		c.SignUpThrottle = auth.ThrottlePolicy{FreeFailures: 3, MaxDelay: time.Minute}
	})
	const prober = "203.0.113.7:4711"
	_, _, _, err := signUpFrom(e, prober, "ann", "pw")
	require.NoError(t, err)
	_, _, _, err = signUpFrom(e, prober, "", "pw")
	require.ErrorIs(t, err, auth.ErrInvalidInput, "bad input counts nowhere")
	for range 2 {
		_, _, _, err = signUpFrom(e, prober, "ann", "pw")
		require.ErrorIs(t, err, auth.ErrDuplicateKeyID, "the username is taken")
	}
	hashes, calls := hasher.hashes.Load(), e.counter.count()
	_, _, _, err = signUpFrom(e, prober, "zed", "pw")
	requireThrottled(t, err, time.Minute, "the fourth sign-up from the address")
	assert.Equal(t, hashes, hasher.hashes.Load(), "a refused sign-up hashes nothing")
	assert.Equal(t, calls, e.counter.count(), "and reads nothing")

	_, _, _, err = signUpFrom(e, "198.51.100.1:4711", "zed", "pw")
	require.NoError(t, err, "another client")
	e.clock.Advance(time.Minute)
	_, _, _, err = signUpFrom(e, prober, "ann", "pw")
	require.ErrorIs(t, err, auth.ErrDuplicateKeyID, "one more per MaxDelay")
	_, _, _, err = signUpFrom(e, prober, "yan", "pw")
	require.ErrorIs(t, err, auth.ErrThrottled)
}

// hashHeld holds every Hash (not Verify) until release is closed.
type hashHeld struct {
	auth.PasswordHasher
	release chan struct{}
	entered chan struct{}
}

func (h *hashHeld) Hash(ctx context.Context, password string) (string, error) {
	h.entered <- struct{}{}
	select {
	case <-h.release:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return h.PasswordHasher.Hash(ctx, password)
}

// TestSignUpsCannotStarveLogins: hashes of new passwords hold at most
// half of the hashing slots and wait in a queue of their own, so a flood
// of sign-ups whose hashes take long leaves logins a slot and room to
// wait.
func TestSignUpsCannotStarveLogins(t *testing.T) {
	hasher := &hashHeld{PasswordHasher: auth.InsecureFastHasher(), release: make(chan struct{}), entered: make(chan struct{}, 100)}
	e := newEnv(t, newMemoryAdapter(), func(c *auth.Config) {
		c.PasswordHasher = hasher
		c.MaxConcurrentHashes = 2
		c.MaxHashWait = 200 * time.Millisecond
		c.SignUpThrottle.Disabled = true
	})
	close(hasher.release)
	e.user("ann", "right")
	require.NoError(t, auth.PrepareLogins(e.ctx, e.a)) // hashes the dummy
	for len(hasher.entered) > 0 {
		<-hasher.entered
	}
	hasher.release = make(chan struct{})

	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(hasher.release) // before the wait
	var busy atomic.Int64
	const flood = 50
	for i := range flood {
		wg.Go(func() {
			_, _, _, err := signUpFrom(e, "203.0.113.7:4711", fmt.Sprint("user", i), "pw")
			if errors.Is(err, auth.ErrBusy) {
				busy.Add(1)
			}
		})
	}
	<-hasher.entered // one sign-up holds its share
	for range 20 {
		_, err := e.a.UseKey(e.ctx, "username", "ann", "right")
		require.NoError(t, err, "a login during the flood")
	}
	require.Eventually(t, func() bool { return busy.Load() == flood-1 }, time.Minute, time.Millisecond,
		"every sign-up but the one hashing waits for its share and gives up")
	assert.Empty(t, hasher.entered, "no second sign-up reached the hasher")
}
