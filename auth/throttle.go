package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// ThrottlePolicy says how many failed attempts one throttle record allows
// and how fast it heals. A record counts the attempts of one key
// (Config.KeyThrottle), one client (Config.ClientThrottle,
// Config.SignUpThrottle) or one session (Config.ReauthThrottle).
//
// A record holds a debt in time. Each counted attempt adds MaxDelay to it,
// and time pays it back, a second per second, whether or not anything
// else happens. An attempt is let through only if the debt it leaves is at
// most FreeFailures × MaxDelay. So a healed record allows FreeFailures
// failures in a row; after that, one attempt per MaxDelay gets through,
// and every MaxDelay without failures gives one free failure back: a
// record that stops failing is healed FreeFailures × MaxDelay later at
// the latest. No wait is longer than MaxDelay. (This is the generic cell
// rate algorithm, a token bucket kept as a single time, which a shared
// store can update with one atomic command; see ThrottleStore.)
//
// The bound: in any period P, at most FreeFailures + P/MaxDelay failed
// attempts are checked per record (plus a fraction for attempts taken
// back, below), however they are timed, spread or run concurrently. With
// the defaults that is, per username, at most 14 in any hour and 106 in
// any day; per client address, 160 in any hour and 1,540
// in any day (DefaultKeyThrottle, DefaultClientThrottle).
//
// An attempt counts when it starts, so that concurrent attempts cannot
// slip past the limit together. One that would exceed it is refused with
// ErrThrottled (a *LimitError saying when to retry) before any hashing or
// database call, and counts nowhere. An attempt that succeeds, or reaches
// no verdict (ErrBusy, a context or storage error), is taken back: its
// MaxDelay is subtracted again. So a success never lengthens a wait, and
// an attempt without a verdict leaves the record as it found it. A
// success takes back only its own attempt, so that an attacker cannot
// clear an address by logging into an account of their own. Taking back
// in full has one cost: while an attempt runs, time pays its MaxDelay back
// too, so one that ends after other attempts were counted can take back
// up to its own duration of their debt. The bound then reads FreeFailures
// + (P + S)/MaxDelay, S being the total duration of the successful and
// voided attempts in the period: for attempts of a second or so
// (MaxHashWait, 1 s by default, bounds the wait for hashing) against a
// MaxDelay of minutes, a small fraction of one failure each.
//
// Key locks are a denial-of-service lever: anyone who knows a username
// can spend its free failures and then keep it locked with one failure
// per MaxDelay. LogIn and UseKey are then refused for everyone, including
// the account's owner, for as long as the attacker keeps at it;
// Reauthenticate is not (it is throttled per session instead). A lower
// MaxDelay favours availability over guessing rate; a key throttle that is
// Disabled leaves only the client throttle, which a botnet gets around.
type ThrottlePolicy struct {
	// FreeFailures is how many failed attempts a healed record allows in
	// a row; at least 1 (a negative value means 1).
	FreeFailures int
	// MaxDelay is the longest wait: once the free failures are spent, one
	// attempt per MaxDelay gets through, and each MaxDelay gives one free
	// failure back. It is kept to the millisecond.
	MaxDelay time.Duration
	// Disabled turns this throttle off.
	Disabled bool
}

// Default throttle policies: the Config fields of the same names fill
// their zero fields from these. The bounds they give are per record and
// hold in any period of the length named.
var (
	// DefaultKeyThrottle: 10 free failures per key, then one per 15
	// minutes: at most 14 guesses per username in any hour, 106 in any
	// day.
	DefaultKeyThrottle = ThrottlePolicy{FreeFailures: 10, MaxDelay: 15 * time.Minute}
	// DefaultClientThrottle: 100 free failures per client, then one per
	// minute: at most 160 failed logins per address in any hour, 1,540 in
	// any day. It is generous because many people may share an address.
	DefaultClientThrottle = ThrottlePolicy{FreeFailures: 100, MaxDelay: time.Minute}
	// DefaultReauthThrottle: 5 free failures per session, then one per 15
	// minutes: at most 9 guesses per session in any hour.
	DefaultReauthThrottle = ThrottlePolicy{FreeFailures: 5, MaxDelay: 15 * time.Minute}
	// DefaultSignUpThrottle: 20 sign-ups per client, then one per 3
	// minutes: at most 40 per address in any hour, 500 in any day, and as
	// many answers to "is this username taken?".
	DefaultSignUpThrottle = ThrottlePolicy{FreeFailures: 20, MaxDelay: 3 * time.Minute}
)

