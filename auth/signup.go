package auth

import (
	"errors"
	"net/http"
)

// SignUp creates a user with its primary key, as CreateUser does, then
// logs the new user in on this request, as StartSession does, and returns
// both. The request must pass CheckOrigin.
//
// Sign-ups are throttled per client (Config.ClientKey, Config.SignUpThrottle:
// by default 20, then one per 3 minutes per address). Every sign-up that
// reaches the database counts, whether it creates the user or finds the
// key id taken; one refused with ErrThrottled (answer 429 with
// SetRetryAfter) hashes nothing and reads nothing. Input that CreateUser
// would refuse is refused first and counts nowhere, and so are sign-ups
// that reach no verdict (ErrBusy, storage errors).
//
// A taken key id gives ErrDuplicateKeyID: telling the person that the
// username is taken is what makes a sign-up form usable, and it tells
// anyone which usernames exist. The throttle bounds how fast one address
// can ask (by default 40 names in any hour); a botnet can ask faster, as
// it can try passwords faster. Where usernames must stay secret, answer
// sign-ups the same way whatever happened and confirm by e-mail instead.
//
// The password is hashed within the share of hashing slots that new
// passwords get (see Config.MaxConcurrentHashes), so that sign-ups cannot
// starve logins. When the user was created but its session could not be
// (the database failed in between), the user is returned with the error.
func (a *Auth[A]) SignUp(w http.ResponseWriter, r *http.Request, attributes A, primaryKey KeyParams) (User[A], Session, error) {
	if err := a.CheckOrigin(r); err != nil {
		return User[A]{}, Session{}, err
	}
	ctx := r.Context()
	stored, err := a.checkNewUser(attributes, &primaryKey)
	if err != nil {
		return User[A]{}, Session{}, err
	}
	attempt, err := a.throttle.admit(ctx, a.throttle.forSignUp(a.clientKey(r)))
	if err != nil {
		return User[A]{}, Session{}, err
	}
	user, err := a.createUser(ctx, attributes, stored, &primaryKey)
	switch {
	case err == nil || errors.Is(err, ErrDuplicateKeyID) || errors.Is(err, ErrDuplicateUserID) || errors.Is(err, ErrDuplicateValue):
		attempt.keep()
	default:
		attempt.void(ctx)
	}
	if err != nil {
		return User[A]{}, Session{}, err
	}
	session, err := a.StartSession(w, r, user.ID)
	if err != nil {
		return user, Session{}, err
	}
	return user, session, nil
}
