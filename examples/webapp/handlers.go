package main

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/luciago/mongoauth/auth"
)

// notices are the messages a page shows after a redirect, chosen by the
// "done" query parameter. Only these fixed texts can appear: a query
// parameter never puts its own text on the page.
var notices = map[string]string{
	"logged-out":       "You are logged out.",
	"deleted":          "Your account and everything stored about it have been deleted.",
	"others-ended":     "Every other session has been signed out.",
	"session-ended":    "That session has been signed out.",
	"password-changed": "Your password has been changed and every other session signed out.",
	"linked":           "It is linked: you can sign in with it from now on.",
	"unlinked":         "It is unlinked: you can no longer sign in with it.",
}

func notice(r *http.Request) string { return notices[r.URL.Query().Get("done")] }

// visitorPage shows page (sign-up or login) to visitors; logged-in users
// go to the home page instead.
func (a *app) visitorPage(page string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := auth.UserFromContext[Account](r.Context()); ok {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		a.render(w, r, http.StatusOK, page, view{Notice: notice(r)})
	}
}

// currentUser is the user RequireUser let through.
func currentUser(r *http.Request) auth.User[Account] {
	user, _ := auth.UserFromContext[Account](r.Context())
	return user
}

// signup creates the user together with its username key, which holds the
// password hash, and logs the new user in. auth.SignUp throttles sign-ups
// per address: a taken username is reported (a sign-up form must say so),
// but one address can ask only so often (429 with Retry-After).
func (a *app) signup(w http.ResponseWriter, r *http.Request) {
	username := normalizeUsername(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	refuse := func(status int, msg string) {
		a.render(w, r, status, "signup", view{Error: msg, Username: username})
	}
	if msg := usernameProblem(username); msg != "" {
		refuse(http.StatusUnprocessableEntity, msg)
		return
	}
	if msg := passwordProblem(password); msg != "" {
		refuse(http.StatusUnprocessableEntity, msg)
		return
	}
	_, _, err := a.auth.SignUp(w, r, Account{Username: username, Joined: time.Now()},
		auth.KeyParams{ProviderID: usernameProvider, ProviderUserID: username, Password: password})
	switch {
	case errors.Is(err, auth.ErrDuplicateKeyID):
		// The key id is taken: the username exists. No user was created.
		refuse(http.StatusConflict, msgUsernameTaken(username))
		return
	case err != nil:
		a.refusal(w, r, err, refuse)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// login checks the password and starts a new session. auth.LogIn gives
// the browser a new session id, so an id planted before login (session
// fixation) is worthless afterwards.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	username := normalizeUsername(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	refuse := func(status int, msg string) {
		a.render(w, r, status, "login", view{Error: msg, Username: username})
	}
	if username == "" || password == "" {
		refuse(http.StatusUnprocessableEntity, msgMissingLogin)
		return
	}
	_, err := a.auth.LogIn(w, r, usernameProvider, username, password)
	switch {
	case err == nil:
		http.Redirect(w, r, "/", http.StatusSeeOther)
	case errors.Is(err, auth.ErrInvalidKeyID), errors.Is(err, auth.ErrInvalidPassword),
		errors.Is(err, auth.ErrInvalidInput), errors.Is(err, auth.ErrOutdatedPassword):
		// Unknown username (also one deleted while this login ran), wrong
		// password, a username no key could have, or a hash that cannot be
		// checked (bcrypt, from an older app; saying so would tell that
		// the username exists): one message for all (see msgWrongLogin).
		refuse(http.StatusUnauthorized, msgWrongLogin)
	default:
		a.refusal(w, r, err, refuse)
	}
}

// refusal answers err with refuse when it is one of the auth core's
// limits (too many failed logins, or too many password hashes at once:
// 429 or 503, with Retry-After), and otherwise as failed does.
func (a *app) refusal(w http.ResponseWriter, r *http.Request, err error, refuse func(status int, msg string)) {
	var limit *auth.LimitError
	if !errors.As(err, &limit) {
		a.failed(w, r, err)
		return
	}
	auth.SetRetryAfter(w, err)
	if errors.Is(err, auth.ErrThrottled) {
		what := "Too many attempts."
		switch r.URL.Path {
		case "/login":
			what = "Too many failed login attempts."
		case "/signup":
			what = "Too many sign-ups from your address."
		}
		refuse(http.StatusTooManyRequests, msgThrottled(what, limit.RetryAfter))
		return
	}
	refuse(http.StatusServiceUnavailable, msgBusy)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	if err := a.auth.LogOut(w, r); err != nil {
		a.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/login?done=logged-out", http.StatusSeeOther)
}

// home shows the user and the user's sessions.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	sessions, err := a.auth.UserSessions(r.Context(), currentUser(r).ID)
	if err != nil {
		a.failed(w, r, err)
		return
	}
	a.renderHome(w, r, http.StatusOK, sessions, "")
}

// renderHome shows the home page with the user's sessions, this
// browser's first, then the others by when they were last seen, and an
// error message if errMsg is not empty.
func (a *app) renderHome(w http.ResponseWriter, r *http.Request, status int, sessions []auth.Session, errMsg string) {
	user := currentUser(r)
	current, _ := auth.SessionFromContext(r.Context())
	v := view{User: &user, Notice: notice(r), Error: errMsg, Sessions: make([]sessionView, 0, len(sessions))}
	for _, s := range sessions {
		v.Sessions = append(v.Sessions, sessionView{Current: s.ID == current.ID, Device: deviceOf(r, s), Handle: a.handles.of(s.ID)})
	}
	slices.SortStableFunc(v.Sessions, func(x, y sessionView) int {
		if x.Current != y.Current {
			if x.Current {
				return -1
			}
			return 1
		}
		return y.LastSeen.Compare(x.LastSeen)
	})
	a.render(w, r, status, "home", v)
}

// endOtherSessions signs the user out everywhere but in this browser.
func (a *app) endOtherSessions(w http.ResponseWriter, r *http.Request) {
	if err := a.restartSessions(w, r); err != nil {
		a.failed(w, r, err)
		return
	}
	http.Redirect(w, r, "/?done=others-ended", http.StatusSeeOther)
}

// restartSessions deletes all of the current user's sessions and starts a
// new one for this browser: every other browser and device is logged out,
// and this one carries on with a fresh session id.
func (a *app) restartSessions(w http.ResponseWriter, r *http.Request) error {
	user := currentUser(r)
	if err := a.auth.InvalidateUserSessions(r.Context(), user.ID); err != nil {
		return err
	}
	_, err := a.auth.StartSession(w, r, user.ID)
	return err
}

func (a *app) passwordPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "password", view{})
}

