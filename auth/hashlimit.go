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
// Verify the core makes, dummy ones included, takes a slot. Hashes of new
// passwords (HashNew) take a slot of their share first, so that they hold
// at most half of the slots and never fill the queue of callers waiting
// for one. It also tells the login timing how long each verification took
// (timing.go).
type limitedHasher struct {
	PasswordHasher // NeedsRehash passes through: it only parses

	slots    hashSlots // all hashing
	newShare hashSlots // hashes of new passwords, on top of slots
	maxWait  time.Duration
	timing   *loginTiming

	// logins counts the password logins under way, from before their key
	// is read to the end of their verification (see startLogin).
	logins    atomic.Int64
	maxLogins int64
}

// hashSlots is a bounded set of slots with a bounded queue of waiters.
type hashSlots struct {
	slots      chan struct{} // nil: no bound
	waiting    atomic.Int64
	maxWaiting int64
}

func newHashSlots(n int) hashSlots {
	return hashSlots{slots: make(chan struct{}, n), maxWaiting: int64(n) * hashWaitersPerSlot}
}

func newLimitedHasher(h PasswordHasher, config Config, timing *loginTiming) *limitedHasher {
	l := &limitedHasher{PasswordHasher: h, maxWait: config.MaxHashWait, timing: timing}
	n := config.MaxConcurrentHashes
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if n > 0 {
		l.slots = newHashSlots(n)
		l.newShare = newHashSlots((n + 1) / 2)
		l.maxLogins = int64(n) + l.slots.maxWaiting
	}
	if l.maxWait == 0 {
		l.maxWait = DefaultMaxHashWait
	}
	return l
}

// acquire takes one of the slots, waiting until deadline at most; release
// gives it back. It fails with ErrBusy, or with ctx's error if ctx ends
// first.
func (s *hashSlots) acquire(ctx context.Context, deadline time.Time, maxWait time.Duration) (release func(), err error) {
	if s.slots == nil {
		return func() {}, nil
	}
	release = func() { <-s.slots }
	select {
	case s.slots <- struct{}{}:
		return release, nil
	default:
	}
	if maxWait > 0 {
		if s.waiting.Add(1) > s.maxWaiting {
			s.waiting.Add(-1)
			return nil, newLimitError(ErrBusy, maxWait)
		}
		defer s.waiting.Add(-1)
	}
	if err := sendWithin(ctx, s.slots, time.Until(deadline), maxWait); err != nil {
		return nil, err
	}
	return release, nil
}

// acquire takes a hashing slot, waiting at most maxWait.
func (l *limitedHasher) acquire(ctx context.Context) (release func(), err error) {
	return l.slots.acquire(ctx, time.Now().Add(l.maxWait), l.maxWait)
}

// acquireNew takes a slot of the new-password share, then a hashing slot,
// waiting at most maxWait for both together.
func (l *limitedHasher) acquireNew(ctx context.Context) (release func(), err error) {
	deadline := time.Now().Add(l.maxWait)
	releaseShare, err := l.newShare.acquire(ctx, deadline, l.maxWait)
	if err != nil {
		return nil, err
	}
	releaseSlot, err := l.slots.acquire(ctx, deadline, l.maxWait)
	if err != nil {
		releaseShare()
		return nil, err
	}
	return func() { releaseSlot(); releaseShare() }, nil
}

// sendWithin sends on ch, waiting at most wait (none if wait <= 0): it
// fails with ErrBusy, saying to retry after retryAfter, when the time is
// up, or with ctx's error if ctx ends first.
func sendWithin(ctx context.Context, ch chan<- struct{}, wait, retryAfter time.Duration) error {
	busy := newLimitError(ErrBusy, retryAfter)
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
	if l.slots.slots == nil {
		return func() {}, nil
	}
	if l.logins.Add(1) > l.maxLogins {
		l.logins.Add(-1)
		return nil, newLimitError(ErrBusy, l.maxWait)
	}
	return func() { l.logins.Add(-1) }, nil
}

// Hash hashes a password the core has just verified (a hash upgrade).
func (l *limitedHasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := l.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return l.PasswordHasher.Hash(ctx, password)
}

// HashNew hashes a new password (a sign-up, a new key, a password
// change), within the share of such hashes.
func (l *limitedHasher) HashNew(ctx context.Context, password string) (string, error) {
	release, err := l.acquireNew(ctx)
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
