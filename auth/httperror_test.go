package auth_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/luciago/mongoauth/auth"
)

// TestWriteErrorStatuses: each error a call of the core returns gets the
// status its godoc names, Retry-After for the limits, and only the status
// text as body (never the error: it can tell which usernames exist).
func TestWriteErrorStatuses(t *testing.T) {
	limit := func(e *auth.Error) error {
		return fmt.Errorf("wrapped: %w", &auth.LimitError{Limit: e, RetryAfter: 2500 * time.Millisecond})
	}
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		retryAfter string
	}{
		{"unknown key", auth.ErrInvalidKeyID, http.StatusUnauthorized, ""},
		{"wrong password", auth.ErrInvalidPassword, http.StatusUnauthorized, ""},
		{"bcrypt hash", auth.ErrOutdatedPassword, http.StatusUnauthorized, ""},
		{"expired key", auth.ErrExpiredKey, http.StatusUnauthorized, ""},
		{"user deleted during login", fmt.Errorf("x: %w", errors.Join(auth.ErrInvalidKeyID, auth.ErrInvalidUserID)), http.StatusUnauthorized, ""},
		{"no session", auth.ErrNotAuthenticated, http.StatusUnauthorized, ""},
		{"bad session", auth.ErrInvalidSessionID, http.StatusUnauthorized, ""},
		{"throttled", limit(auth.ErrThrottled), http.StatusTooManyRequests, "3"},
		{"busy", limit(auth.ErrBusy), http.StatusServiceUnavailable, "3"},
		{"csrf", &auth.OriginError{Reason: "cross-site"}, http.StatusForbidden, ""},
		{"bad input", &auth.InputError{Field: "key id", Reason: "empty"}, http.StatusBadRequest, ""},
		{"username taken", auth.ErrDuplicateKeyID, http.StatusConflict, ""},
		{"unique attribute taken", &auth.DuplicateValueError{Index: "email_1"}, http.StatusConflict, ""},
		{"storage", errors.New("connection refused"), http.StatusInternalServerError, ""},
	} {
		w := httptest.NewRecorder()
		auth.WriteError(w, httptest.NewRequest(http.MethodPost, "/login", nil), tc.err)
		assert.Equal(t, tc.status, w.Code, tc.name)
		assert.Equal(t, tc.retryAfter, w.Header().Get("Retry-After"), tc.name)
		assert.Equal(t, http.StatusText(tc.status), strings.TrimSpace(w.Body.String()), tc.name)
	}
}

// TestWriteErrorIsTheDefaultErrorHandler: Middleware and RequireUser answer
// through the same code path as an application calling WriteError.
func TestWriteErrorIsTheDefaultErrorHandler(t *testing.T) {
	a, err := auth.New[profile](newMemoryAdapter(), auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	w := serve(a.Middleware(a.RequireUser(&recordingHandler{})), request(http.MethodGet, "", ""))
	want := httptest.NewRecorder()
	auth.WriteError(want, nil, auth.ErrNotAuthenticated)
	assert.Equal(t, want.Code, w.Code)
	assert.Equal(t, want.Body.String(), w.Body.String())
}
