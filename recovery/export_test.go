package recovery

import (
	"context"
	"time"
)

// SetClock replaces the clock and the wait that hold ForgotPassword to its
// time, so that tests can check the times without taking them.
func SetClock[A any](f *Flow[A], now func() time.Time, sleep func(context.Context, time.Duration)) {
	f.now, f.sleep = now, sleep
}
