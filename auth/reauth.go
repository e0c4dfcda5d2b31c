package auth

import "context"

// Reauthenticate confirms the password of a signed-in user, as a page that
// changes the password or deletes the account asks for it: it checks
// password against the key as UseKey does, and the key must belong to the
// session's user (a key of anyone else gives ErrInvalidKeyID, as an
// unknown one does). It returns the key.
//
// Attempts are throttled per session (Config.ReauthThrottle: by default 5
// free failures, then one per 15 minutes), not per key or client. So the
// username lock that anyone who knows the username can set off
// (KeyThrottle) does not keep the owner from changing their password
// during an attack, and someone holding a stolen session cannot guess the
// password quickly either. Failures take the same time as failed logins,
// and a hash is upgraded or a single-use key used up as by UseKey. The
// session is the one Middleware validated for the request
// (SessionFromContext); Reauthenticate does not read it again.
func (a *Auth[A]) Reauthenticate(ctx context.Context, session Session, providerID, providerUserID, password string) (Key, error) {
	if session.ID == "" || session.UserID == "" {
		return Key{}, &InputError{Field: "session", Reason: "empty"}
	}
	id, err := keyID(providerID, providerUserID)
	if err != nil {
		return Key{}, err
	}
	rec, err := a.verifyKey(ctx, id, password, session.UserID, a.throttle.forSession(session.ID))
	if err != nil {
		return Key{}, err
	}
	return a.keyVerified(ctx, rec, password, nil)
}
