package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// KeyParams describe a key to create.
type KeyParams struct {
	// ProviderID names the kind of key: "username", "email", "github".
	// It must not be empty or contain ':'.
	ProviderID string
	// ProviderUserID identifies the user within the provider: the
	// username, the e-mail address, the GitHub user id. It must not be
	// empty.
	ProviderUserID string
	// Password is hashed with Config.PasswordHasher and stored with the
	// key; empty means the key has no password (an OAuth identity, a
	// one-time link).
	Password string
	// ExpiresIn makes the key single-use: it can be used once, within this
	// duration. Zero makes a persistent key.
	ExpiresIn time.Duration
}

// Key is a key as the application sees it. Its id is
// ProviderID + ":" + ProviderUserID.
type Key struct {
	ProviderID     string
	ProviderUserID string
	UserID         string
	// Primary keys are created with their user and deleted only with it.
	Primary bool
	// PasswordDefined says whether the key has a password.
	PasswordDefined bool
	// Expires is when a single-use key expires; zero for persistent keys.
	Expires time.Time
	// Expired says whether a single-use key had expired when it was read.
	Expired bool
}

// SingleUse reports whether k is a single-use key.
func (k Key) SingleUse() bool { return !k.Expires.IsZero() }

// keyID joins a provider id and a provider user id into a key id.
func keyID(providerID, providerUserID string) (string, error) {
	switch {
	case providerID == "":
		return "", &InputError{Field: "provider id", Reason: "empty"}
	case strings.IndexByte(providerID, ':') >= 0:
		return "", &InputError{Field: "provider id", Reason: "contains ':'"}
	case providerUserID == "":
		return "", &InputError{Field: "provider user id", Reason: "empty"}
	}
	id := providerID + ":" + providerUserID
	return id, CheckID("key id", id)
}

func (a *Auth[A]) keyFromRecord(rec KeyRecord) Key {
	// The provider id ends at the first ':'; the provider user id may
	// contain more.
	providerID, providerUserID, _ := strings.Cut(rec.ID, ":")
	k := Key{
		ProviderID:      providerID,
		ProviderUserID:  providerUserID,
		UserID:          rec.UserID,
		Primary:         rec.PrimaryKey,
		PasswordDefined: rec.hash() != "",
	}
	if rec.Expires != nil {
		k.Expires = time.UnixMilli(*rec.Expires).UTC()
		k.Expired = a.nowMillis() >= *rec.Expires
	}
	return k
}

// newKeyRecord validates p and hashes its password.
func (a *Auth[A]) newKeyRecord(ctx context.Context, userID string, p KeyParams, primary bool) (KeyRecord, error) {
	id, err := keyID(p.ProviderID, p.ProviderUserID)
	if err != nil {
		return KeyRecord{}, err
	}
	if p.ExpiresIn < 0 {
		return KeyRecord{}, &InputError{Field: "key expiry", Reason: "negative"}
	}
	rec := KeyRecord{ID: id, UserID: userID, PrimaryKey: primary}
	if p.ExpiresIn > 0 {
		expires := a.now().Add(p.ExpiresIn).UnixMilli()
		rec.Expires = &expires
	}
	if rec.HashedPassword, err = a.hashPassword(ctx, p.Password); err != nil {
		return KeyRecord{}, err
	}
	return rec, nil
}

// hashPassword hashes a non-empty password; an empty one means none.
func (a *Auth[A]) hashPassword(ctx context.Context, password string) (*string, error) {
	if password == "" {
		return nil, nil
	}
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	hash, err := a.hasher.HashNew(ctx, password)
	if err != nil {
		return nil, err
	}
	return &hash, nil
}

// CreateKey creates a key for an existing user: ErrInvalidUserID if there
// is no such user, ErrDuplicateKeyID if the key id is taken.
func (a *Auth[A]) CreateKey(ctx context.Context, userID string, p KeyParams) (Key, error) {
	rec, err := a.newKeyRecord(ctx, userID, p, false)
	if err != nil {
		return Key{}, err
	}
	if err := a.adapter.SetKey(ctx, rec); err != nil {
		return Key{}, err
	}
	return a.keyFromRecord(rec), nil
}

