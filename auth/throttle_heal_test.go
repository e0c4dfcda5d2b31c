package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// The throttle heals: these simulations move Config.Now through hours of
// traffic from one shared address (a reverse proxy's, say), with the
// default policies, through the public API.

// sharedAddress is the one client address every simulated login comes
// from.
const sharedAddress = "198.51.100.77:4711"

// loginTally counts the outcomes of simulated logins.
type loginTally struct{ ok, throttled, wrong int }

func (l *loginTally) add(t *testing.T, err error) {
	t.Helper()
	switch {
	case err == nil:
		l.ok++
	case errors.Is(err, auth.ErrThrottled):
		l.throttled++
	case errors.Is(err, auth.ErrInvalidKeyID), errors.Is(err, auth.ErrInvalidPassword):
		l.wrong++
	default:
		require.NoError(t, err)
	}
}

// healEnv is an Auth with the default throttle policies and genuine users
// user0 ... user(n-1), whose passwords are "pw-" + the username.
func healEnv(t *testing.T, users int) *env {
	e := newEnv(t, newMemoryAdapter(), nil)
	for i := range users {
		name := fmt.Sprint("user", i)
		e.user(name, "pw-"+name)
	}
	return e
}

// longestWait is the longest wait either default policy asks for.
func longestWait() time.Duration {
	return max(auth.DefaultKeyThrottle.MaxDelay, auth.DefaultClientThrottle.MaxDelay)
}

// genuineLogins logs users in from the shared address, one every interval
// for the given time, with the right password, and tallies the outcomes.
func genuineLogins(t *testing.T, e *env, users int, interval, total time.Duration) loginTally {
	var tally loginTally
	for i := 0; time.Duration(i)*interval < total; i++ {
		name := fmt.Sprint("user", i%users)
		tally.add(t, loginFrom(e, sharedAddress, name, "pw-"+name))
		e.clock.Advance(interval)
	}
	return tally
}

// TestThrottleHealsAfterTheAttackerStops is the first simulation:
// 110 failed logins to unknown usernames from one address over about 17
// minutes, then 15 quiet minutes, then four hours of genuine logins from
// that address, one every 30 s. At least 99 % of them must succeed.
func TestThrottleHealsAfterTheAttackerStops(t *testing.T) {
	e := healEnv(t, 20)
	for i := range 110 {
		err := loginFrom(e, sharedAddress, fmt.Sprint("nobody", i), "guess")
		require.Error(t, err)
		e.clock.Advance(17 * time.Minute / 110)
	}
	e.clock.Advance(max(15*time.Minute, longestWait()))
	tally := genuineLogins(t, e, 20, 30*time.Second, 4*time.Hour)
	assert.GreaterOrEqual(t, float64(tally.ok), 0.99*float64(tally.ok+tally.throttled+tally.wrong),
		"genuine logins after the attack: %+v", tally)
	t.Logf("genuine logins after the attack: %+v", tally)
}

// TestThrottleHealsAfterAFullLock: an attacker who keeps going until every
// attempt is refused, for an hour, then stops. Once the longest wait has
// passed, at least 99 % of the genuine logins from that address succeed.
func TestThrottleHealsAfterAFullLock(t *testing.T) {
	e := healEnv(t, 20)
	var attack loginTally
	for i := range 3600 {
		attack.add(t, loginFrom(e, sharedAddress, fmt.Sprint("nobody", i), "guess"))
		e.clock.Advance(time.Second)
	}
	require.Positive(t, attack.throttled, "the attacker was throttled: %+v", attack)
	e.clock.Advance(longestWait())
	tally := genuineLogins(t, e, 20, 30*time.Second, 4*time.Hour)
	assert.GreaterOrEqual(t, float64(tally.ok), 0.99*float64(tally.ok+tally.throttled+tally.wrong),
		"genuine logins after the attack: %+v", tally)
	t.Logf("attack: %+v; genuine logins after it: %+v", attack, tally)
}

// TestHonestTrafficIsNeverThrottled is the second simulation: no
// attacker, one login a minute from one address for 72 hours, one in 20
// mistyped first. Nothing may be refused.
func TestHonestTrafficIsNeverThrottled(t *testing.T) {
	const users = 50
	e := healEnv(t, users)
	var tally loginTally
	for i := range 72 * 60 {
		name := fmt.Sprint("user", i%users)
		if i%20 == 7 {
			tally.add(t, loginFrom(e, sharedAddress, name, "pw-typo"))
			e.clock.Advance(5 * time.Second)
		}
		tally.add(t, loginFrom(e, sharedAddress, name, "pw-"+name))
		e.clock.Advance(time.Minute)
	}
	assert.Zero(t, tally.throttled, "refusals over 72 hours of honest traffic: %+v", tally)
	assert.Equal(t, 72*60, tally.ok)
	t.Logf("72 hours of honest traffic: %+v", tally)
}

