package oauth

import (
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"
)

// Errors of a sign-in, to test for with errors.Is. Each is a failure the
// user can be told about in words of its own; anything else (a storage
// failure, a misconfigured client) is a server error.
var (
	// ErrAccessDenied: the user declined at the provider (OAuth's
	// access_denied), or cancelled.
	ErrAccessDenied = errors.New("oauth: access denied at the provider")
	// ErrState: the callback does not belong to a sign-in this browser
	// began, or no longer does: no state cookie (expired after
	// Config.StateMaxAge, deleted, or the sign-in was begun in another
	// browser), a state parameter missing or not the cookie's, a callback
	// for another provider, or, for a link, a browser that has signed
	// into another session since. A forged callback (login CSRF) ends
	// here. Ask the user to start again.
	ErrState = errors.New("oauth: state mismatch")
	// ErrCodeRejected: the provider refused to exchange the authorization
	// code (invalid_grant): the code was used before (a replayed
	// callback), has expired, or was issued for another PKCE verifier
	// (a code injected into someone else's sign-in). Also a callback
	// without a code.
	ErrCodeRejected = errors.New("oauth: authorization code rejected")
	// ErrProviderUnavailable: the provider could not be reached or
	// answered with a server error (5xx, temporarily_unavailable,
	// server_error), or it took longer than the HTTP client allows.
	ErrProviderUnavailable = errors.New("oauth: provider unavailable")
	// ErrInvalidIdentity: the provider's answer proves no identity: an ID
	// token that fails verification (signature, issuer, audience, expiry,
	// nonce, access token hash), or user data without a user id.
	ErrInvalidIdentity = errors.New("oauth: invalid identity")
	// ErrEmailUnverified: the identity is new, its email address belongs
	// to an existing user (Config.FindUserByEmail), and the provider does
	// not say it verified the address. The identity is not linked: anyone
	// can type someone else's address into a provider's sign-up form.
	ErrEmailUnverified = errors.New("oauth: email address not verified by the provider")
	// ErrIdentityTaken: Link found the identity already linked to another
	// user.
	ErrIdentityTaken = errors.New("oauth: identity belongs to another user")
	// ErrLastLoginMethod: Unlink refused to remove the user's last way to
	// log in.
	ErrLastLoginMethod = errors.New("oauth: last way to log in")
	// ErrPrimaryIdentity: Unlink refused to remove the identity the user
	// was created with: as in Lucia v1, a primary key goes only with its
	// user (auth.Auth.DeleteUser).
	ErrPrimaryIdentity = errors.New("oauth: identity is the user's primary key")
	// ErrUnknownProvider: no provider of the Flow has this id.
	ErrUnknownProvider = errors.New("oauth: unknown provider")
)

// ProviderError is an error the provider reported: at the callback
// (RFC 6749 section 4.1.2.1) or from its token endpoint (section 5.2).
// It matches ErrAccessDenied for access_denied, ErrProviderUnavailable for
// temporarily_unavailable and server_error, and ErrCodeRejected for
// invalid_grant (and GitHub's bad_verification_code). Other codes
// (invalid_client, unauthorized_client, invalid_scope, ...) mean that the
// client is misconfigured.
type ProviderError struct {
	// Provider is the provider's id.
	Provider string
	// Code is the OAuth error code, such as "access_denied".
	Code string
	// Description and URI are the provider's explanation, if it sent
	// one. They come from the provider (at the callback, through the
	// browser, from anyone): log them, do not show them as is.
	Description string
	URI         string
}

func (e *ProviderError) Error() string {
	s := fmt.Sprintf("oauth: provider %s: %s", e.Provider, e.Code)
	if e.Description != "" {
		s += fmt.Sprintf(" (%q)", e.Description)
	}
	return s
}

// Is makes errors.Is match the sentinel errors for the codes listed on
// ProviderError.
func (e *ProviderError) Is(target error) bool {
	switch e.Code {
	case "access_denied":
		return target == ErrAccessDenied
	case "temporarily_unavailable", "server_error":
		return target == ErrProviderUnavailable
	case "invalid_grant", "bad_verification_code":
		return target == ErrCodeRejected
	}
	return false
}

// exchangeError classifies a failed code exchange: the provider's own
// error as a *ProviderError, a server error or no answer at all as
// ErrProviderUnavailable.
func exchangeError(provider string, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		// No answer, a timeout, or an answer that is not a token.
		return fmt.Errorf("%w: %s: token endpoint: %w", ErrProviderUnavailable, provider, err)
	}
	if re.ErrorCode == "" {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if status >= 500 || status == http.StatusTooManyRequests {
			return fmt.Errorf("%w: %s: token endpoint answered %d", ErrProviderUnavailable, provider, status)
		}
		return fmt.Errorf("oauth: provider %s: token endpoint answered %d without an error code", provider, status)
	}
	return &ProviderError{Provider: provider, Code: re.ErrorCode, Description: re.ErrorDescription, URI: re.ErrorURI}
}