// UseKey authenticates with a key, as a login does, and returns it:
//
//   - an unknown key gives ErrInvalidKeyID;
//   - if the key has a password, password must match it, else
//     ErrInvalidPassword; a bcrypt hash gives ErrOutdatedPassword;
//   - if the key has no password, password must be empty, else
//     ErrInvalidPassword (Lucia v1 ignored the password here; refusing it
//     stops a password form from logging into a passwordless key);
//   - a single-use key is deleted: it works once; past its expiry it gives
//     ErrExpiredKey (and is deleted too). Expiry is checked after the
//     password, so that it tells nothing to someone without it.
//
// After a successful check of a persistent key whose hash the hasher wants
// replaced (Lucia's scrypt, older parameters), a new hash is stored by
// compare-and-set (KeyPasswordReplacer): only if the key still holds the
// hash just verified, so that a password changed meanwhile is never
// overwritten. If the key changed, the call judges it as it is now: a
// changed password gives ErrInvalidPassword, a deleted key ErrInvalidKeyID.
// Adapters without an atomic compare-and-set (the MongoDB adapter on
// FerretDB, for one) keep the old hash.
//
// UseKey does not read the user: a key whose user is deleted while UseKey
// runs may still check out, and CreateSession then fails with
// ErrInvalidUserID. To log in, use UseKeyAndCreateSession (or LogIn),
// which reports that as ErrInvalidKeyID and also makes a concurrent
// password change win; UseKey followed by CreateSession does not.
//
// A password that is not valid UTF-8 or contains NUL is refused with an
// *InputError. Attempts are throttled per key (Config.KeyThrottle): too
// many failures give ErrThrottled, and a verification that finds no free
// hashing slot gives ErrBusy (both *LimitError). To confirm the password
// of a signed-in user, use Reauthenticate, which a locked key does not
// stop.
//
// Timing: every failed attempt (unknown key, wrong or missing password,
// bcrypt or unreadable hash, throttled attempt) takes the same time, at
// least that of the slowest password verification (see
// Config.MinFailedLoginTime); an unknown key or a key without a password
// still costs one verification of a dummy hash. So response times do not
// tell which usernames exist. The error values still differ; show users
// one message for ErrInvalidKeyID and ErrInvalidPassword.
//
// A single-use key is deleted whether it was still valid or had expired.
// With an adapter that implements KeyConsumer (all of this module's do),
// of two concurrent uses of one single-use key only one succeeds; the
// other gets ErrInvalidKeyID. With other adapters both may succeed.
func (a *Auth[A]) UseKey(ctx context.Context, providerID, providerUserID, password string) (Key, error) {
	return a.useKey(ctx, providerID, providerUserID, password, "", nil)
}

// useKey is UseKey with the client's throttle key, which LogIn passes
// ("" for none); when verified is not nil, it also receives what a later
// check of the key needs (see keyVerified).
func (a *Auth[A]) useKey(ctx context.Context, providerID, providerUserID, password, client string, verified *verifiedKey) (Key, error) {
	id, err := keyID(providerID, providerUserID)
	if err != nil {
		return Key{}, err
	}
	rec, err := a.verifyKey(ctx, id, password, "", a.throttle.forClient(client), a.throttle.forKey(id))
	if err != nil {
		return Key{}, err
	}
	// The password matched.
	return a.keyVerified(ctx, rec, password, verified)
}

// consumeKey deletes a single-use key after its password checked out and
// reports whether it was still valid.
func (a *Auth[A]) consumeKey(ctx context.Context, rec KeyRecord) (Key, error) {
	var err error
	if consumer, ok := a.adapter.(KeyConsumer); ok {
		if err = consumer.ConsumeKey(ctx, rec.ID); errors.Is(err, ErrNotFound) {
			return Key{}, ErrInvalidKeyID // used up by a concurrent call
		}
	} else {
		err = a.adapter.DeleteNonPrimaryKey(ctx, rec.ID)
	}
	if rec.Expires != nil && a.nowMillis() >= *rec.Expires {
		if err != nil {
			return Key{}, fmt.Errorf("%w (deleting it failed: %w)", ErrExpiredKey, err)
		}
		return Key{}, ErrExpiredKey
	}
	if err != nil {
		return Key{}, err
	}
	return a.keyFromRecord(rec), nil
}

// GetKey returns the key, or ErrInvalidKeyID if there is none. It does not
// use up a single-use key.
func (a *Auth[A]) GetKey(ctx context.Context, providerID, providerUserID string) (Key, error) {
	id, err := keyID(providerID, providerUserID)
	if err != nil {
		return Key{}, err
	}
	rec, err := a.adapter.GetKey(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Key{}, ErrInvalidKeyID
	}
	if err != nil {
		return Key{}, err
	}
	return a.keyFromRecord(rec), nil
}

// UserKeys returns the user's keys, or ErrInvalidUserID if there is no such
// user.
func (a *Auth[A]) UserKeys(ctx context.Context, userID string) ([]Key, error) {
	if _, err := a.GetUser(ctx, userID); err != nil {
		return nil, err
	}
	recs, err := a.adapter.GetKeysByUserID(ctx, userID)
	if err != nil {
		return nil, err
	}
	keys := make([]Key, len(recs))
	for i, rec := range recs {
		keys[i] = a.keyFromRecord(rec)
	}
	return keys, nil
}

// UpdateKeyPassword replaces the key's password; an empty password removes
// it. An unknown key gives ErrInvalidKeyID. Sessions are left alone: call
// InvalidateUserSessions too if a password change should log out other
// devices.
func (a *Auth[A]) UpdateKeyPassword(ctx context.Context, providerID, providerUserID, password string) (Key, error) {
	id, err := keyID(providerID, providerUserID)
	if err != nil {
		return Key{}, err
	}
	hash, err := a.hashPassword(ctx, password)
	if err != nil {
		return Key{}, err
	}
	rec, err := a.adapter.UpdateKeyPassword(ctx, id, hash)
	if err != nil {
		return Key{}, err
	}
	return a.keyFromRecord(rec), nil
}

// DeleteKey deletes the key unless it is a primary key (a primary key goes
// only with its user). Deleting an unknown key is not an error.
func (a *Auth[A]) DeleteKey(ctx context.Context, providerID, providerUserID string) error {
	id, err := keyID(providerID, providerUserID)
	if err != nil {
		return err
	}
	return a.adapter.DeleteNonPrimaryKey(ctx, id)
}
