package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/luciago/mongoauth/auth"
)

// keyParams is the key of an identity: persistent, without password, as
// Lucia v1's @lucia-auth/oauth creates it.
func keyParams(id Identity) auth.KeyParams {
	return auth.KeyParams{ProviderID: id.Provider, ProviderUserID: id.ProviderUserID}
}

// userOfKey returns the user of the identity's key, "" if there is none.
func (f *Flow[A]) userOfKey(ctx context.Context, id Identity) (string, error) {
	key, err := f.auth.GetKey(ctx, id.Provider, id.ProviderUserID)
	switch {
	case errors.Is(err, auth.ErrInvalidKeyID):
		return "", nil
	case err != nil:
		return "", err
	case key.SingleUse():
		// Not an identity's key: signing in with it would not use it up.
		return "", fmt.Errorf("oauth: key %s:%s is single-use, not an identity", id.Provider, id.ProviderUserID)
	}
	return key.UserID, nil
}

// signIn signs in the identity's user, making or finding it first.
func (f *Flow[A]) signIn(w http.ResponseWriter, r *http.Request, res Result) (Result, error) {
	ctx, id := r.Context(), res.Identity
	// A second round only after a concurrent callback of this identity
	// created its key between our read and our write.
	for range 2 {
		userID, err := f.userOfKey(ctx, id)
		if err != nil {
			return Result{}, err
		}
		if userID == "" {
			userID, err = f.attach(ctx, &res)
		}
		switch {
		case errors.Is(err, auth.ErrDuplicateKeyID):
			res.Created, res.Linked = false, false
			continue
		case err != nil:
			return Result{}, err
		}
		res.UserID = userID
		if res.Session, err = f.auth.StartSession(w, r, userID); err != nil {
			return Result{}, err
		}
		return res, nil
	}
	return Result{}, fmt.Errorf("oauth: the key of %s:%s keeps changing", id.Provider, id.ProviderUserID)
}

// attach gives a new identity its user: the user with its verified email
// address (FindUserByEmail), or a new one. ErrDuplicateKeyID means that
// the identity got a key meanwhile.
func (f *Flow[A]) attach(ctx context.Context, res *Result) (string, error) {
	id := res.Identity
	if f.findUserByEmail != nil && id.Email != "" {
		userID, err := f.findUserByEmail(ctx, id.Email)
		if err != nil {
			return "", err
		}
		if userID != "" {
			if !id.EmailVerified {
				return "", fmt.Errorf("%w: provider %s, an address of an existing user", ErrEmailUnverified, id.Provider)
			}
			if _, err := f.auth.CreateKey(ctx, userID, keyParams(id)); err != nil {
				return "", err
			}
			res.Linked = true
			return userID, nil
		}
	}
	attributes, err := f.newUser(ctx, id)
	if err != nil {
		return "", err
	}
	key := keyParams(id)
	user, err := f.auth.CreateUser(ctx, attributes, &key)
	if err != nil {
		return "", err
	}
	res.Created = true
	return user.ID, nil
}

// link adds the identity to userID's keys.
func (f *Flow[A]) link(ctx context.Context, userID string, res Result) (Result, error) {
	id := res.Identity
	res.UserID = userID
	for range 2 {
		owner, err := f.userOfKey(ctx, id)
		switch {
		case err != nil:
			return Result{}, err
		case owner == userID:
			return res, nil // linked already
		case owner != "":
			return Result{}, fmt.Errorf("%w: %s:%s", ErrIdentityTaken, id.Provider, id.ProviderUserID)
		}
		_, err = f.auth.CreateKey(ctx, userID, keyParams(id))
		switch {
		case errors.Is(err, auth.ErrDuplicateKeyID):
			continue // linked meanwhile; see to whom
		case err != nil:
			return Result{}, err
		}
		res.Linked = true
		return res, nil
	}
	return Result{}, fmt.Errorf("oauth: the key of %s:%s keeps changing", id.Provider, id.ProviderUserID)
}

// Unlink removes a provider identity (the key providerID:providerUserID)
// from the user's keys, unless it is the user's last way to log in
// (ErrLastLoginMethod) or the key the user was created with
// (ErrPrimaryIdentity). A key that does not exist or is another user's
// gives auth.ErrInvalidKeyID, and a provider the Flow does not have
// ErrUnknownProvider: Unlink removes only identities of its providers.
//
// A way to log in is any persistent key: a password key, another
// identity. Two Unlinks of a user's last two identities at once leave one
// of them: each checks after its delete that a way remains, and restores
// its key if none does.
func (f *Flow[A]) Unlink(ctx context.Context, userID, providerID, providerUserID string) error {
	if _, err := f.Provider(providerID); err != nil {
		return err
	}
	key, err := f.auth.GetKey(ctx, providerID, providerUserID)
	switch {
	case err != nil:
		return err
	case key.UserID != userID || key.SingleUse():
		return auth.ErrInvalidKeyID
	case key.Primary:
		return ErrPrimaryIdentity
	}
	if remains, err := f.hasLoginMethod(ctx, userID, key); err != nil {
		return err
	} else if !remains {
		return ErrLastLoginMethod
	}
	if err := f.auth.DeleteKey(ctx, providerID, providerUserID); err != nil {
		return err
	}
	// A concurrent Unlink may have removed the way that remained.
	remains, err := f.hasLoginMethod(ctx, userID, auth.Key{})
	if err != nil || remains {
		return err
	}
	if _, err := f.auth.CreateKey(ctx, userID, auth.KeyParams{ProviderID: providerID, ProviderUserID: providerUserID}); err != nil {
		return fmt.Errorf("%w (restoring the key failed: %w)", ErrLastLoginMethod, err)
	}
	return ErrLastLoginMethod
}

// hasLoginMethod reports whether the user has a persistent key other than
// except.
func (f *Flow[A]) hasLoginMethod(ctx context.Context, userID string, except auth.Key) (bool, error) {
	keys, err := f.auth.UserKeys(ctx, userID)
	if err != nil {
		return false, err
	}
	for _, k := range keys {
		if !k.SingleUse() && (k.ProviderID != except.ProviderID || k.ProviderUserID != except.ProviderUserID) {
			return true, nil
		}
	}
	return false, nil
}
