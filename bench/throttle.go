package bench

import (
	"time"

	"github.com/luciago/mongoauth/auth"
)

// The shared-throttle cases: UseKey with the throttle's records in the
// measured database (mongoauth.Adapter.ThrottleStore), so that their rows
// show the commands throttling adds to a login next to core-use-key. On
// MongoDB an update of a record is one command; on FerretDB, which has no
// atomic update, four (Env.ThrottleLocks). UseKey counts in the key's
// record; LogIn also counts in the client's, which doubles what is added.
// Failed and refused attempts are held to the failure floor, so their
// rows are slow by design: only their commands matter.

// sharedThrottle configures a core whose key throttle uses policy and
// keeps its records in the case's database.
func sharedThrottle(policy auth.ThrottlePolicy) func(d *database) (auth.Config, error) {
	return func(d *database) (auth.Config, error) {
		store, err := d.measured.ThrottleStore()
		return auth.Config{ThrottleStore: store, KeyThrottle: policy}, err
	}
}

// generous never refuses: the failed-login case measures failures.
var generous = auth.ThrottlePolicy{FreeFailures: 1 << 40, MaxDelay: time.Millisecond}

var (
	// coreUseKeySharedThrottle: a success counts the attempt and takes it
	// back (two updates).
	coreUseKeySharedThrottle = coreCaseFor(sharedThrottle(auth.ThrottlePolicy{}), 0, useKeyWith(corePassword, nil))
	// coreUseKeyWrongSharedThrottle: a failure counts the attempt (one
	// update).
	coreUseKeyWrongSharedThrottle = coreCaseFor(sharedThrottle(generous), 0, useKeyWith("wrong", auth.ErrInvalidPassword))
	// coreUseKeyRefusedSharedThrottle: a refused attempt is the update
	// that refuses it, and no read of the key.
	coreUseKeyRefusedSharedThrottle = coreCaseFor(sharedThrottle(auth.ThrottlePolicy{FreeFailures: 1, MaxDelay: 24 * time.Hour}), 0,
		useKeyWith("wrong", auth.ErrThrottled))
)
