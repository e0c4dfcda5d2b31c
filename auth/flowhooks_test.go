package auth_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// TestCountAttempt: a flow's requests are counted in the shared throttle
// store under the flow's policy, apart from the core's own records.
func TestCountAttempt(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), nil)
	policy := auth.ThrottlePolicy{FreeFailures: 2, MaxDelay: time.Minute}.WithDefaults(auth.DefaultKeyThrottle)
	for range 2 {
		require.NoError(t, e.a.CountAttempt(e.ctx, "flow:", "ann@example.com", policy))
	}
	err := e.a.CountAttempt(e.ctx, "flow:", "ann@example.com", policy)
	var limit *auth.LimitError
	require.ErrorAs(t, err, &limit)
	require.ErrorIs(t, err, auth.ErrThrottled)
	assert.Equal(t, time.Minute, limit.RetryAfter)
	require.NoError(t, e.a.CountAttempt(e.ctx, "other-flow:", "ann@example.com", policy), "records are per kind")
	require.NoError(t, e.a.CountAttempt(e.ctx, "flow:", "bob@example.com", policy), "and per name")
	e.clock.Advance(time.Minute)
	require.NoError(t, e.a.CountAttempt(e.ctx, "flow:", "ann@example.com", policy), "records heal")

	// A flow's record never is a login's: "key:" is the core's.
	var input *auth.InputError
	require.ErrorAs(t, e.a.CountAttempt(e.ctx, "key:", "username:ann", policy), &input)
	// Nor one that kind and name spell together: the record key is the
	// two joined, so a kind must be one word and its colon.
	for _, kind := range []string{"k", "key", "key:x:", "flow"} {
		require.ErrorAs(t, e.a.CountAttempt(e.ctx, kind, "ey:username:ann", policy), &input, kind)
	}
	require.ErrorAs(t, e.a.CountAttempt(e.ctx, "flow:", "x", auth.ThrottlePolicy{}), &input, "an unfilled policy")
	for range 5 {
		require.NoError(t, e.a.CountAttempt(e.ctx, "flow:", "", policy), "no name counts nothing")
		require.NoError(t, e.a.CountAttempt(e.ctx, "flow:", "ann@example.com", auth.ThrottlePolicy{Disabled: true, FreeFailures: 1, MaxDelay: 1}))
	}
	_, err = e.a.UseKey(e.ctx, "username", "ann", "")
	require.ErrorIs(t, err, auth.ErrInvalidKeyID, "the key records were not touched")
}

func TestClientKeyAndCheckPassword(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), nil)
	r := httptest.NewRequest("POST", "/", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	assert.Equal(t, "192.0.2.7", e.a.ClientKey(r))
	require.NoError(t, auth.CheckPassword("fine"))
	var input *auth.InputError
	require.ErrorAs(t, auth.CheckPassword("nul\x00"), &input)
	assert.Equal(t, time.Duration(0), e.a.FailedLoginFloor(), "before any login, Config.MinFailedLoginTime")
}
