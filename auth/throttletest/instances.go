package throttletest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// noKeys is an adapter that knows no key: every login to it fails after
// its password is checked against the dummy hash. The throttle needs
// nothing else.
type noKeys struct{ auth.Adapter }

func (noKeys) GetKey(context.Context, string) (auth.KeyRecord, error) {
	return auth.KeyRecord{}, auth.ErrNotFound
}

// argon2idOnly is the fast test hasher without Lucia's scrypt formats, so
// that the first login measures no scrypt hash (the failure floor then
// stays short).
type argon2idOnly struct{ *auth.Argon2id }

func (h argon2idOnly) Verify(ctx context.Context, hash, password string) (bool, error) {
	if !strings.HasPrefix(hash, "$argon2id$") {
		return false, &auth.HashFormatError{Reason: "not argon2id"}
	}
	return h.Argon2id.Verify(ctx, hash, password)
}

// instancesTest runs one auth.Auth per store instance, as instances of an
// application would, and checks that together they let through exactly
// the failed logins for one key that one of them alone would: a
// concurrent burst over all of them gets FreeFailures, and once MaxDelay
// has passed exactly one more gets through, whichever instance it hits.
func instancesTest(f *fixture) {
	policy := auth.ThrottlePolicy{FreeFailures: 5, MaxDelay: time.Hour}
	var now atomic.Int64 // Config.Now of every instance, in Unix ms
	now.Store(t0.UnixMilli())
	var auths []*auth.Auth[map[string]any]
	for _, store := range f.stores {
		a, err := auth.New[map[string]any](noKeys{}, auth.Config{
			PasswordHasher: argon2idOnly{auth.InsecureFastHasher()},
			// No ErrBusy, however slow the machine.
			MaxConcurrentHashes: -1,
			MaxHashWait:         10 * time.Minute,
			KeyThrottle:         policy,
			ThrottleStore:       store,
			Now:                 func() time.Time { return time.UnixMilli(now.Load()) },
		})
		require.NoError(f.t, err)
		auths = append(auths, a)
	}
	var checked, refused atomic.Int64
	attempt := func(a *auth.Auth[map[string]any]) {
		_, err := a.UseKey(f.ctx, "username", "ann", "guess")
		switch {
		case errors.Is(err, auth.ErrInvalidKeyID):
			checked.Add(1)
		case errors.Is(err, auth.ErrThrottled):
			refused.Add(1)
		default:
			assert.NoError(f.t, err)
		}
	}
	const burst = 30
	var wg sync.WaitGroup
	for i := range burst {
		wg.Go(func() { attempt(auths[i%len(auths)]) })
	}
	wg.Wait()
	assert.Equal(f.t, int64(policy.FreeFailures), checked.Load(), "failures checked over %d instances", len(auths))
	assert.Equal(f.t, int64(burst-policy.FreeFailures), refused.Load())

	now.Add(policy.MaxDelay.Milliseconds())
	for _, a := range auths {
		attempt(a)
	}
	assert.Equal(f.t, int64(policy.FreeFailures+1), checked.Load(), "one more per MaxDelay, over all instances")
}
