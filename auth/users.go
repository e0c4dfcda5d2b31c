package auth

import (
	"context"
	"errors"
)

// User is a user with the application's attributes.
type User[A any] struct {
	ID         string
	Attributes A
}

func (a *Auth[A]) userFromRecord(rec UserRecord) (User[A], error) {
	attributes, err := decodeAttributes[A](a.attributes, rec.Attributes)
	if err != nil {
		return User[A]{}, err
	}
	return User[A]{ID: rec.ID, Attributes: attributes}, nil
}

// storedAttributes converts attributes for the adapter and checks them as
// every adapter will, so that a bad name fails before any password is
// hashed or id generated.
func (a *Auth[A]) storedAttributes(attributes A) (map[string]any, error) {
	stored, err := a.attributes.encode(attributes)
	if err != nil {
		return nil, err
	}
	if err := CheckAttributes(stored); err != nil {
		return nil, err
	}
	return stored, nil
}

// CreateUser creates a user with a new id from Config.GenerateUserID and
// the given attributes. When primaryKey is not nil, the user's primary key
// is created with it in one adapter call: if the key id is taken, the call
// fails with ErrDuplicateKeyID and no user is left behind. A primary key is
// persistent (its ExpiresIn must be zero) and cannot be deleted with
// DeleteKey.
//
// The returned user holds attributes as given; read it back with GetUser to
// see what the database made of them (MongoDB keeps times to the
// millisecond, for instance).
func (a *Auth[A]) CreateUser(ctx context.Context, attributes A, primaryKey *KeyParams) (User[A], error) {
	stored, err := a.checkNewUser(attributes, primaryKey)
	if err != nil {
		return User[A]{}, err
	}
	return a.createUser(ctx, attributes, stored, primaryKey)
}

// checkNewUser checks what CreateUser can check before it hashes anything
// or calls the adapter, and returns the attributes to store.
func (a *Auth[A]) checkNewUser(attributes A, primaryKey *KeyParams) (map[string]any, error) {
	stored, err := a.storedAttributes(attributes)
	if err != nil {
		return nil, err
	}
	if primaryKey != nil {
		if primaryKey.ExpiresIn != 0 {
			return nil, &InputError{Field: "primary key", Reason: "cannot be single-use (ExpiresIn must be 0)"}
		}
		if _, err := keyID(primaryKey.ProviderID, primaryKey.ProviderUserID); err != nil {
			return nil, err
		}
		if err := checkPassword(primaryKey.Password); err != nil {
			return nil, err
		}
	}
	return stored, nil
}

// createUser is CreateUser after checkNewUser.
func (a *Auth[A]) createUser(ctx context.Context, attributes A, stored map[string]any, primaryKey *KeyParams) (User[A], error) {
	userID, err := a.generateUserID(ctx)
	if err != nil {
		return User[A]{}, err
	}
	if err := CheckID("user id", userID); err != nil {
		return User[A]{}, err
	}
	var key *KeyRecord
	if primaryKey != nil {
		rec, err := a.newKeyRecord(ctx, userID, *primaryKey, true)
		if err != nil {
			return User[A]{}, err
		}
		key = &rec
	}
	if err := a.adapter.SetUser(ctx, UserRecord{ID: userID, Attributes: stored}, key); err != nil {
		return User[A]{}, err
	}
	return User[A]{ID: userID, Attributes: attributes}, nil
}

// GetUser returns the user, or ErrInvalidUserID if there is none.
func (a *Auth[A]) GetUser(ctx context.Context, userID string) (User[A], error) {
	rec, err := a.adapter.GetUser(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return User[A]{}, ErrInvalidUserID
	}
	if err != nil {
		return User[A]{}, err
	}
	return a.userFromRecord(rec)
}

// UpdateUser stores attributes for the user and returns the user as stored.
// Every field of A is written except omitempty fields holding their zero
// value (a nil pointer, for instance); stored attributes A has no field for
// are kept. An unknown user gives ErrInvalidUserID.
func (a *Auth[A]) UpdateUser(ctx context.Context, userID string, attributes A) (User[A], error) {
	stored, err := a.storedAttributes(attributes)
	if err != nil {
		return User[A]{}, err
	}
	rec, err := a.adapter.UpdateUser(ctx, userID, stored)
	if err != nil {
		return User[A]{}, err
	}
	return a.userFromRecord(rec)
}

// DeleteUser deletes the user with all its keys and sessions (the adapter
// cascades). Deleting an unknown user is not an error.
func (a *Auth[A]) DeleteUser(ctx context.Context, userID string) error {
	return a.adapter.DeleteUser(ctx, userID)
}
