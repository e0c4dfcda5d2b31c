package auth

import (
	"context"
	"errors"
	"net/http"
)

type contextKey struct{}

// requestAuth is what Middleware stores in the request context.
type requestAuth struct {
	session Session
	user    any // User[A] of the Auth that stored it
}

// Middleware authenticates requests by their session cookie:
//
//  1. A request that fails CheckOrigin (a state-changing request from
//     another origin or without Origin) is refused: Config.ErrorHandler
//     answers, by default 403. Mount endpoints that must accept such
//     requests (webhooks) outside the middleware.
//  2. A well-formed session id in the cookie is validated with
//     ValidateSessionUser. If the session is valid, session and user go
//     into the request context (read them with SessionFromContext and
//     UserFromContext); a renewed session is sent back in a new cookie.
//  3. An invalid or dead session, or a malformed cookie, is cleared from
//     the browser and the request goes on without a user.
//  4. Any other error (the database is down, stored attributes do not fit
//     A) goes to Config.ErrorHandler, by default 500: a storage failure
//     must not log people out.
//
// Requests without a session go on without a user; use RequireUser for
// handlers that need one.
func (a *Auth[A]) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.CheckOrigin(r); err != nil {
			a.errorHandler(w, r, err)
			return
		}
		sessionID, ok := a.SessionID(r)
		if !ok {
			if len(r.CookiesNamed(a.cookieName)) > 0 {
				a.ClearSessionCookie(w)
			}
			next.ServeHTTP(w, r)
			return
		}
		session, user, err := a.ValidateSessionUser(r.Context(), sessionID)
		switch {
		case errors.Is(err, ErrInvalidSessionID):
			a.ClearSessionCookie(w)
			next.ServeHTTP(w, r)
			return
		case err != nil:
			a.errorHandler(w, r, err)
			return
		}
		if session.Fresh {
			a.SetSessionCookie(w, session)
		}
		ctx := context.WithValue(r.Context(), contextKey{}, &requestAuth{session: session, user: user})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// RequireUser passes on only requests that Middleware authenticated;
// others get Config.ErrorHandler with ErrNotAuthenticated (by default 401).
// It must run inside Middleware.
func (a *Auth[A]) RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := UserFromContext[A](r.Context()); !ok {
			a.errorHandler(w, r, ErrNotAuthenticated)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// SessionFromContext returns the session Middleware validated for the
// request whose context ctx is.
func SessionFromContext(ctx context.Context) (Session, bool) {
	ra, ok := ctx.Value(contextKey{}).(*requestAuth)
	if !ok {
		return Session{}, false
	}
	return ra.session, true
}

// UserFromContext returns the user Middleware authenticated for the
// request whose context ctx is. A must be the attribute type of the Auth
// whose Middleware ran; with another type the result is false.
func UserFromContext[A any](ctx context.Context) (User[A], bool) {
	ra, ok := ctx.Value(contextKey{}).(*requestAuth)
	if !ok {
		return User[A]{}, false
	}
	user, ok := ra.user.(User[A])
	return user, ok
}

// StartSession logs the user in on this request: it creates a new session,
// invalidates the session the request came with (its cookie's, and a
// renewal Middleware made), and sets the new session's cookie. A new
// session id at every login stops session fixation: an id planted in the
// browser before login is worthless after it. The request must pass
// CheckOrigin, which stops login CSRF.
//
// Use it after CreateUser (sign-up) or after an OAuth flow; LogIn does a
// password login.
func (a *Auth[A]) StartSession(w http.ResponseWriter, r *http.Request, userID string) (Session, error) {
	if err := a.CheckOrigin(r); err != nil {
		return Session{}, err
	}
	if err := a.invalidateRequestSessions(r); err != nil {
		return Session{}, err
	}
	session, err := a.CreateSession(r.Context(), userID)
	if err != nil {
		return Session{}, err
	}
	a.SetSessionCookie(w, session)
	return session, nil
}

// LogIn checks the key's password with UseKey and, if it matches, starts a
// session with StartSession. Its errors are those of CheckOrigin, UseKey
// and CreateSession; show users the same message for ErrInvalidKeyID and
// ErrInvalidPassword. Attempts are throttled per key and per client
// (Config.ClientKey): answer ErrThrottled with 429 and ErrBusy with 503,
// each with SetRetryAfter.
func (a *Auth[A]) LogIn(w http.ResponseWriter, r *http.Request, providerID, providerUserID, password string) (Session, error) {
	if err := a.CheckOrigin(r); err != nil {
		return Session{}, err
	}
	key, err := a.useKey(r.Context(), providerID, providerUserID, password, a.clientKey(r))
	if err != nil {
		return Session{}, err
	}
	return a.StartSession(w, r, key.UserID)
}

// LogOut invalidates the request's session, if any, and clears the cookie.
// The request must pass CheckOrigin, so that no other site can log users
// out.
func (a *Auth[A]) LogOut(w http.ResponseWriter, r *http.Request) error {
	if err := a.CheckOrigin(r); err != nil {
		return err
	}
	if err := a.invalidateRequestSessions(r); err != nil {
		return err
	}
	a.ClearSessionCookie(w)
	return nil
}

// invalidateRequestSessions deletes the session of the request's cookie
// and the one Middleware put into its context, if that is another (a
// renewal).
func (a *Auth[A]) invalidateRequestSessions(r *http.Request) error {
	ids := make([]string, 0, 2)
	if id, ok := a.SessionID(r); ok {
		ids = append(ids, id)
	}
	if s, ok := SessionFromContext(r.Context()); ok && (len(ids) == 0 || ids[0] != s.ID) {
		ids = append(ids, s.ID)
	}
	for _, id := range ids {
		if err := a.InvalidateSession(r.Context(), id); err != nil {
			return err
		}
	}
	return nil
}

// defaultErrorHandler is Config.ErrorHandler's default. The body is only
// the status text: error details stay on the server.
func defaultErrorHandler(w http.ResponseWriter, _ *http.Request, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalidRequest):
		status = http.StatusForbidden
	case errors.Is(err, ErrNotAuthenticated):
		status = http.StatusUnauthorized
	case errors.Is(err, ErrBusy):
		status = http.StatusServiceUnavailable
	case errors.Is(err, ErrThrottled):
		status = http.StatusTooManyRequests
	}
	SetRetryAfter(w, err)
	http.Error(w, http.StatusText(status), status)
}
