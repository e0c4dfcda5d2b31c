package auth

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// DefaultMaxHashWait is Config.MaxHashWait's default.
const DefaultMaxHashWait = time.Second

// hashWaitersPerSlot bounds how many callers wait for each hashing slot;
// further callers fail at once rather than queue for a slot they would
// not get within MaxHashWait anyway.
const hashWaitersPerSlot = 16

// limitedHasher runs the configured PasswordHasher under the bound on
// concurrent hashing (Config.MaxConcurrentHashes), so that every Hash and
// Verify the core makes, dummy ones included, takes a slot. It also tells
// the login timing how long each verification took (timing.go).
type limitedHasher struct {
	PasswordHasher // NeedsRehash passes through: it only parses

	slots      chan struct{} // nil: no bound
	waiting    atomic.Int64
	maxWaiting int64
	maxWait    time.Duration // <= 0: no waiting
	timing     *loginTiming

	// logins counts the password logins under way, from before their key
	// is read to the end of their verification (see startLogin).
	logins    atomic.Int64
	maxLogins int64
}

func newLimitedHasher(h PasswordHasher, config Config, timing *loginTiming) *limitedHasher {
	l := &limitedHasher{PasswordHasher: h, maxWait: config.MaxHashWait, timing: timing}
	n := config.MaxConcurrentHashes
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if n > 0 {
		l.slots = make(chan struct{}, n)
		l.maxWaiting = int64(n) * hashWaitersPerSlot
		l.maxLogins = int64(n) + l.maxWaiting
	}
	if l.maxWait == 0 {
		l.maxWait = DefaultMaxHashWait
	}
	return l
}

// acquire takes a hashing slot, waiting at most maxWait; release gives it
// back. It fails with ErrBusy, or with ctx's error if ctx ends first.
func (l *limitedHasher) acquire(ctx context.Context) (release func(), err error) {
	if l.slots == nil {
		return func() {}, nil
	}
	release = func() { <-l.slots }
	select {
	case l.slots <- struct{}{}:
		return release, nil
	default:
	}
	if l.maxWait > 0 {
		if l.waiting.Add(1) > l.maxWaiting {
			l.waiting.Add(-1)
			return nil, newLimitError(ErrBusy, l.maxWait)
		}
		defer l.waiting.Add(-1)
	}
	if err := sendWithin(ctx, l.slots, l.maxWait); err != nil {
		return nil, err
	}
	return release, nil
}

// sendWithin sends on ch, waiting at most wait (none if wait <= 0): it
// fails with ErrBusy when the time is up, or with ctx's error if ctx ends
// first.
func sendWithin(ctx context.Context, ch chan<- struct{}, wait time.Duration) error {
	busy := newLimitError(ErrBusy, wait)
	if wait <= 0 {
		return busy
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case ch <- struct{}{}:
		return nil
	case <-timer.C:
		return busy
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startLogin counts a login that will verify a password; done ends the
// count. When as many logins are under way as could hold or wait for a
// hashing slot, it fails at once with ErrBusy: a flood of logins is turned
// away before it reaches the database, rather than after reading keys it
// could never verify in time.
func (l *limitedHasher) startLogin() (done func(), err error) {
	if l.slots == nil {
		return func() {}, nil
	}
	if l.logins.Add(1) > l.maxLogins {
		l.logins.Add(-1)
		return nil, newLimitError(ErrBusy, l.maxWait)
	}
	return func() { l.logins.Add(-1) }, nil
}

func (l *limitedHasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := l.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return l.PasswordHasher.Hash(ctx, password)
}

func (l *limitedHasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	release, err := l.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	start := l.timing.now()
	ok, err := l.PasswordHasher.Verify(ctx, hash, password)
	if err == nil {
		l.timing.record(hash, l.timing.now().Sub(start))
	}
	return ok, err
}
