package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// What happens once UseKey has found that the password matches: a
// single-use key is used up, an outdated hash is replaced by compare-and-
// set, and, for a login that goes on to create a session, the key is
// checked again afterwards, so that a password change that ran meanwhile
// wins.

// verifiedKey is what a login remembers about the key it verified, to
// check it again once its session exists.
type verifiedKey struct {
	id       string
	userID   string
	hash     string // the hash the key should hold now ("" for none)
	password string
	// singleUse keys are used up by the login; there is nothing to check
	// again.
	singleUse bool
}

// keyVerified finishes UseKey after rec's password matched password. When
// verified is not nil, it receives what checkKeyUnchanged needs.
func (a *Auth[A]) keyVerified(ctx context.Context, rec KeyRecord, password string, verified *verifiedKey) (Key, error) {
	if rec.Expires != nil {
		if verified != nil {
			*verified = verifiedKey{id: rec.ID, userID: rec.UserID, singleUse: true}
		}
		return a.consumeKey(ctx, rec)
	}
	hash := rec.hash()
	if hash != "" && a.hasher.NeedsRehash(hash) {
		var err error
		if hash, err = a.upgradeHash(ctx, rec, hash, password); err != nil {
			return Key{}, err
		}
		rec.HashedPassword = &hash
	}
	if verified != nil {
		*verified = verifiedKey{id: rec.ID, userID: rec.UserID, hash: hash, password: password}
	}
	return a.keyFromRecord(rec), nil
}

// upgradeHash replaces the outdated hash old, which password has just
// matched, with a fresh hash, and returns the hash the key holds now. The
// replacement is a compare-and-set (KeyPasswordReplacer): it happens only
// if the key still holds old, so that a password changed since the key was
// read is never overwritten with a hash of the old one. Adapters without
// it, or without an atomic one on their database, keep the old hash.
//
// The upgrade is opportunistic: when every hashing slot is taken (ErrBusy)
// it is skipped, since the password has matched and the old hash still
// works; the next login tries again. An adapter that answered
// errors.ErrUnsupported once is not asked again (nor is a hash computed
// for it).
func (a *Auth[A]) upgradeHash(ctx context.Context, rec KeyRecord, old, password string) (string, error) {
	replacer, ok := a.adapter.(KeyPasswordReplacer)
	if !ok || a.noAtomicRehash.Load() {
		return old, nil
	}
	upgraded, err := a.hasher.Hash(ctx, password) // verifyKey checked the password
	if errors.Is(err, ErrBusy) {
		return old, nil
	}
	if err != nil {
		return old, err
	}
	err = replacer.ReplaceKeyPassword(ctx, rec.ID, old, upgraded)
	switch {
	case err == nil:
		return upgraded, nil
	case errors.Is(err, errors.ErrUnsupported):
		a.noAtomicRehash.Store(true)
		return old, nil
	case errors.Is(err, ErrNotFound):
		// The key changed or went away since it was read: judge the login
		// by the key as it is now.
		return a.checkKeyUnchanged(ctx, verifiedKey{id: rec.ID, userID: rec.UserID, hash: old, password: password})
	}
	return "", fmt.Errorf("auth: storing the upgraded password hash: %w", err)
}

// checkKeyUnchanged reads the key again and returns its hash if the login
// described by v still holds: the key exists, belongs to the same user and
// holds the hash the login verified, or another hash that accepts the same
// password (a concurrent login may have upgraded it). Otherwise it returns
// ErrInvalidKeyID (the key is gone, with its user perhaps) or
// ErrInvalidPassword (the password was changed).
func (a *Auth[A]) checkKeyUnchanged(ctx context.Context, v verifiedKey) (string, error) {
	rec, err := a.adapter.GetKey(ctx, v.id)
	if errors.Is(err, ErrNotFound) {
		return "", ErrInvalidKeyID
	}
	if err != nil {
		return "", err
	}
	if rec.UserID != v.userID {
		return "", ErrInvalidKeyID // deleted and created again, for someone else
	}
	hash := rec.hash()
	switch {
	case hash == v.hash:
		return hash, nil
	case hash == "" || v.password == "":
		return "", ErrInvalidPassword
	}
	ok, err := a.hasher.Verify(ctx, hash, v.password)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrInvalidPassword
	}
	return hash, nil
}

// UseKeyAndCreateSession logs in with a key: UseKey, then CreateSession for
// the key's user, and then a check that the key has not changed since its
// password was verified. It returns the key and the new session.
//
// The check is what UseKey followed by a CreateSession of your own does
// not give: if the password is changed (or the key deleted) between the
// verification and the session's creation, the session is deleted again
// and the call fails with ErrInvalidPassword (or ErrInvalidKeyID). So once
// a password change followed by InvalidateUserSessions has returned, no
// login that verified the old password leaves a session behind: either
// its session existed before InvalidateUserSessions ran, or its check
// reads the key after the change. A hash that changed to another that
// accepts the same password (an upgrade by a concurrent login) passes. The
// check reads the key once more, and costs one more password verification
// only when the hash has changed.
//
// A key deleted while the call runs, alone or with its user, gives an
// error matching ErrInvalidKeyID, as an unknown key does: for a login
// form, the account no longer exists. When the session could not be
// created because the user was gone, the error matches ErrInvalidUserID
// too. Other errors are UseKey's and CreateSession's.
func (a *Auth[A]) UseKeyAndCreateSession(ctx context.Context, providerID, providerUserID, password string) (Key, Session, error) {
	var verified verifiedKey
	key, err := a.useKey(ctx, providerID, providerUserID, password, "", &verified)
	if err != nil {
		return Key{}, Session{}, err
	}
	session, err := a.createSessionForKey(ctx, verified, nil)
	if err != nil {
		return Key{}, Session{}, err
	}
	return key, session, nil
}

// createSessionForKey creates a session for the user of the verified key,
// with attributes attrs, and keeps it only if the key passes
// checkKeyUnchanged afterwards.
func (a *Auth[A]) createSessionForKey(ctx context.Context, v verifiedKey, attrs map[string]any) (Session, error) {
	session, err := a.createSession(ctx, v.userID, attrs)
	if errors.Is(err, ErrInvalidUserID) {
		return Session{}, errKeyUserGone
	}
	if err != nil || v.singleUse {
		return session, err
	}
	if _, err := a.checkKeyUnchanged(ctx, v); err != nil {
		// The session was never handed out; delete it even if ctx has
		// ended, since it must not outlive the changed password.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if derr := a.adapter.DeleteSession(cleanup, session.ID); derr != nil {
			return Session{}, fmt.Errorf("%w (deleting the session created meanwhile failed: %w)", err, derr)
		}
		return Session{}, err
	}
	return session, nil
}

// errKeyUserGone reports a login whose key's user was deleted while it
// ran. It matches ErrInvalidKeyID and ErrInvalidUserID.
var errKeyUserGone error = keyUserGoneError{}

type keyUserGoneError struct{}

func (keyUserGoneError) Error() string { return "auth: invalid key id: its user no longer exists" }

func (keyUserGoneError) Is(target error) bool {
	return target == ErrInvalidKeyID || target == ErrInvalidUserID
}
