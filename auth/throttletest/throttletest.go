// Package throttletest is the conformance suite for auth.ThrottleStore
// implementations. Every store in this module runs it; a store of your own
// can too:
//
//	func TestThrottleStore(t *testing.T) {
//		throttletest.Run(t, func(t *testing.T) auth.ThrottleStore {
//			return newEmptyStore(t) // fresh, empty storage for each subtest
//		})
//	}
//
// A store shared by several processes proves that its updates are atomic
// across them with RunShared, whose function opens several instances over
// the same storage, as several application instances would: the
// concurrency tests then spread their updates over the instances, and one
// test runs an auth.Auth on each and checks that together they let
// through exactly the failed logins one instance would.
//
// The suite covers the rule of auth.ThrottleUpdate (debt added and paid
// back by time, the limit, refusals that change nothing, taking back),
// healed records reading as none, keys kept apart byte for byte,
// millisecond times, concurrent updates and bursts, and cancelled
// contexts.
package throttletest

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// NewStore returns a store over empty storage private to t. It is called
// once per subtest, possibly from parallel subtests.
type NewStore func(t *testing.T) auth.ThrottleStore

// NewSharedStores returns n store instances over the same empty storage,
// private to t, as n processes would open them.
type NewSharedStores func(t *testing.T, n int) []auth.ThrottleStore

// Run runs the suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	RunShared(t, func(t *testing.T, n int) []auth.ThrottleStore {
		s := newStore(t)
		stores := make([]auth.ThrottleStore, n)
		for i := range stores {
			stores[i] = s
		}
		return stores
	})
}

// RunShared runs the suite against store instances made by newStores.
// Its subtests run in parallel, each with its own storage.
func RunShared(t *testing.T, newStores NewSharedStores) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			t.Cleanup(cancel)
			f := &fixture{t: t, ctx: ctx, stores: newStores(t, instances)}
			tc.run(f)
		})
	}
}

// instances is how many store instances the concurrency tests spread
// their updates over.
const instances = 3

type test struct {
	name string
	run  func(f *fixture)
}

// fixture is one subtest's stores and helpers.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	stores []auth.ThrottleStore
}

// t0 is a time with milliseconds, as the core passes them.
var t0 = time.Date(2024, 5, 1, 12, 0, 0, 123_000_000, time.UTC)

// update applies one update through the first store and checks for errors.
func (f *fixture) update(key string, now time.Time, cost, limit time.Duration) (time.Time, bool) {
	f.t.Helper()
	until, applied, err := f.stores[0].Update(f.ctx, key, auth.ThrottleUpdate{Now: now, Cost: cost, Limit: limit})
	require.NoError(f.t, err, "Update(%q, now %s, cost %s, limit %s)", key, now.Format(time.RFC3339Nano), cost, limit)
	return until, applied
}

// count counts one attempt (cost, limit) and requires the outcome.
func (f *fixture) count(key string, now time.Time, cost, limit time.Duration, wantApplied bool, wantUntil time.Time, msg string) {
	f.t.Helper()
	until, applied := f.update(key, now, cost, limit)
	assert.Equal(f.t, wantApplied, applied, "%s: applied", msg)
	assert.True(f.t, wantUntil.Equal(until), "%s: until is %s, want %s", msg, until.UTC().Format(time.RFC3339Nano), wantUntil.Format(time.RFC3339Nano))
}

// debt reads key's debt at now without changing it: an update of the
// smallest cost, taken back at once.
func (f *fixture) debt(key string, now time.Time) time.Duration {
	f.t.Helper()
	until, applied := f.update(key, now, time.Millisecond, 1000*time.Hour)
	require.True(f.t, applied)
	f.update(key, now, -time.Millisecond, 1000*time.Hour)
	return until.Sub(now) - time.Millisecond
}

