package auth

import (
	"fmt"
	"strings"
)

// Error is one of the error conditions Lucia v1 names. The package's
// sentinel errors are *Error values; test for them with errors.Is, which
// also sees through wrapping.
type Error struct {
	// Code is Lucia's code for the condition, such as "AUTH_INVALID_USER_ID".
	Code    string
	message string
}

func (e *Error) Error() string { return "auth: " + e.message }

// Adapter errors, shared by every adapter.
var (
	// ErrNotFound: the requested user, key or session does not exist.
	ErrNotFound = &Error{"AUTH_NOT_FOUND", "not found"}
	// ErrInvalidUserID: the user a call refers to does not exist.
	ErrInvalidUserID = &Error{"AUTH_INVALID_USER_ID", "invalid user id"}
	// ErrDuplicateUserID: a user with this id already exists.
	ErrDuplicateUserID = &Error{"AUTH_DUPLICATE_USER_ID", "duplicate user id"}
	// ErrDuplicateKeyID: a key with this id already exists.
	ErrDuplicateKeyID = &Error{"AUTH_DUPLICATE_KEY_ID", "duplicate key id"}
	// ErrDuplicateSessionID: a session with this id already exists.
	ErrDuplicateSessionID = &Error{"AUTH_DUPLICATE_SESSION_ID", "duplicate session id"}
	// ErrInvalidKeyID: the key a call refers to does not exist.
	ErrInvalidKeyID = &Error{"AUTH_INVALID_KEY_ID", "invalid key id"}
	// ErrInvalidInput: an argument was rejected before any database call;
	// the error is an *InputError saying which and why.
	ErrInvalidInput = &Error{"AUTH_INVALID_INPUT", "invalid input"}
	// ErrDuplicateValue: a unique index or constraint other than the
	// record's id refused the write, typically one the application added on
	// a user attribute (an email address). The error is a
	// *DuplicateValueError saying which index, where the database tells.
	// It is never reported as ErrDuplicateUserID or ErrDuplicateKeyID: those
	// mean that the id itself is taken. (Lucia v1 has no code for this; its
	// adapters passed such errors on unchanged.)
	ErrDuplicateValue = &Error{"AUTH_DUPLICATE_VALUE", "duplicate value"}
)

// InputError reports an argument that an adapter or the core refused before
// touching the database. It matches ErrInvalidInput.
type InputError struct {
	// Field names the argument: "user id", "session id", "key id" or
	// "attribute", for instance.
	Field string
	// Name is the offending attribute name, when Field is "attribute".
	Name string
	// Reason says what is wrong, in a few words.
	Reason string
}

func (e *InputError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("auth: invalid %s %q: %s", e.Field, e.Name, e.Reason)
	}
	return fmt.Sprintf("auth: invalid %s: %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// DuplicateValueError reports a write refused by a unique index or
// constraint other than the one on the record's id. It matches
// ErrDuplicateValue.
//
// Adapters fill in what the database reports. MongoDB 4.2 and later report
// the index's fields (its key pattern); PostgreSQL and MySQL report the
// constraint or index name; SQLite reports the columns of an index on plain
// columns and the name of an index on expressions. Some servers report
// neither (FerretDB v1, MongoDB before 4.2): both fields are then empty,
// and the adapter has made sure that the record's id was not the clash.
//
// The duplicate value itself is left out on purpose: it is often personal
// data (an email address) that does not belong in logs. Err, the
// database's own error, may contain it.
type DuplicateValueError struct {
	// Index names the unique index or constraint, as the database reports
	// it; empty when it does not.
	Index string
	// Fields are the fields or columns the index covers, when the database
	// reports them; nil otherwise.
	Fields []string
	// Err is the database's error.
	Err error
}

func (e *DuplicateValueError) Error() string {
	switch {
	case e.Index != "" && len(e.Fields) > 0:
		return fmt.Sprintf("auth: duplicate value: unique index %q on %s", e.Index, strings.Join(e.Fields, ", "))
	case e.Index != "":
		return fmt.Sprintf("auth: duplicate value: unique index %q", e.Index)
	case len(e.Fields) > 0:
		return "auth: duplicate value: unique index on " + strings.Join(e.Fields, ", ")
	}
	return "auth: duplicate value: a unique index the database did not name"
}

// Is makes errors.Is(err, ErrDuplicateValue) true.
func (e *DuplicateValueError) Is(target error) bool { return target == ErrDuplicateValue }

// Unwrap returns the database's error.
func (e *DuplicateValueError) Unwrap() error { return e.Err }

// Core errors, returned by Auth. As in Lucia v1, an unknown user or key is
// reported with ErrInvalidUserID or ErrInvalidKeyID.
var (
	// ErrInvalidSessionID: the session id is malformed, unknown or belongs
	// to a dead (expired) session, or the session's user no longer exists.
	ErrInvalidSessionID = &Error{"AUTH_INVALID_SESSION_ID", "invalid session id"}
	// ErrInvalidPassword: the password does not match the key's, or a
	// password was expected and none was given (or the other way round).
	ErrInvalidPassword = &Error{"AUTH_INVALID_PASSWORD", "invalid password"}
	// ErrExpiredKey: the single-use key has expired; it has been deleted.
	ErrExpiredKey = &Error{"AUTH_EXPIRED_KEY", "expired key"}
	// ErrOutdatedPassword: the key's password hash is in a format that can
	// no longer be verified (bcrypt, as Lucia v1 reported); the user has to
	// set a new password. It is returned whatever the password, so it tells
	// that the key exists: a login form should answer it as it answers
	// ErrInvalidKeyID and ErrInvalidPassword, and offer a reset by another
	// channel (the core holds it to the same failure time).
	ErrOutdatedPassword = &Error{"AUTH_OUTDATED_PASSWORD", "outdated password hash"}
	// ErrInvalidRequest: an HTTP request failed the CSRF (Origin) check;
	// the error is an *OriginError saying why.
	ErrInvalidRequest = &Error{"AUTH_INVALID_REQUEST", "invalid request"}
	// ErrNotAuthenticated: the request carries no valid session.
	ErrNotAuthenticated = &Error{"AUTH_NOT_AUTHENTICATED", "not authenticated"}
)
