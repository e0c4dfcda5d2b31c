package auth

import (
	"context"
	"errors"
)

// verifyKey checks password against the key's stored hash: the part of
// UseKey up to "the password matched". It returns the key's record if it
// did. The attempt is counted in the records of throttle (per key, per
// client, per session: the caller's choice). A key of another user than
// owner (when owner is not "") counts as an unknown key.
//
// In order: a password that is not valid UTF-8 or contains NUL is refused
// (*InputError); a login beyond what the hashing bound can serve gets
// ErrBusy before any call to the throttle store or the adapter; the
// attempt is throttled (throttle.go), so that a locked key, client or
// session gets ErrThrottled without any hashing or adapter call; then the
// key is read and the password verified under the hashing bound
// (hashlimit.go). Every failure (unknown key, wrong or missing password,
// outdated or unreadable hash, throttled attempt) is held until the
// failure floor (timing.go), so that all take the same time; ErrBusy,
// context and storage errors return at once, since they say nothing about
// the key.
func (a *Auth[A]) verifyKey(ctx context.Context, id, password, owner string, throttle ...throttleCount) (KeyRecord, error) {
	if err := checkPassword(password); err != nil {
		return KeyRecord{}, err
	}
	start := a.timing.now()
	finish := func() {}
	if password != "" {
		// Beyond what the hashing bound can serve, a login is turned away
		// before it costs the throttle store or the database anything: a
		// flood must not become a flood of writes.
		var err error
		if finish, err = a.hasher.startLogin(); err != nil {
			return KeyRecord{}, err
		}
	}
	attempt, err := a.throttle.admit(ctx, throttle...)
	if err != nil {
		finish()
		if errors.Is(err, ErrThrottled) {
			a.timing.hold(ctx, start)
		}
		return KeyRecord{}, err
	}
	if password != "" {
		if err := a.prepareLogin(ctx); err != nil {
			finish()
			attempt.void(ctx)
			return KeyRecord{}, err
		}
	}
	rec, err := a.checkKeyPassword(ctx, id, password, owner)
	finish() // before the wait: waiting holds no hashing resources
	switch {
	case err == nil:
		attempt.succeeded(ctx)
	case isLoginFailure(err):
		a.timing.hold(ctx, start)
		attempt.keep()
	default:
		attempt.void(ctx)
	}
	return rec, err
}

// checkKeyPassword reads the key and verifies password against its hash.
// A key of another user than owner (unless owner is "") is answered as an
// unknown key.
func (a *Auth[A]) checkKeyPassword(ctx context.Context, id, password, owner string) (KeyRecord, error) {
	rec, err := a.adapter.GetKey(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && owner != "" && rec.UserID != owner {
		return KeyRecord{}, a.failAfterDummy(ctx, password, ErrInvalidKeyID)
	}
	if err != nil {
		return KeyRecord{}, err
	}
	hash := rec.hash()
	switch {
	case hash == "" && password != "":
		return KeyRecord{}, a.failAfterDummy(ctx, password, ErrInvalidPassword)
	case hash != "" && password == "":
		return KeyRecord{}, ErrInvalidPassword
	case hash != "":
		ok, err := a.hasher.Verify(ctx, hash, password)
		switch {
		case isLimitOrContext(err):
			return KeyRecord{}, err
		case err != nil:
			// A bcrypt (ErrOutdatedPassword) or unreadable hash: nothing
			// was verified, so spend a verification as the others do.
			return KeyRecord{}, a.failAfterDummy(ctx, password, err)
		case !ok:
			return KeyRecord{}, ErrInvalidPassword
		}
	}
	return rec, nil
}

// failAfterDummy returns failure after verifying password against the
// dummy hash, so that a login that has no hash to verify costs what one
// that has does; or the error that stopped that verification (ErrBusy,
// ctx). verifyKey has made the dummy hash (prepareLogin) for every
// password.
func (a *Auth[A]) failAfterDummy(ctx context.Context, password string, failure error) error {
	if password != "" {
		if _, err := a.hasher.Verify(ctx, a.timing.dummyHash, password); isLimitOrContext(err) {
			return err
		}
	}
	return failure
}

// isLoginFailure reports whether err is a verdict on the attempt (the key
// or password was wrong, or the hash unusable) rather than a failure to
// reach one.
func isLoginFailure(err error) bool {
	var hfe *HashFormatError
	return errors.Is(err, ErrInvalidKeyID) || errors.Is(err, ErrInvalidPassword) ||
		errors.Is(err, ErrOutdatedPassword) || errors.As(err, &hfe)
}