var tests = []test{
	{"FirstUpdateCreatesTheRecord", func(f *fixture) {
		f.count("k", t0, time.Minute, 3*time.Minute, true, t0.Add(time.Minute), "a missing record has no debt")
	}},
	{"CountsUpToTheLimit", func(f *fixture) {
		for i := 1; i <= 3; i++ {
			f.count("k", t0, time.Minute, 3*time.Minute, true, t0.Add(time.Duration(i)*time.Minute), "within the limit")
		}
		for range 3 {
			f.count("k", t0, time.Minute, 3*time.Minute, false, t0.Add(3*time.Minute), "beyond the limit: refused, unchanged")
		}
		f.count("k", t0, time.Minute, 4*time.Minute, true, t0.Add(4*time.Minute), "a larger limit lets it through")
	}},
	{"TimePaysTheDebtBack", func(f *fixture) {
		for range 3 {
			f.update("k", t0, time.Minute, 3*time.Minute)
		}
		f.count("k", t0.Add(59*time.Second), time.Minute, 3*time.Minute, false, t0.Add(3*time.Minute), "a second early")
		f.count("k", t0.Add(time.Minute), time.Minute, 3*time.Minute, true, t0.Add(4*time.Minute), "one minute paid back")
		f.count("k", t0.Add(time.Minute), time.Minute, 3*time.Minute, false, t0.Add(4*time.Minute), "and spent again")
		f.count("k", t0.Add(3*time.Minute+500*time.Millisecond), time.Minute, 3*time.Minute, true, t0.Add(5*time.Minute), "to the millisecond")
	}},
	{"HealedRecordIsNone", func(f *fixture) {
		f.update("k", t0, time.Minute, 3*time.Minute)
		later := t0.Add(time.Hour)
		f.count("k", later, time.Minute, 3*time.Minute, true, later.Add(time.Minute), "no debt carried from a healed record")
		f.count("k", later.Add(time.Minute), 2*time.Minute, 2*time.Minute, true, later.Add(3*time.Minute), "healed exactly at Until")
	}},
	{"TakingBack", func(f *fixture) {
		for range 3 {
			f.update("k", t0, time.Minute, 3*time.Minute)
		}
		f.count("k", t0.Add(10*time.Second), -time.Minute, 3*time.Minute, true, t0.Add(2*time.Minute), "one attempt taken back")
		f.count("k", t0.Add(10*time.Second), time.Minute, 3*time.Minute, true, t0.Add(3*time.Minute), "makes room for one")
		until, applied := f.update("k", t0.Add(time.Hour), -time.Minute, 3*time.Minute)
		assert.True(f.t, applied)
		assert.False(f.t, until.After(t0.Add(time.Hour)), "taking back from a healed record leaves no debt")
		f.count("k", t0.Add(time.Hour), time.Minute, 3*time.Minute, true, t0.Add(time.Hour+time.Minute), "and no credit either")
	}},
	{"TakingBackCreatesNothing", func(f *fixture) {
		until, applied := f.update("k", t0, -time.Minute, 3*time.Minute)
		assert.True(f.t, applied)
		assert.False(f.t, until.After(t0), "no debt")
		f.count("k", t0, time.Minute, 3*time.Minute, true, t0.Add(time.Minute), "no credit from taking back what was never counted")
		for range 2 {
			f.update("k", t0, time.Minute, 3*time.Minute)
		}
		f.count("k", t0, time.Minute, 3*time.Minute, false, t0.Add(3*time.Minute), "the limit as ever")
	}},
	{"KeysAreKeptApart", func(f *fixture) {
		keys := []string{
			"key:username:ann", "key:username:Ann", "key:username:ann ", "key:username:anne",
			"key:username:ännä", "key:username:a%", "key:username:a_", "key:username:'; --", `key:"x"`,
			"key:$where", "key:a.b", "client:2001:db8:1:2::/64", "session:" + strings.Repeat("a", 64),
			"key:" + strings.Repeat("é", 62), // 128 bytes
		}
		for i, k := range keys {
			for range i + 1 {
				f.update(k, t0, time.Minute, time.Hour)
			}
		}
		for i, k := range keys {
			assert.Equal(f.t, time.Duration(i+1)*time.Minute, f.debt(k, t0), "%q has its own record", k)
		}
	}},
	{"TimesComeBackToTheMillisecond", func(f *fixture) {
		now := time.Date(2031, 12, 31, 23, 59, 59, 999_000_000, time.FixedZone("X", 3600))
		f.count("k", now, 1500*time.Millisecond, time.Hour, true, now.Add(1500*time.Millisecond), "milliseconds, any zone")
		f.count("k", now.Add(time.Millisecond), time.Millisecond, time.Hour, true, now.Add(1501*time.Millisecond), "one more")
	}},
	{"ConcurrentUpdatesAreAtomic", func(f *fixture) {
		const goroutines, each = 8, 25
		var wg sync.WaitGroup
		for g := range goroutines {
			store := f.stores[g%len(f.stores)]
			wg.Go(func() {
				for range each {
					_, applied, err := store.Update(f.ctx, "k", auth.ThrottleUpdate{Now: t0, Cost: time.Second, Limit: time.Hour})
					assert.NoError(f.t, err)
					assert.True(f.t, applied)
				}
			})
		}
		wg.Wait()
		assert.Equal(f.t, goroutines*each*time.Second, f.debt("k", t0), "no update lost")
	}},
	{"ConcurrentBurstGetsExactlyTheLimit", func(f *fixture) {
		const burst, limit = 40, 7
		var applied atomic.Int64
		var wg sync.WaitGroup
		for i := range burst {
			store := f.stores[i%len(f.stores)]
			wg.Go(func() {
				_, ok, err := store.Update(f.ctx, "k", auth.ThrottleUpdate{Now: t0, Cost: time.Minute, Limit: limit * time.Minute})
				assert.NoError(f.t, err)
				if ok {
					applied.Add(1)
				}
			})
		}
		wg.Wait()
		assert.Equal(f.t, int64(limit), applied.Load(), "exactly the limit got through")
		assert.Equal(f.t, limit*time.Minute, f.debt("k", t0))
	}},
	{"ConcurrentTakingBack", func(f *fixture) {
		for range 10 {
			f.update("k", t0, time.Minute, time.Hour)
		}
		var wg sync.WaitGroup
		for i := range 20 {
			store := f.stores[i%len(f.stores)]
			wg.Go(func() {
				for _, cost := range []time.Duration{time.Minute, -time.Minute, -time.Minute} {
					_, _, err := store.Update(f.ctx, "k", auth.ThrottleUpdate{Now: t0, Cost: cost, Limit: time.Hour})
					assert.NoError(f.t, err)
				}
			})
		}
		wg.Wait()
		until, applied := f.update("k", t0, time.Minute, time.Hour)
		assert.True(f.t, applied)
		assert.True(f.t, t0.Add(time.Minute).Equal(until), "all taken back, never below no debt: until %s", until)
	}},
	{"CancelledContext", func(f *fixture) {
		ctx, cancel := context.WithCancel(f.ctx)
		cancel()
		_, _, err := f.stores[0].Update(ctx, "k", auth.ThrottleUpdate{Now: t0, Cost: time.Minute, Limit: time.Hour})
		require.Error(f.t, err)
		assert.ErrorIs(f.t, err, context.Canceled)
	}},
	{"InstancesTogetherAllowWhatOneAllows", instancesTest},
}