// changePassword asks for the current password, so that someone at an
// unattended logged-in browser cannot take the account over, then stores
// the new one and ends every other session: a password change should lock
// out whoever else might have logged in.
func (a *app) changePassword(w http.ResponseWriter, r *http.Request) {
	user := currentUser(r)
	newPassword := r.PostFormValue("new")
	if msg := passwordProblem(newPassword); msg != "" {
		a.render(w, r, http.StatusUnprocessableEntity, "password", view{Error: msg})
		return
	}
	if !a.checkPassword(w, r, "password", user, r.PostFormValue("current")) {
		return
	}
	if _, err := a.auth.UpdateKeyPassword(r.Context(), usernameProvider, user.Attributes.Username, newPassword); err != nil {
		a.refusal(w, r, err, func(status int, msg string) { a.render(w, r, status, "password", view{Error: msg}) })
		return
	}
	if err := a.restartSessions(w, r); err != nil {
		a.failed(w, r, err)
		return
	}
	http.Redirect(w, r, "/?done=password-changed", http.StatusSeeOther)
}

func (a *app) deletePage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "delete", view{})
}

// deleteAccount asks for the password, or for an account made by a
// provider sign-in a recent sign-in (oauth.go), then deletes the user; the
// adapter deletes the user's keys and sessions with it.
func (a *app) deleteAccount(w http.ResponseWriter, r *http.Request) {
	user := currentUser(r)
	switch {
	case user.Attributes.Username == "" && a.oauth != nil:
		if !signedInRecently(r) {
			a.render(w, r, http.StatusConflict, "delete", view{Error: msgSignInAgain})
			return
		}
	case !a.checkPassword(w, r, "delete", user, r.PostFormValue("password")):
		return
	}
	if err := a.auth.DeleteUser(r.Context(), user.ID); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.auth.ClearSessionCookie(w)
	http.Redirect(w, r, "/signup?done=deleted", http.StatusSeeOther)
}

// checkPassword reports whether password is the user's. If it is not, or
// the check fails, it has answered the request: with page and an error
// message, or with a server error. auth.Reauthenticate throttles it per
// session, so the lock that failed logins put on the username (anyone can
// cause those) does not stop the signed-in owner.
func (a *app) checkPassword(w http.ResponseWriter, r *http.Request, page string, user auth.User[Account], password string) bool {
	if user.Attributes.Username == "" { // made by a provider sign-in (oauth.go)
		a.render(w, r, http.StatusConflict, page, view{Error: msgNoPassword})
		return false
	}
	session, _ := auth.SessionFromContext(r.Context())
	_, err := a.auth.Reauthenticate(r.Context(), session, usernameProvider, user.Attributes.Username, password)
	switch {
	case err == nil:
		return true
	case errors.Is(err, auth.ErrInvalidPassword):
		a.render(w, r, http.StatusUnauthorized, page, view{Error: msgWrongPassword})
	case errors.Is(err, auth.ErrOutdatedPassword):
		a.render(w, r, http.StatusUnauthorized, page, view{Error: msgOutdatedPassword})
	default:
		a.refusal(w, r, err, func(status int, msg string) { a.render(w, r, status, page, view{Error: msg}) })
	}
	return false
}

// failed answers a request of a logged-in user whose call to auth failed.
// If the user or their key no longer exists (the account was deleted in
// another browser while this request ran), the request is answered as a
// logged-out visitor's: the cookie is cleared and the browser sent to the
// login page. Anything else is a server error.
func (a *app) failed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, auth.ErrInvalidUserID) || errors.Is(err, auth.ErrInvalidKeyID) {
		a.auth.ClearSessionCookie(w)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	a.serverError(w, r, err)
}
