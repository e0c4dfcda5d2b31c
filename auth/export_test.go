package auth

import (
	"context"
	"time"
)

// SetLoginTiming replaces the clock and the wait that hold failed logins
// to the floor (timing.go), so that tests can check the times without
// taking them; without measureLucia, the first login does not measure
// Lucia's scrypt formats (tests that are not about timing save their
// CPU and memory). Call it before a is used.
func SetLoginTiming[A any](a *Auth[A], now func() time.Time, sleep func(context.Context, time.Duration), measureLucia bool) {
	a.timing.now, a.timing.sleep = now, sleep
	a.timing.luciaDummies = nil
	if measureLucia {
		a.timing.luciaDummies = luciaDummyHashes
	}
}

// HashSessionToken is the id a session is stored under, by default.
var HashSessionToken = hashSessionToken

// HashWaiters is how many calls wait for a hashing slot now.
func HashWaiters[A any](a *Auth[A]) int64 {
	return a.hasher.slots.waiting.Load() + a.hasher.newShare.waiting.Load()
}

// PrepareLogins makes the measurement that the first login with a password
// would make (timing.go), so that tests which hold a hasher's next call at
// a gate hold the call they mean.
func PrepareLogins[A any](ctx context.Context, a *Auth[A]) error { return a.prepareLogin(ctx) }
