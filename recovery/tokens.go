package recovery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/luciago/mongoauth/auth"
)

// Tokens. A token is 32 bytes from crypto/rand, base64url without padding
// (43 characters): what goes into the link, and nowhere else. The
// database holds only its SHA-256, as the provider user id of a
// single-use key (auth.KeyParams.ExpiresIn) of the token's purpose:
// "password-reset:<64 hex digits>". So every adapter stores tokens
// without a table of their own, a database leak gives no usable link (256
// random bits need no slow hash), and auth.Auth.UseKey uses a token up
// atomically: with an adapter that implements auth.KeyConsumer (all of
// this module's do), of two concurrent uses of one token only one
// succeeds.

const tokenBytes = 32

// newToken returns a fresh token and its digest.
func newToken() (token, digest string) {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, tokenDigest(token)
}

func tokenDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// parseToken returns the digest of a token as newToken writes them, or
// ErrInvalidToken for anything else, before any database call.
func parseToken(token string) (string, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != tokenBytes {
		return "", ErrInvalidToken
	}
	return tokenDigest(token), nil
}

// issue makes a token of purpose for the user, valid for expires. It
// deletes the user's older tokens of that purpose first: only the newest
// link works. password, when not empty, is stored with the key (hashed
// by the core), and the token works only with it (verification tokens
// hold the address they were issued for). A user deleted meanwhile gives
// auth.ErrInvalidUserID.
func (f *Flow[A]) issue(ctx context.Context, userID string, purpose Purpose, password string, expires time.Duration) (string, error) {
	if err := f.deleteTokens(ctx, userID, purpose); err != nil {
		return "", err
	}
	token, digest := newToken()
	_, err := f.auth.CreateKey(ctx, userID, auth.KeyParams{
		ProviderID: string(purpose), ProviderUserID: digest, Password: password, ExpiresIn: expires,
	})
	return token, err
}

// deleteTokens deletes the user's tokens of purpose.
func (f *Flow[A]) deleteTokens(ctx context.Context, userID string, purpose Purpose) error {
	keys, err := f.auth.UserKeys(ctx, userID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.ProviderID == string(purpose) {
			if err := f.auth.DeleteKey(ctx, k.ProviderID, k.ProviderUserID); err != nil {
				return err
			}
		}
	}
	return nil
}

// use uses the token of purpose up, with password for a token that holds
// one, and returns its key; ErrInvalidToken or ErrExpiredToken when it
// cannot be used.
func (f *Flow[A]) use(ctx context.Context, purpose Purpose, token, password string) (auth.Key, error) {
	digest, err := parseToken(token)
	if err != nil {
		return auth.Key{}, err
	}
	key, err := f.auth.UseKey(ctx, string(purpose), digest, password)
	if err == nil && !key.SingleUse() {
		err = auth.ErrInvalidKeyID // not one this package made
	}
	return key, tokenError(err)
}

// tokenError translates the core's verdicts on a token key.
func tokenError(err error) error {
	switch {
	case errors.Is(err, auth.ErrInvalidKeyID), errors.Is(err, auth.ErrInvalidPassword):
		return ErrInvalidToken
	case errors.Is(err, auth.ErrExpiredKey):
		return ErrExpiredToken
	}
	return err
}

// peek returns the token's key without using it up.
func (f *Flow[A]) peek(ctx context.Context, purpose Purpose, token string) (auth.Key, error) {
	digest, err := parseToken(token)
	if err != nil {
		return auth.Key{}, err
	}
	key, err := f.auth.GetKey(ctx, string(purpose), digest)
	switch {
	case err != nil:
	case !key.SingleUse():
		err = auth.ErrInvalidKeyID // not one this package made
	case key.Expired:
		err = auth.ErrExpiredKey
	}
	return key, tokenError(err)
}
