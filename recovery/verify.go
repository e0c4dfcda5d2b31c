package recovery

import (
	"context"
	"errors"

	"github.com/luciago/mongoauth/auth"
)

// Address returns the user's e-mail address (the provider user id of its
// key of Config.EmailProvider) and whether it is verified (the user's
// Config.VerifiedAttribute holds it); ErrNoAddress when the user has none.
func (f *Flow[A]) Address(ctx context.Context, userID string) (address string, verified bool, err error) {
	address, err = f.address(ctx, userID)
	if err != nil {
		return "", false, err
	}
	rec, err := f.auth.Adapter().GetUser(ctx, userID)
	if err != nil {
		return "", false, err
	}
	v, _ := rec.Attributes[f.config.VerifiedAttribute].(string)
	return address, v == address, nil
}

// address is the user's e-mail address, or ErrNoAddress.
func (f *Flow[A]) address(ctx context.Context, userID string) (string, error) {
	keys, err := f.auth.UserKeys(ctx, userID)
	if err != nil {
		return "", err
	}
	for _, k := range keys {
		if k.ProviderID == f.config.EmailProvider && !k.SingleUse() {
			return k.ProviderUserID, nil
		}
	}
	return "", ErrNoAddress
}

// SendVerification sends the user a link that confirms their e-mail
// address (see VerifyEmail), and returns the address. It is for a
// signed-in user, so it sends at once and returns the Sender's error.
// Requests are throttled per address (Config.AddressThrottle, in records
// of their own): auth.ErrThrottled beyond it. ErrNoAddress if the user
// has no address.
//
// The token holds the address it was issued for (hashed by the core, as
// a key's password): if the user's address changes before the link is
// followed, the link no longer works, so a link for an address the user
// once had cannot verify the one they have now. It replaces the user's
// earlier verification tokens and expires after Config.VerifyExpiry (24
// hours by default).
func (f *Flow[A]) SendVerification(ctx context.Context, userID string) (string, error) {
	address, err := f.address(ctx, userID)
	if err != nil {
		return "", err
	}
	if err := f.auth.CountAttempt(ctx, throttleVerifyAddress, address, f.config.AddressThrottle); err != nil {
		return "", err
	}
	token, err := f.issue(ctx, userID, PurposeVerify, address, f.config.VerifyExpiry)
	if err != nil {
		return "", err
	}
	m := f.config.Compose(PurposeVerify, address, f.config.Link(PurposeVerify, token), f.config.VerifyExpiry)
	return address, f.config.Sender.Send(ctx, m)
}

// VerifyEmail uses up a verification token and marks the address it was
// issued for as verified: it sets the user's Config.VerifiedAttribute to
// the address. It returns the user's id and the address.
//
// ErrInvalidToken for a token that is malformed, forged, used before (of
// two concurrent uses, only one succeeds), replaced by a newer one, or
// issued for another address than the user's now; ErrExpiredToken past
// Config.VerifyExpiry (the token is used up).
func (f *Flow[A]) VerifyEmail(ctx context.Context, token string) (userID, address string, err error) {
	key, err := f.peek(ctx, PurposeVerify, token)
	if err != nil && !errors.Is(err, ErrExpiredToken) {
		return "", "", err
	}
	address, err = f.address(ctx, key.UserID)
	if errors.Is(err, ErrNoAddress) || errors.Is(err, auth.ErrInvalidUserID) {
		return "", "", ErrInvalidToken
	}
	if err != nil {
		return "", "", err
	}
	if _, err := f.use(ctx, PurposeVerify, token, address); err != nil {
		if errors.Is(err, ErrInvalidToken) {
			// Issued for another address: it can never be used; drop it.
			_ = f.auth.DeleteKey(ctx, string(PurposeVerify), key.ProviderUserID)
		}
		return "", "", err
	}
	if _, err := f.auth.Adapter().UpdateUser(ctx, key.UserID, map[string]any{f.config.VerifiedAttribute: address}); err != nil {
		if errors.Is(err, auth.ErrInvalidUserID) {
			return "", "", ErrInvalidToken
		}
		return "", "", err
	}
	return key.UserID, address, nil
}
