package main

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// clock is the app's auth.Config.Now in tests that move time, in Unix
// milliseconds.
type clock struct{ atomic.Int64 }

func (c *clock) Now() time.Time          { return time.UnixMilli(c.Load()) }
func (c *clock) advance(d time.Duration) { c.Add(d.Milliseconds()) }

// fastApp starts the app with the fast test hasher and a clock.
func fastApp(t *testing.T, configure ...func(*auth.Config)) (string, *clock) {
	c := &clock{}
	c.Store(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).UnixMilli())
	base, _ := startApp(t, append([]func(*auth.Config){func(config *auth.Config) {
		config.PasswordHasher = auth.InsecureFastHasher()
		config.Now = c.Now
	}}, configure...)...)
	return base, c
}

// TestOwnerChangesPasswordDuringAnAttack: a stranger locks the username
// with failed logins; its owner, signed in elsewhere, can still change the
// password and delete the account, both of which confirm the current
// password.
func TestOwnerChangesPasswordDuringAnAttack(t *testing.T) {
	base, _ := fastApp(t)
	owner := newVisitor(t, base)
	require.Equal(t, http.StatusSeeOther, owner.post("/signup", "username", "gus", "password", "gus's password").Status)

	stranger := newVisitor(t, base)
	for range auth.DefaultKeyThrottle.FreeFailures + 3 {
		stranger.post("/login", "username", "gus", "password", "a guess")
	}
	require.Equal(t, http.StatusTooManyRequests, newVisitor(t, base).post("/login", "username", "gus", "password", "gus's password").Status,
		"the username is locked")

	res := owner.post("/password", "current", "gus's password", "new", "gus's new password")
	require.Equal(t, http.StatusSeeOther, res.Status, "the owner changes the password: %s", res.message("error"))
	assert.Equal(t, "/?done=password-changed", res.Location)
	res = owner.post("/delete", "password", "gus's new password")
	require.Equal(t, http.StatusSeeOther, res.Status, "and deletes the account: %s", res.message("error"))
	assert.Equal(t, "/signup?done=deleted", res.Location)
}

// TestConfirmingThePasswordIsThrottledPerSession: someone at a signed-in
// browser gets the re-authentication allowance of that session, then 429.
func TestConfirmingThePasswordIsThrottledPerSession(t *testing.T) {
	base, _ := fastApp(t)
	thief := newVisitor(t, base)
	require.Equal(t, http.StatusSeeOther, thief.post("/signup", "username", "hal", "password", "hal's password").Status)
	for i := range auth.DefaultReauthThrottle.FreeFailures {
		require.Equal(t, http.StatusUnauthorized, thief.post("/password", "current", fmt.Sprint("guess", i), "new", "a new password").Status)
	}
	res := thief.post("/delete", "password", "hal's password")
	assert.Equal(t, http.StatusTooManyRequests, res.Status, "even the right password")
	assert.Equal(t, "900", res.RetryAfter)
	assert.Equal(t, "Too many attempts. Please wait 15 minutes and try again.", res.message("error"))

	owner := newVisitor(t, base)
	require.Equal(t, http.StatusSeeOther, owner.post("/login", "username", "hal", "password", "hal's password").Status,
		"the owner's login is not throttled")
	require.Equal(t, http.StatusSeeOther, owner.post("/password", "current", "hal's password", "new", "a new password").Status,
		"nor the owner's own session")
}

// TestSignUpIsThrottledPerAddress is the sign-up flood: 200
// sign-ups for a taken username from one address. After the sign-up
// throttle's allowance they get 429 with Retry-After, not a "taken" or a
// hash each.
func TestSignUpIsThrottledPerAddress(t *testing.T) {
	base, _ := fastApp(t)
	require.Equal(t, http.StatusSeeOther, newVisitor(t, base).post("/signup", "username", "ivy", "password", "ivy's password").Status)
	statuses := map[int]int{}
	var throttled response
	for range 200 {
		res := newVisitor(t, base).post("/signup", "username", "ivy", "password", "a password")
		statuses[res.Status]++
		if res.Status == http.StatusTooManyRequests {
			throttled = res
		}
	}
	free := auth.DefaultSignUpThrottle.FreeFailures - 1 // the first sign-up counted
	assert.Equal(t, map[int]int{http.StatusConflict: free, http.StatusTooManyRequests: 200 - free}, statuses)
	assert.Equal(t, "180", throttled.RetryAfter)
	assert.Equal(t, "Too many sign-ups from your address. Please wait 3 minutes and try again.", throttled.message("error"))
}

// TestAttackedAddressHeals is the HTTP finding: failed logins to
// unknown usernames from the address every visitor shares here (the
// loopback, as behind a same-host proxy) no longer lock real users out
// once the attacker stops.
//
// The client allowance is lowered from the default 100 to 10 so that the
// attack takes 20 failed logins, not 150: each is held to the failure
// floor, which under the race detector is about a second (it covers
// Lucia's scrypt hashes). The defaults' numbers are simulated in package
// auth (TestThrottleHealsAfterTheAttackerStops).
func TestAttackedAddressHeals(t *testing.T) {
	policy := auth.ThrottlePolicy{FreeFailures: 10}
	base, clock := fastApp(t, func(c *auth.Config) { c.ClientThrottle = policy })
	for _, name := range []string{"jo", "kim"} {
		require.Equal(t, http.StatusSeeOther, newVisitor(t, base).post("/signup", "username", name+"-user", "password", name+"'s password").Status)
	}
	attacker := newVisitor(t, base)
	var refused int
	for i := range 2 * policy.FreeFailures {
		if attacker.post("/login", "username", fmt.Sprint("nobody", i), "password", "a guess").Status == http.StatusTooManyRequests {
			refused++
		}
	}
	require.Positive(t, refused, "the shared address was throttled")
	clock.advance(auth.DefaultClientThrottle.MaxDelay)
	for _, name := range []string{"jo", "kim"} {
		res := newVisitor(t, base).post("/login", "username", name+"-user", "password", name+"'s password")
		assert.Equal(t, http.StatusSeeOther, res.Status, "%s logs in once MaxDelay has passed", name)
	}
}
