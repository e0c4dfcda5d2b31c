package recovery

import "errors"

// Errors of the flows, to test for with errors.Is. Anything else is an
// *auth.InputError (a malformed address, an unusable password), an
// *auth.LimitError (auth.ErrThrottled, auth.ErrBusy) or a server error.
var (
	// ErrInvalidToken: the token is not one this flow issued, or no longer
	// is: malformed, forged, used before (tokens are single-use, also
	// under concurrent use), replaced by a newer one for the same user,
	// deleted with its user, or, for e-mail verification, issued for an
	// address the user no longer has. Show one message for all.
	ErrInvalidToken = errors.New("recovery: invalid or used token")
	// ErrExpiredToken: the token was valid but has expired (Config
	// ResetExpiry, VerifyExpiry); it is used up all the same. Ask the user
	// to request a new link.
	ErrExpiredToken = errors.New("recovery: expired token")
	// ErrNoAddress: the user has no e-mail key (Config.EmailProvider), so
	// there is nothing to verify.
	ErrNoAddress = errors.New("recovery: the user has no e-mail address")
	// ErrNoPasswordKey: the token's user has no persistent key of
	// Config.PasswordProvider whose password a reset could set. The token
	// is used up.
	ErrNoPasswordKey = errors.New("recovery: the user has no password key")
)
