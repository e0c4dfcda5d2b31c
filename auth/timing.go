package auth

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// loginTiming makes failed logins take the same time whatever failed, so
// that response times do not tell which keys exist or how their passwords
// are stored.
//
// Verifying a password costs what its stored hash asks for: about 20 ms
// for argon2id with OWASP's parameters, about 80 ms for Lucia's "s2"
// scrypt, 40 ms for the older scrypt format, nothing for a bcrypt hash
// (refused at once) or an unknown key. So every failure is held until a
// floor: the median cost of the slowest kind of hash the process has
// verified, plus a margin (or Config.MinFailedLoginTime if that is
// longer). The first login with a password measures each kind the core
// knows (the hasher's own, through the dummy hash, and Lucia's two scrypt
// formats), so that the floor covers them before any real login meets
// one. Waiting holds no hashing slot. Failures that verified nothing
// still verify the dummy hash, so that their CPU cost is alike too.
type loginTiming struct {
	configured time.Duration
	// now and sleep are the monotonic clock and the wait; tests replace
	// them (export_test.go).
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration)

	mu    sync.Mutex
	kinds map[string]*durationSamples

	// prepared is set once the dummy hash exists and every kind has been
	// measured; preparing serializes that work.
	prepared  atomic.Bool
	preparing chan struct{}
	dummyHash string
	// luciaDummies are measured with the dummy hash; tests that are not
	// about timing skip them (export_test.go), as each costs 16-32 MiB
	// and tens of milliseconds whatever the hasher.
	luciaDummies []string
}

// timingMargin is added to the slowest median, so that most attempts of
// the slowest kind are held a little too and end at the floor as well.
const timingMargin = 10 // percent

// maxHashKinds bounds the kinds tracked; further kinds share one entry.
const maxHashKinds = 16

// timingSamples is how many recent durations each kind keeps.
const timingSamples = 16

// durationSamples is a ring of recent durations.
type durationSamples struct {
	ring [timingSamples]time.Duration
	n    int // samples written, ever
}

func (s *durationSamples) add(d time.Duration) {
	s.ring[s.n%timingSamples] = d
	s.n++
}

func (s *durationSamples) median() time.Duration {
	kept := slices.Clone(s.ring[:min(s.n, timingSamples)])
	slices.Sort(kept)
	return kept[len(kept)/2]
}

func newLoginTiming(configured time.Duration) *loginTiming {
	return &loginTiming{
		configured: configured,
		now:        time.Now,
		sleep:      sleepContext,
		kinds:      make(map[string]*durationSamples),
		preparing:  make(chan struct{}, 1),

		luciaDummies: luciaDummyHashes,
	}
}

func sleepContext(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// hashKind names the cost class of a stored hash: its format and, for
// argon2id, its cost parameters.
func hashKind(hash string) string {
	parsed, err := parsePasswordHash(hash)
	if err != nil {
		return "other"
	}
	switch parsed.format {
	case formatArgon2id:
		p := parsed.argon2
		return "argon2id m=" + strconv.FormatUint(uint64(p.memory), 10) +
			",t=" + strconv.FormatUint(uint64(p.iterations), 10) +
			",p=" + strconv.Itoa(int(p.parallelism))
	case formatScrypt:
		return "scrypt s2"
	case formatLegacyScrypt:
		return "scrypt legacy"
	}
	return "other"
}

// record notes how long one verification of hash took.
func (t *loginTiming) record(hash string, d time.Duration) {
	kind := hashKind(hash)
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.kinds[kind]
	if s == nil {
		if len(t.kinds) >= maxHashKinds {
			kind = "other"
		}
		if s = t.kinds[kind]; s == nil {
			s = new(durationSamples)
			t.kinds[kind] = s
		}
	}
	s.add(d)
}

// floor is how long every failed login takes at least.
func (t *loginTiming) floor() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var slowest time.Duration
	for _, s := range t.kinds {
		slowest = max(slowest, s.median())
	}
	return max(slowest+slowest*timingMargin/100, t.configured)
}

// hold waits until the floor has passed since start, or ctx ends.
func (t *loginTiming) hold(ctx context.Context, start time.Time) {
	if d := start.Add(t.floor()).Sub(t.now()); d > 0 {
		t.sleep(ctx, d)
	}
}

// luciaDummyHashes are hashes in Lucia's scrypt formats that match no
// password, verified once to measure what those formats cost here.
var luciaDummyHashes = []string{dummyScryptS2, dummyScryptLegacy}

const (
	dummyScryptS2     = "s2:aaaaaaaaaaaaaaaa:" + dummyScryptKey
	dummyScryptLegacy = "aaaaaaaaaaaaaaaa:" + dummyScryptKey
	dummyScryptKey    = "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
)

// prepareLogin makes the dummy hash and measures every kind of hash the
// core knows, once; until then failed logins could not be held long
// enough. It fails only if ctx ends or no hashing slot comes free
// (ErrBusy); the next login tries again.
func (a *Auth[A]) prepareLogin(ctx context.Context) error {
	t := a.timing
	if t.prepared.Load() {
		return nil
	}
	select {
	case t.preparing <- struct{}{}:
		defer func() { <-t.preparing }()
	case <-ctx.Done():
		return ctx.Err()
	}
	if t.prepared.Load() {
		return nil
	}
	if t.dummyHash == "" {
		hash, err := a.hasher.Hash(ctx, RandomID(32))
		if err != nil {
			return err
		}
		t.dummyHash = hash
	}
	// A hasher that does not know a format refuses it at once, and only
	// verifications that ran are measured.
	for _, hash := range append([]string{t.dummyHash}, t.luciaDummies...) {
		if _, err := a.hasher.Verify(ctx, hash, "calibration"); isLimitOrContext(err) {
			return err
		}
	}
	t.prepared.Store(true)
	return nil
}

// verifyDummy verifies password against the dummy hash, so that a login
// that has no hash to verify costs what one that has does. It returns
// only ErrBusy or a context error.
func (a *Auth[A]) verifyDummy(ctx context.Context, password string) error {
	if password == "" {
		return nil
	}
	if err := a.prepareLogin(ctx); err != nil {
		return err
	}
	if _, err := a.hasher.Verify(ctx, a.timing.dummyHash, password); isLimitOrContext(err) {
		return err
	}
	return nil
}

// isLimitOrContext reports whether err says the call did not get to run
// (ErrBusy, or ctx ended) rather than what it found.
func isLimitOrContext(err error) bool {
	return err != nil && (errors.Is(err, ErrBusy) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
