package auth

import (
	"context"
	"errors"
	"net/http"
	"slices"
)

type contextKey struct{}

// requestAuth is what Middleware stores in the request context.
type requestAuth struct {
	session Session
	user    any // User[A] of the Auth that stored it
	// cookieSessionID is the token of the session cookie that was
	// validated; session.Token differs after a renewal without
	// SessionUpdater.
	cookieSessionID string
}

// Middleware authenticates requests by their session cookie. In production
// (not Config.Development) every response it passes carries
// Strict-Transport-Security (see Config.HSTSMaxAge).
//
//  1. A request that fails CheckOrigin (a state-changing request that a
//     browser sent from another origin) is refused: Config.ErrorHandler
//     answers, by default 403. Mount endpoints that must accept such
//     requests (webhooks) outside the middleware.
//  2. The well-formed session ids in the session cookies (usually one;
//     see MaxSessionCookies for planted ones) are validated in order with
//     ValidateSessionUser, and the first valid session wins: session and
//     user go into the request context (read them with SessionFromContext
//     and UserFromContext), SessionID returns its cookie's id, and a
//     renewed session is sent back in a new cookie. Other cookies are
//     left alone: a response can only delete a cookie with the app's own
//     Path and Domain, which would be the valid one.
//  3. When no session is valid (invalid or dead sessions, malformed
//     cookies), the app's session cookie is cleared from the browser and
//     the request goes on without a user. Cookies planted with another
//     Path or Domain stay; they are skipped at every request.
//  4. Any other error (the database is down, stored attributes do not fit
//     A) goes to Config.ErrorHandler, by default 500: a storage failure
//     must not log people out.
//
// Requests without a session go on without a user; use RequireUser for
// handlers that need one.
func (a *Auth[A]) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.hsts != "" && w.Header().Get("Strict-Transport-Security") == "" {
			w.Header().Set("Strict-Transport-Security", a.hsts)
		}
		if err := a.CheckOrigin(r); err != nil {
			a.errorHandler(w, r, err)
			return
		}
		sessionIDs := a.sessionCookieIDs(r)
		if len(sessionIDs) == 0 {
			if len(r.CookiesNamed(a.cookieName)) > 0 {
				a.ClearSessionCookie(w)
			}
			next.ServeHTTP(w, r)
			return
		}
		session, user, cookieSessionID, err := a.validateSessionCookies(r.Context(), sessionIDs)
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
		ctx := context.WithValue(r.Context(), contextKey{}, &requestAuth{session: session, user: user, cookieSessionID: cookieSessionID})
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
// invalidates the sessions the request came with (every session cookie's,
// up to MaxSessionCookies, and a renewal Middleware made), and sets the
// new session's cookie. A new session id at every login stops session
// fixation: an id planted in the browser before login is worthless after
// it. The request must pass
// CheckOrigin, which stops login CSRF.
//
// Use it after CreateUser (sign-up) or after an OAuth flow; LogIn does a
// password login. A user that does not exist, also one deleted while the
// call runs, gives ErrInvalidUserID. When no session could be created,
// the cookie is cleared: the request's session has been ended already.
func (a *Auth[A]) StartSession(w http.ResponseWriter, r *http.Request, userID string) (Session, error) {
	if err := a.CheckOrigin(r); err != nil {
		return Session{}, err
	}
	return a.startSession(w, r, func(ctx context.Context, attrs map[string]any) (Session, error) {
		return a.createSession(ctx, userID, attrs)
	})
}

// startSession invalidates the request's sessions, creates one with
// create, with the attributes Config.SessionAttributes makes of the
// request, and sets its cookie. Attributes that cannot be stored fail the
// call before the request's sessions are touched. When create fails (the
// user is gone, say), the cookie is cleared: the request's session has
// been ended already.
func (a *Auth[A]) startSession(w http.ResponseWriter, r *http.Request, create func(context.Context, map[string]any) (Session, error)) (Session, error) {
	attrs, err := a.requestSessionAttributes(r)
	if err != nil {
		return Session{}, err
	}
	if err := a.invalidateRequestSessions(r); err != nil {
		return Session{}, err
	}
	session, err := create(r.Context(), attrs)
	if err != nil {
		a.ClearSessionCookie(w)
		return Session{}, err
	}
	a.SetSessionCookie(w, session)
	return session, nil
}

// LogIn checks the key's password with UseKey and, if it matches, starts a
// session as StartSession does, with the check of UseKeyAndCreateSession:
// a password change that runs meanwhile wins. Its errors are those of
// CheckOrigin and UseKeyAndCreateSession; show users the same message for
// ErrInvalidKeyID and ErrInvalidPassword. A key or user deleted while the
// call runs gives an error matching ErrInvalidKeyID, as an unknown key does
// (and ErrInvalidUserID too when it was the user). The request's session
// is ended, and its cookie cleared, only once the password has matched.
// Attempts are throttled per key and per client (Config.ClientKey): answer
// ErrThrottled with 429 and ErrBusy with 503, each with SetRetryAfter.
// WriteError answers each of LogIn's errors with its status.
func (a *Auth[A]) LogIn(w http.ResponseWriter, r *http.Request, providerID, providerUserID, password string) (Session, error) {
	if err := a.CheckOrigin(r); err != nil {
		return Session{}, err
	}
	var verified verifiedKey
	if _, err := a.useKey(r.Context(), providerID, providerUserID, password, a.clientKey(r), &verified); err != nil {
		return Session{}, err
	}
	return a.startSession(w, r, func(ctx context.Context, attrs map[string]any) (Session, error) {
		return a.createSessionForKey(ctx, verified, attrs)
	})
}

// LogOut invalidates the request's sessions, if any (every session
// cookie's, up to MaxSessionCookies, and a renewal Middleware made), and
// clears the cookie. The request must pass CheckOrigin, so that no other
// site can log users out.
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

// invalidateRequestSessions deletes the sessions of every session cookie
// the request carries (up to MaxSessionCookies: the app's own and any
// planted, which are worthless to the user either way) and the one
// Middleware put into its context, if that is another (a renewal).
func (a *Auth[A]) invalidateRequestSessions(r *http.Request) error {
	ids := a.sessionCookieIDs(r)
	if s, ok := SessionFromContext(r.Context()); ok && !slices.Contains(ids, s.Token) {
		ids = append(ids, s.Token)
	}
	for _, id := range ids {
		if err := a.InvalidateSession(r.Context(), id); err != nil {
			return err
		}
	}
	return nil
}
