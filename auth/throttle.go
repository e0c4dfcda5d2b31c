package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"time"
)

// ThrottlePolicy says how failed logins slow down further attempts for one
// key (Config.KeyThrottle) or one client (Config.ClientThrottle).
//
// The first FreeFailures failed attempts in a row cost nothing. After that,
// the next attempt must wait BaseDelay after the last failure, and each
// further failure doubles the wait, up to MaxDelay: there the key or client
// is locked, with one attempt allowed per MaxDelay. An attempt made too
// early is refused with ErrThrottled (a *LimitError saying when to retry)
// before any database call or hashing, and does not count. A record is
// forgotten once ForgetAfter has passed after its wait ended with no new
// failure.
//
// An attempt counts when it starts, so that concurrent attempts cannot
// slip past the limit together. A successful login clears the key's record
// and takes back only its own attempt from the client's (so that an
// attacker cannot reset a client's count by logging into an account of
// their own). An attempt that never reached a verdict (ErrBusy, a context
// or storage error) is taken back from both.
//
// Key locks are a denial-of-service lever: anyone who knows a username can
// lock it (with the defaults, 20 failures over about 17 minutes) and keep
// it locked with one failure per MaxDelay. MaxDelay bounds that; a lower
// one favours availability over guessing rate, and a key throttle that is
// Disabled leaves only the client throttle, which a botnet gets around.
type ThrottlePolicy struct {
	// FreeFailures: failed attempts in a row before any wait. Default 10
	// per key, 100 per client; negative means none.
	FreeFailures int
	// BaseDelay: the first wait; default 1 s.
	BaseDelay time.Duration
	// MaxDelay: the longest wait, which is the lock; default 15 min.
	MaxDelay time.Duration
	// ForgetAfter: how long a record is kept after its wait ends; default
	// 24 h per key, 1 h per client.
	ForgetAfter time.Duration
	// Disabled turns this throttle off.
	Disabled bool
}

// Default throttle policies: Config.KeyThrottle and Config.ClientThrottle
// fill their zero fields from these.
var (
	DefaultKeyThrottle    = ThrottlePolicy{FreeFailures: 10, BaseDelay: time.Second, MaxDelay: 15 * time.Minute, ForgetAfter: 24 * time.Hour}
	DefaultClientThrottle = ThrottlePolicy{FreeFailures: 100, BaseDelay: time.Second, MaxDelay: 15 * time.Minute, ForgetAfter: time.Hour}
)

