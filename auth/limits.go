package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Limit errors. Calls refused by one of these limits return a *LimitError
// that matches its sentinel with errors.Is and says when to retry.
var (
	// ErrBusy: too many password hashes or verifications were in progress
	// (Config.MaxConcurrentHashes) for longer than Config.MaxHashWait. The
	// password was not checked. Answer 503 with Retry-After (see
	// SetRetryAfter).
	ErrBusy = &Error{"AUTH_BUSY", "too many password hashes in progress"}
	// ErrThrottled: too many failed logins for this key or this client,
	// too many failed re-authentications in this session, or too many
	// sign-ups from this client (see Config.KeyThrottle and the throttles
	// beside it). Nothing was checked, hashed or read. The error is the
	// same whether or not the key exists. Answer 429 with Retry-After (see
	// SetRetryAfter).
	ErrThrottled = &Error{"AUTH_THROTTLED", "too many attempts"}
)

// LimitError reports a call refused by one of the core's limits. It
// matches Limit with errors.Is.
type LimitError struct {
	// Limit is ErrBusy or ErrThrottled.
	Limit *Error
	// RetryAfter is how long the client should wait before trying again;
	// at least a second.
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s (retry after %s)", e.Limit.Error(), e.RetryAfter)
}

// Unwrap returns Limit, so that errors.Is(err, ErrBusy) and
// errors.Is(err, ErrThrottled) see it.
func (e *LimitError) Unwrap() error { return e.Limit }

func newLimitError(limit *Error, retryAfter time.Duration) *LimitError {
	return &LimitError{Limit: limit, RetryAfter: max(retryAfter, time.Second)}
}

// SetRetryAfter sets the Retry-After header (whole seconds, rounded up)
// when err is or wraps a *LimitError, and reports whether it did. Use it
// when answering ErrBusy (503) or ErrThrottled (429) yourself, after LogIn
// or UseKey; WriteError, the default Config.ErrorHandler, does the same.
func SetRetryAfter(w http.ResponseWriter, err error) bool {
	var le *LimitError
	if !errors.As(err, &le) {
		return false
	}
	seconds := (le.RetryAfter + time.Second - 1) / time.Second
	w.Header().Set("Retry-After", strconv.FormatInt(int64(max(seconds, 1)), 10))
	return true
}