func (p ThrottlePolicy) withDefaults(d ThrottlePolicy) ThrottlePolicy {
	switch {
	case p.FreeFailures == 0:
		p.FreeFailures = d.FreeFailures
	case p.FreeFailures < 0:
		p.FreeFailures = 1
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	p.MaxDelay = max(p.MaxDelay.Truncate(time.Millisecond), time.Millisecond)
	// Keep FreeFailures × MaxDelay far from overflowing.
	p.FreeFailures = min(p.FreeFailures, int(math.MaxInt64/4/int64(p.MaxDelay)))
	return p
}

// limit is the largest debt an attempt may leave.
func (p ThrottlePolicy) limit() time.Duration { return time.Duration(p.FreeFailures) * p.MaxDelay }

// ThrottleUpdate is one change to a throttle record, which a ThrottleStore
// applies atomically.
//
// A record holds one time, Until: its debt at time t is Until − t, or
// none once Until has passed; a missing record has none. The update adds
// Cost to the debt at Now (Cost is negative when an attempt is taken
// back), giving Until' = max(Until, Now) + Cost. An update with a positive
// Cost is refused, leaving the record as it is, when the debt it would
// leave, Until' − Now, exceeds Limit. A record whose Until is not after
// the present holds no debt: a store may drop it, and should not create it.
// Apply is the rule in Go.
//
// The core passes whole milliseconds, with 0 < Cost ≤ Limit for counted
// attempts, so that a store may keep Until as Unix milliseconds.
type ThrottleUpdate struct {
	Now   time.Time
	Cost  time.Duration
	Limit time.Duration
}

// Apply returns the Until a record holds after u, given the Until it held
// before (the zero time for no record), and whether u was applied. When u
// is refused, until is before.
func (u ThrottleUpdate) Apply(before time.Time) (until time.Time, applied bool) {
	next := before
	if next.Before(u.Now) {
		next = u.Now
	}
	next = next.Add(u.Cost)
	if u.Cost > 0 && next.Sub(u.Now) > u.Limit {
		return before, false
	}
	return next, true
}

// ThrottleStore keeps the records behind throttling. The default,
// MemoryThrottleStore, keeps them in this process: with several instances
// of an application, each counts only the attempts it serves, so an
// attacker gets one allowance per instance, and a restart forgets them.
// Shared stores count them together: the MongoDB adapter's
// (mongoauth.Adapter.ThrottleStore) and the SQL adapter's
// (sqlauth.Adapter.ThrottleStore). Package auth/throttletest is the
// conformance suite for implementations of your own.
type ThrottleStore interface {
	// Update applies u to key's record (see ThrottleUpdate) atomically
	// with respect to every other Update of key, from this process or
	// another, and returns the record's Until afterwards, or as it is
	// when u was refused (applied false). Keys are at most 128 bytes of
	// valid UTF-8 without NUL.
	Update(ctx context.Context, key string, u ThrottleUpdate) (until time.Time, applied bool, err error)
}

// throttle applies the policies to attempts; see ThrottlePolicy.
type throttle struct {
	store                       ThrottleStore
	key, client, reauth, signUp ThrottlePolicy
	now                         func() time.Time
}

// throttleCount is a record an attempt is counted in, under its policy.
type throttleCount struct {
	record string // the store's key; "" counts nowhere
	policy ThrottlePolicy
}

// forKey, forClient, forSession and forSignUp name the record of a key id,
// a client (Config.ClientKey; "" for none), a session and a client's
// sign-ups.
func (t *throttle) forKey(id string) throttleCount {
	return throttleCount{throttleRecordKey("key:", id), t.key}
}

func (t *throttle) forClient(client string) throttleCount {
	if client == "" {
		return throttleCount{}
	}
	return throttleCount{throttleRecordKey("client:", client), t.client}
}

// forSession names the record by a digest of the session id: the store
// never holds a bearer credential.
func (t *throttle) forSession(sessionID string) throttleCount {
	return throttleCount{"session:" + digest(sessionID), t.reauth}
}

func (t *throttle) forSignUp(client string) throttleCount {
	if client == "" {
		return throttleCount{}
	}
	return throttleCount{throttleRecordKey("signup:", client), t.signUp}
}

// throttleRecordKey names a record in the store: kind plus name, or plus
// the name's SHA-256 when the name would not do as a key (more than 128
// bytes, invalid UTF-8 or a NUL: client keys come from requests).
func throttleRecordKey(kind, name string) string {
	if len(kind)+len(name) <= 128 && utf8.ValidString(name) && strings.IndexByte(name, 0) < 0 {
		return kind + name
	}
	return kind + "sha256:" + digest(name)
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// throttleAttempt is one admitted attempt: the records it was counted in.
type throttleAttempt struct {
	t       *throttle
	counted []throttleCount
}

// admit counts an attempt in each record, in order, or refuses it with
// ErrThrottled (or a store error); a refused attempt counts nowhere.
func (t *throttle) admit(ctx context.Context, records ...throttleCount) (*throttleAttempt, error) {
	at := &throttleAttempt{t: t}
	for _, r := range records {
		if r.record == "" || r.policy.Disabled {
			continue
		}
		if err := t.count(ctx, r); err != nil {
			at.takeBack(ctx)
			return nil, err
		}
		at.counted = append(at.counted, r)
	}
	return at, nil
}

// now is the throttle's clock to the millisecond, as stores keep it.
func (t *throttle) nowMillis() time.Time { return time.UnixMilli(t.now().UnixMilli()) }

// count counts an attempt in r, or refuses it.
func (t *throttle) count(ctx context.Context, r throttleCount) error {
	u := ThrottleUpdate{Now: t.nowMillis(), Cost: r.policy.MaxDelay, Limit: r.policy.limit()}
	until, applied, err := t.store.Update(ctx, r.record, u)
	switch {
	case err != nil:
		return err
	case !applied:
		// The wait until the debt has fallen enough for one more attempt.
		return newLimitError(ErrThrottled, until.Sub(u.Now)+u.Cost-u.Limit)
	}
	return nil
}

// keep: the attempt reached a verdict that counts (a failed login, a
// sign-up); it stays counted.
func (at *throttleAttempt) keep() {}

// succeeded: the attempt succeeded; it is taken back.
func (at *throttleAttempt) succeeded(ctx context.Context) { at.takeBack(ctx) }

// void: the attempt reached no verdict; it is taken back.
func (at *throttleAttempt) void(ctx context.Context) { at.takeBack(ctx) }

// takeBack subtracts the attempt from every record it was counted in,
// even once ctx has ended (a client that goes away does not leave a
// failure behind). A store error leaves it counted.
func (at *throttleAttempt) takeBack(ctx context.Context) {
	if len(at.counted) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	now := at.t.nowMillis()
	for _, r := range at.counted {
		_, _, _ = at.t.store.Update(ctx, r.record, ThrottleUpdate{Now: now, Cost: -r.policy.MaxDelay, Limit: r.policy.limit()})
	}
	at.counted = nil
}

// ClientIP is Config.ClientKey's default: ClientAddress(r.RemoteAddr),
// the connection's address. Behind a reverse proxy or load balancer that
// is the proxy's, so every client would share one record: name the
// proxies you trust with package auth/clientip instead, which reads the
// address they report (clients can send any X-Forwarded-For header, so it
// must only be read from them).
func ClientIP(r *http.Request) string { return ClientAddress(r.RemoteAddr) }

// ClientAddress turns an address (host or host:port) into a client key:
// an IPv4 address as is, an IPv6 address cut to its /64 network (one
// subscriber usually holds a whole /64), anything else unchanged.
func ClientAddress(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return host
	case ip.To4() != nil:
		return ip.To4().String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