func (p ThrottlePolicy) withDefaults(d ThrottlePolicy) ThrottlePolicy {
	switch {
	case p.FreeFailures == 0:
		p.FreeFailures = d.FreeFailures
	case p.FreeFailures < 0:
		p.FreeFailures = 0
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	p.MaxDelay = max(p.MaxDelay, p.BaseDelay)
	if p.ForgetAfter <= 0 {
		p.ForgetAfter = d.ForgetAfter
	}
	return p
}

// delay is how long after the last failure an attempt must wait when the
// record holds failures failed attempts.
func (p ThrottlePolicy) delay(failures int) time.Duration {
	excess := failures - p.FreeFailures
	switch {
	case excess < 0:
		return 0
	case excess >= 32:
		return p.MaxDelay
	}
	if d := p.BaseDelay << excess; d > 0 && d < p.MaxDelay {
		return d
	}
	return p.MaxDelay
}

// admit counts an attempt that starts at now, or returns how long it
// must wait (the record unchanged).
func (p ThrottlePolicy) admit(rec ThrottleRecord, now time.Time) (ThrottleRecord, time.Duration) {
	if !now.Before(rec.Expires) {
		rec = ThrottleRecord{}
	}
	if wait := rec.Last.Add(p.delay(rec.Failures)).Sub(now); rec.Failures > 0 && wait > 0 {
		return rec, wait
	}
	rec.Failures++
	return p.stamp(rec, now), 0
}

// stamp dates rec's last failure at now (never earlier than it was).
func (p ThrottlePolicy) stamp(rec ThrottleRecord, now time.Time) ThrottleRecord {
	rec.Last = maxTime(rec.Last, now)
	rec.Expires = rec.Last.Add(p.delay(rec.Failures) + p.ForgetAfter)
	return rec
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ThrottleRecord is what a ThrottleStore keeps for one key or client.
type ThrottleRecord struct {
	// Failures counts the attempts since the record was new or cleared,
	// less those taken back.
	Failures int
	// Last is when the last counted attempt started, or was answered
	// if it failed: waits run from there.
	Last time.Time
	// Expires is when the record may be dropped; from then on the core
	// reads it as new.
	Expires time.Time
}

// ThrottleStore keeps the records behind login throttling. The default,
// MemoryThrottleStore, keeps them in this process: with several instances
// of an application, each counts only the attempts it serves, and an
// attacker gets one allowance per instance. Implement ThrottleStore over
// shared storage (Redis, a database) to count them together.
type ThrottleStore interface {
	// Update replaces key's record with update(record), atomically with
	// respect to other Updates of key. A missing record is passed as the
	// zero ThrottleRecord; a returned record with Failures <= 0 may be
	// deleted, and a record may be dropped once its Expires has passed.
	// update may be called more than once (an optimistic store retries);
	// it has no side effects. Keys are at most 128 bytes.
	Update(ctx context.Context, key string, update func(ThrottleRecord) ThrottleRecord) error
}

// throttle applies the policies to attempts; see ThrottlePolicy.
type throttle struct {
	store       ThrottleStore
	key, client ThrottlePolicy
	now         func() time.Time
}

// throttleAttempt is one admitted attempt: the records it was counted in.
type throttleAttempt struct {
	t                 *throttle
	keyRec, clientRec string // store keys; "" when not counted
}

// admit counts an attempt for key id and client ("" for none), or refuses
// it with ErrThrottled. A refused attempt counts nowhere.
func (t *throttle) admit(ctx context.Context, id, client string) (*throttleAttempt, error) {
	at := &throttleAttempt{t: t}
	if client != "" && !t.client.Disabled {
		rec := throttleRecordKey("client:", client)
		if err := t.count(ctx, rec, t.client); err != nil {
			return nil, err
		}
		at.clientRec = rec
	}
	if !t.key.Disabled {
		rec := throttleRecordKey("key:", id)
		if err := t.count(ctx, rec, t.key); err != nil {
			at.void(ctx)
			return nil, err
		}
		at.keyRec = rec
	}
	return at, nil
}

// throttleRecordKey names a record in the store: kind plus name, or plus
// the name's SHA-256 when that would be longer than 128 bytes (client keys
// come from requests and could be of any length).
func throttleRecordKey(kind, name string) string {
	if len(kind)+len(name) <= 128 {
		return kind + name
	}
	sum := sha256.Sum256([]byte(name))
	return kind + "sha256:" + hex.EncodeToString(sum[:])
}

// count counts an attempt in record rec under policy p.
func (t *throttle) count(ctx context.Context, rec string, p ThrottlePolicy) error {
	now := t.now()
	var wait time.Duration
	err := t.store.Update(ctx, rec, func(r ThrottleRecord) ThrottleRecord {
		r, wait = p.admit(r, now)
		return r
	})
	switch {
	case err != nil:
		return err
	case wait > 0:
		return newLimitError(ErrThrottled, wait)
	}
	return nil
}

// takeBack removes one counted attempt from rec.
func (t *throttle) takeBack(ctx context.Context, rec string) {
	if rec == "" {
		return
	}
	// A store error leaves the attempt counted; the record expires anyway.
	_ = t.store.Update(ctx, rec, func(r ThrottleRecord) ThrottleRecord {
		r.Failures = max(r.Failures-1, 0)
		return r
	})
}

// succeeded: the password matched. The key's record is cleared, the
// client's loses this attempt only.
func (at *throttleAttempt) succeeded(ctx context.Context) {
	if at.keyRec != "" {
		_ = at.t.store.Update(ctx, at.keyRec, func(ThrottleRecord) ThrottleRecord { return ThrottleRecord{} })
	}
	at.t.takeBack(ctx, at.clientRec)
}

// failed: the attempt failed and has been answered; waits for the next
// run from now, so that holding failures to the floor does not use them
// up.
func (at *throttleAttempt) failed(ctx context.Context) {
	now := at.t.now()
	for _, r := range []struct {
		rec string
		p   ThrottlePolicy
	}{{at.keyRec, at.t.key}, {at.clientRec, at.t.client}} {
		if r.rec == "" {
			continue
		}
		// A store error leaves the start of the attempt as its date.
		_ = at.t.store.Update(ctx, r.rec, func(rec ThrottleRecord) ThrottleRecord {
			if rec.Failures <= 0 {
				return rec
			}
			return r.p.stamp(rec, now)
		})
	}
}

// void: the attempt reached no verdict, so it counts nowhere.
func (at *throttleAttempt) void(ctx context.Context) {
	at.t.takeBack(ctx, at.keyRec)
	at.t.takeBack(ctx, at.clientRec)
}

// ClientIP is Config.ClientKey's default: the IP address of r.RemoteAddr,
// with IPv6 addresses cut to their /64 network (one subscriber usually
// holds a whole /64). Behind a reverse proxy or load balancer RemoteAddr
// is the proxy's, so every client would share one record: set
// Config.ClientKey to read the client address the proxy reports (only
// from a proxy you trust; clients can send any X-Forwarded-For header).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
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
