package recovery

import (
	"context"

	"github.com/luciago/mongoauth/auth"
)

// CheckResetToken reports whether token would reset a password now: nil,
// ErrInvalidToken or ErrExpiredToken. It does not use the token up: the
// reset page's GET shows the form only for a good token.
func (f *Flow[A]) CheckResetToken(ctx context.Context, token string) error {
	_, err := f.peek(ctx, PurposeReset, token)
	return err
}

// ResetPassword sets the password of the token's user to password and
// ends all the user's sessions, and returns the user's id; log the user
// in afresh with auth.Auth.StartSession if you like.
//
// The token is used up first, atomically: of two concurrent resets with
// one token, only one gets past this, the other gets ErrInvalidToken, as
// does a token used before, a forged one or one replaced by a newer link.
// A token past Config.ResetExpiry gives ErrExpiredToken and is used up
// too. A password the core cannot hash (auth.CheckPassword: not UTF-8,
// NUL) is refused with an *auth.InputError before the token is touched;
// check the application's own rules (length) before calling, for the same
// reason.
//
// The password set is that of the user's persistent key of
// Config.PasswordProvider (ErrNoPasswordKey if there is none, the token
// being used up). Then every session of the user is deleted, so that
// whoever had got into the account is out, and so are the user's other
// reset tokens. A login that verified the old password while the reset
// ran leaves no session behind if it used auth.Auth.LogIn or
// UseKeyAndCreateSession, which check the key again after creating the
// session.
func (f *Flow[A]) ResetPassword(ctx context.Context, token, password string) (userID string, err error) {
	if err := auth.CheckPassword(password); err != nil {
		return "", err
	}
	if password == "" {
		return "", &auth.InputError{Field: "password", Reason: "empty"}
	}
	key, err := f.use(ctx, PurposeReset, token, "") // a malformed token: ErrInvalidToken before any database call
	if err != nil {
		return "", err
	}
	userID = key.UserID
	target, err := f.passwordKey(ctx, userID)
	if err != nil {
		return "", err
	}
	if _, err := f.auth.UpdateKeyPassword(ctx, target.ProviderID, target.ProviderUserID, password); err != nil {
		return "", err
	}
	if err := f.auth.InvalidateUserSessions(ctx, userID); err != nil {
		return "", err
	}
	return userID, f.deleteTokens(ctx, userID, PurposeReset)
}

// passwordKey is the key a reset sets the password of.
func (f *Flow[A]) passwordKey(ctx context.Context, userID string) (auth.Key, error) {
	keys, err := f.auth.UserKeys(ctx, userID)
	if err != nil {
		return auth.Key{}, err
	}
	var found *auth.Key
	for i, k := range keys {
		if k.ProviderID != f.config.PasswordProvider || k.SingleUse() {
			continue
		}
		if found == nil || k.PasswordDefined && !found.PasswordDefined {
			found = &keys[i]
		}
	}
	if found == nil {
		return auth.Key{}, ErrNoPasswordKey
	}
	return *found, nil
}
