package auth

import (
	"errors"
	"net/http"
)

// WriteError answers an HTTP request that a call of the core refused with
// err: the status below, with a Retry-After header for the limits
// (SetRetryAfter) and only the status text as body. The error itself never
// reaches the client: its text can tell which usernames exist, or what the
// database said; log it yourself if you need it. It is the default
// Config.ErrorHandler, so handlers that call it after LogIn, SignUp or
// LogOut answer as Middleware and RequireUser do.
//
//	ErrThrottled (a *LimitError)                          429 Too Many Requests, Retry-After
//	ErrBusy (a *LimitError)                               503 Service Unavailable, Retry-After
//	ErrInvalidRequest (an *OriginError: CSRF)             403 Forbidden
//	ErrInvalidKeyID, ErrInvalidPassword,
//	ErrOutdatedPassword, ErrExpiredKey                    401 Unauthorized
//	ErrNotAuthenticated, ErrInvalidSessionID              401 Unauthorized
//	ErrInvalidInput (an *InputError)                      400 Bad Request
//	ErrDuplicateKeyID, ErrDuplicateUserID,
//	ErrDuplicateValue                                     409 Conflict
//	anything else (storage errors)                        500 Internal Server Error
//
// A login answers every failure that names no limit with the same 401 and
// the same body, as the core holds them to the same time: the unknown
// username, the wrong password and the bcrypt hash (ErrOutdatedPassword,
// which only a reset by another channel can mend) look alike. A sign-up's
// 409 says that the username is taken, which a usable form has to (see
// SignUp). Where a page should say more than the status text, test the
// error with errors.Is first and call WriteError for the rest.
func WriteError(w http.ResponseWriter, _ *http.Request, err error) {
	status := errorStatus(err)
	SetRetryAfter(w, err)
	http.Error(w, http.StatusText(status), status)
}

// errorStatus is WriteError's table.
func errorStatus(err error) int {
	switch {
	case errors.Is(err, ErrThrottled):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrBusy):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrInvalidRequest):
		return http.StatusForbidden
	case errors.Is(err, ErrInvalidKeyID), errors.Is(err, ErrInvalidPassword),
		errors.Is(err, ErrOutdatedPassword), errors.Is(err, ErrExpiredKey),
		errors.Is(err, ErrNotAuthenticated), errors.Is(err, ErrInvalidSessionID):
		return http.StatusUnauthorized
	case errors.Is(err, ErrInvalidInput):
		return http.StatusBadRequest
	case errors.Is(err, ErrDuplicateKeyID), errors.Is(err, ErrDuplicateUserID),
		errors.Is(err, ErrDuplicateValue):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}
