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
// Verifying a password costs what its stored hash asks for (measured on 2
// cores with go test -run '^$' -bench PasswordHash ./bench): 27-37 ms for
// argon2id with OWASP's parameters, 65-153 ms for Lucia's "s2" scrypt,
// less for the older scrypt format, nothing for a bcrypt hash
// (refused at once) or an unknown key. So every failure is held until a
// floor: the estimated cost of the slowest kind of hash plus 10 % (or
// Config.MinFailedLoginTime if that is longer). The first login with a
// password measures each kind the core knows (the hasher's own, through
// the dummy hash, and Lucia's two scrypt formats), so that the floor
// covers them before any real login meets one. Waiting holds no hashing
// slot. Failures that verified nothing still verify the dummy hash, so
// that their CPU cost is alike too.
//
// The reference kind is the dummy hash's: the hasher's own format, which
// most logins verify, so that its recent times follow the machine's load.
// Other kinds keep their recent times as ratios to the
// reference estimate of the moment, and are estimated as ratio times the
// current reference estimate: a kind seen only at the first login
// (Lucia's formats, in a database that holds none) then still follows the
// load, rather than keeping a time measured under another. Estimates are
// upper quartiles of the last 16 samples.
type loginTiming struct {
	configured time.Duration
	// now and sleep are the monotonic clock and the wait; tests replace
	// them (export_test.go).
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration)

	mu  sync.Mutex
	ref string // the reference kind; "" until prepareLogin sets it
	// kinds holds durations in nanoseconds for ref, ratios to ref's
	// median for the others.
	kinds map[string]*timingSamples

	// prepared is set once the dummy hash exists and every kind has been
	// measured; preparing serializes that work, and other calls wait for
	// it at most Config.MaxHashWait.
	prepared  atomic.Bool
	preparing chan struct{}
	dummyHash string
	// luciaDummies are measured with the dummy hash; tests that are not
	// about timing skip them (export_test.go), as each costs 16-32 MiB
	// and tens of milliseconds whatever the hasher.
	luciaDummies []string
}

// timingMargin is added to the slowest estimate, so that most attempts of
// the slowest kind are held a little too and end at the floor as well.
const timingMargin = 0.10

// maxHashKinds bounds the kinds tracked; further kinds share one entry.
const maxHashKinds = 16

// timingSampleCount is how many recent samples each kind keeps.
const timingSampleCount = 16

// timingSamples is a ring of recent samples.
type timingSamples struct {
	ring [timingSampleCount]float64
	n    int // samples written, ever
}

func (s *timingSamples) add(v float64) {
	s.ring[s.n%timingSampleCount] = v
	s.n++
}

// quantile returns the value a fraction q of the samples are at most.
func (s *timingSamples) quantile(q float64) float64 {
	kept := slices.Clone(s.ring[:min(s.n, timingSampleCount)])
	slices.Sort(kept)
	return kept[int(q*float64(len(kept)-1)+0.5)]
}

func newLoginTiming(configured time.Duration) *loginTiming {
	return &loginTiming{
		configured: configured,
		now:        time.Now,
		sleep:      sleepContext,
		kinds:      make(map[string]*timingSamples),
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
	if kind == t.ref {
		t.samples(kind).add(float64(d))
		return
	}
	ref := t.kinds[t.ref]
	if ref == nil {
		return // nothing to relate it to yet; prepareLogin measures ref first
	}
	t.samples(kind).add(float64(d) / ref.quantile(0.5))
}

// samples returns kind's samples, made on first use; past maxHashKinds,
// kinds share the entry "other". The caller holds mu.
func (t *loginTiming) samples(kind string) *timingSamples {
	s := t.kinds[kind]
	if s == nil {
		if len(t.kinds) >= maxHashKinds {
			kind = "other"
		}
		if s = t.kinds[kind]; s == nil {
			s = new(timingSamples)
			t.kinds[kind] = s
		}
	}
	return s
}

// floor is how long every failed login takes at least. Each kind's cost
// is the upper quartile of its recent times (on a noisy machine a median
// would leave half of them above the floor); other kinds' ratios scale
// the reference median.
func (t *loginTiming) floor() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	ref := t.kinds[t.ref]
	if ref == nil {
		return t.configured
	}
	refMedian := ref.quantile(0.5)
	slowest := ref.quantile(0.75)
	for kind, s := range t.kinds {
		if kind != t.ref {
			slowest = max(slowest, s.quantile(0.75)*refMedian)
		}
	}
	return max(time.Duration(slowest*(1+timingMargin)), t.configured)
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
// enough. It fails only if ctx ends or no hashing slot comes free in time
// (ErrBusy); the next login tries again.
func (a *Auth[A]) prepareLogin(ctx context.Context) error {
	t := a.timing
	if t.prepared.Load() {
		return nil
	}
	// Another call may be preparing, holding hashing slots: wait for it as
	// for a slot.
	select {
	case t.preparing <- struct{}{}:
	default:
		if err := sendWithin(ctx, t.preparing, a.hasher.maxWait, a.hasher.maxWait); err != nil {
			return err
		}
	}
	defer func() { <-t.preparing }()
	if t.prepared.Load() {
		return nil
	}
	if t.dummyHash == "" {
		hash, err := a.hasher.Hash(ctx, RandomID(32))
		if err != nil {
			return err
		}
		t.dummyHash = hash
		t.mu.Lock()
		t.ref = hashKind(hash)
		t.mu.Unlock()
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

// isLimitOrContext reports whether err says the call did not get to run
// (ErrBusy, or ctx ended) rather than what it found.
func isLimitOrContext(err error) bool {
	return err != nil && (errors.Is(err, ErrBusy) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