// TestThrottleBound checks the brute-force bound ThrottlePolicy states,
// with the default policies, for an attacker who tries as often as the
// throttle lets anything through, for a day: per username, from a new
// address every time, and per address, on a new username every time. In
// no hour and in no day do more failures get checked than FreeFailures +
// period / MaxDelay, and the attacker gets exactly that many.
func TestThrottleBound(t *testing.T) {
	for _, tc := range []struct {
		name    string
		policy  auth.ThrottlePolicy
		every   time.Duration
		attempt func(e *env, i int) error
		perHour int
		perDay  int
		stated  string
	}{
		{"PerUsername", auth.DefaultKeyThrottle, 10 * time.Second, func(e *env, i int) error {
			return loginFrom(e, fmt.Sprintf("203.0.%d.%d:4711", i/250%250, i%250), "user0", fmt.Sprint("guess", i))
		}, 14, 106, "14 in any hour, 106 in any day"},
		{"PerAddress", auth.DefaultClientThrottle, 5 * time.Second, func(e *env, i int) error {
			return loginFrom(e, sharedAddress, fmt.Sprint("nobody", i), "guess")
		}, 160, 1540, "160 in any hour, 1,540 in any day"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.policy
			require.Equal(t, p.FreeFailures+int(time.Hour/p.MaxDelay), tc.perHour, "the bound godoc states: %s", tc.stated)
			require.Equal(t, p.FreeFailures+int(24*time.Hour/p.MaxDelay), tc.perDay, "the bound godoc states: %s", tc.stated)
			e := healEnv(t, 1)
			var checked []time.Time
			var tally loginTally
			for i := 0; time.Duration(i)*tc.every <= 24*time.Hour; i++ { // both ends of the day
				err := tc.attempt(e, i)
				tally.add(t, err)
				if !errors.Is(err, auth.ErrThrottled) {
					checked = append(checked, e.clock.Now())
				}
				e.clock.Advance(tc.every)
			}
			assert.Equal(t, tc.perDay, len(checked), "guesses checked in a day: %+v", tally)
			most := 0
			for i, start := range checked {
				n := 0
				for _, at := range checked[i:] {
					if at.Sub(start) > time.Hour {
						break
					}
					n++
				}
				most = max(most, n)
			}
			assert.Equal(t, tc.perHour, most, "the most guesses checked in any hour")
			t.Logf("%s: %d attempts, %d checked in the day, at most %d in any hour", tc.name, tally.ok+tally.wrong+tally.throttled, len(checked), most)
		})
	}
}

// gatedHasher holds every verification of password until release is
// closed, after telling entered: a login that is slow to succeed (a busy
// hashing queue, a slow database).
type gatedHasher struct {
	auth.PasswordHasher
	password         string
	entered, release chan struct{}
}

func (h gatedHasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	if password == h.password {
		h.entered <- struct{}{}
		<-h.release
	}
	return h.PasswordHasher.Verify(ctx, hash, password)
}

// TestThrottleBoundWithASlowSuccess checks the bound ThrottlePolicy states
// for an attacker who also logs into an account of their own from the
// address: a success takes its attempt back in full when it ends, so one
// that ran for MaxDelay, its own debt paid by time meanwhile, takes back
// debt that the attacker's failures made. Here all failures come at one
// instant (P = 0) beside one success that ran for MaxDelay (S = MaxDelay):
// the bound FreeFailures + (P + S)/MaxDelay is 3, and the attacker gets
// exactly that, one more than FreeFailures + P/MaxDelay.
func TestThrottleBoundWithASlowSuccess(t *testing.T) {
	policy := auth.ThrottlePolicy{FreeFailures: 2, MaxDelay: time.Minute}
	hasher := gatedHasher{auth.InsecureFastHasher(), "mallory's", make(chan struct{}), make(chan struct{})}
	e := newEnv(t, newMemoryAdapter(), func(c *auth.Config) {
		c.KeyThrottle = auth.ThrottlePolicy{Disabled: true}
		c.ClientThrottle = policy
		c.PasswordHasher = hasher
		c.MaxConcurrentHashes = -1 // no ErrBusy beside the held login
	})
	e.user("mallory", "mallory's")
	succeeded := make(chan error, 1)
	go func() { succeeded <- loginFrom(e, sharedAddress, "mallory", "mallory's") }()
	<-hasher.entered // counted in the address's record
	e.clock.Advance(policy.MaxDelay)
	checked := 0
	guess := func() {
		for i := range 5 {
			if err := loginFrom(e, sharedAddress, fmt.Sprint("nobody", i), "guess"); !errors.Is(err, auth.ErrThrottled) {
				require.ErrorIs(t, err, auth.ErrInvalidKeyID)
				checked++
			}
		}
	}
	guess()
	close(hasher.release)
	require.NoError(t, <-succeeded)
	guess()
	assert.Equal(t, policy.FreeFailures+1, checked, "failures checked at one instant beside a success that ran for MaxDelay")
}
