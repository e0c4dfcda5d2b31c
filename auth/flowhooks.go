package auth

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// What flow packages built on the core (package recovery, for one) need
// from it to treat their requests as it treats logins: the client's name,
// the shared throttle store and the failed-login time floor.

// ClientKey names the client of r as Config.ClientKey does ("" exempts
// the request from per-client throttles).
func (a *Auth[A]) ClientKey(r *http.Request) string { return a.clientKey(r) }

// WithDefaults returns p with its zero fields taken from d, as the
// throttle fields of Config are filled from the Default policies (a
// negative FreeFailures means 1, MaxDelay is kept to the millisecond).
func (p ThrottlePolicy) WithDefaults(d ThrottlePolicy) ThrottlePolicy { return p.withDefaults(d) }

// CountAttempt counts one attempt in the throttle record named kind plus
// name, in the Auth's ThrottleStore (Config.ThrottleStore), under policy
// (see ThrottlePolicy): for a flow's requests, such as "send me a reset
// link", per address and per client. It returns nil when the attempt is
// let through, and then the attempt stays counted (a flow counts requests,
// not failures); an attempt beyond the limit is refused with ErrThrottled
// (a *LimitError saying when to retry) and counts nowhere. A store error
// is returned as is.
//
// kind names the flow's records: a word and a colon, such as "reset:",
// not one of the core's ("key:", "client:", "session:", "signup:"), so
// that no kind and name together spell another kind's record (the record
// is kind followed by name); a name too long for the store, or not
// valid UTF-8, is kept as its SHA-256. An empty name, or a Disabled
// policy, counts nothing. policy must have been filled (WithDefaults):
// FreeFailures and MaxDelay above zero, else an *InputError.
func (a *Auth[A]) CountAttempt(ctx context.Context, kind, name string, policy ThrottlePolicy) error {
	switch kind {
	case "key:", "client:", "session:", "signup:":
		return &InputError{Field: "throttle kind", Reason: "the core's own"}
	}
	if strings.IndexByte(kind, ':') != len(kind)-1 || len(kind) < 2 {
		return &InputError{Field: "throttle kind", Reason: "not a word and a colon"}
	}
	if policy.FreeFailures <= 0 || policy.MaxDelay <= 0 {
		return &InputError{Field: "throttle policy", Reason: "not filled"}
	}
	if name == "" || policy.Disabled {
		return nil
	}
	_, err := a.throttle.admit(ctx, throttleCount{throttleRecordKey(kind, name), policy.withDefaults(policy)})
	return err
}

// FailedLoginFloor is how long a failed login takes at least, now: the
// estimated time of the slowest kind of password verification plus 10 %,
// or Config.MinFailedLoginTime if that is longer (see
// Config.MinFailedLoginTime). It is Config.MinFailedLoginTime until the
// first login with a password has measured the hashes. Flows that must
// answer in the same time whatever they found hold their answers at least
// this long.
func (a *Auth[A]) FailedLoginFloor() time.Duration { return a.timing.floor() }

// CheckPassword refuses a password the core could not hash consistently,
// with the *InputError every call that takes a password gives: one that
// is not valid UTF-8 or contains NUL. A flow checks a new password with it
// before it uses up anything (a reset token). Length and strength are the
// application's policy.
func CheckPassword(password string) error { return checkPassword(password) }
