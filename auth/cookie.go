package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// setUpCookie applies the cookie defaults of Config and checks the rest.
func (a *Auth[A]) setUpCookie() error {
	if a.cookiePath == "" {
		a.cookiePath = "/"
	}
	if a.cookieName == "" {
		a.cookieName = DefaultCookieName
		if a.secureCookie && a.cookieDomain == "" && a.cookiePath == "/" && !a.luciaV1 {
			a.cookieName = HostCookieName
		}
	}
	switch a.cookieSameSite {
	case 0, http.SameSiteDefaultMode:
		a.cookieSameSite = http.SameSiteLaxMode
	case http.SameSiteLaxMode, http.SameSiteStrictMode:
	case http.SameSiteNoneMode:
		return errors.New("auth: CookieSameSite None would send the session cookie with cross-site requests; use Lax or Strict")
	default:
		return fmt.Errorf("auth: unknown CookieSameSite %d", a.cookieSameSite)
	}
	probe := &http.Cookie{Name: a.cookieName, Value: "x", Path: a.cookiePath, Domain: a.cookieDomain}
	if err := probe.Valid(); err != nil {
		return fmt.Errorf("auth: session cookie: %w", err)
	}
	// Browsers drop cookies whose name prefix promises what the attributes
	// do not keep; fail here rather than with a login that never sticks.
	switch {
	case strings.HasPrefix(a.cookieName, "__Host-") && (!a.secureCookie || a.cookieDomain != "" || a.cookiePath != "/"):
		return errors.New("auth: a __Host- cookie needs production mode (Secure), Path / and no Domain")
	case strings.HasPrefix(a.cookieName, "__Secure-") && !a.secureCookie:
		return errors.New("auth: a __Secure- cookie needs production mode (Secure)")
	}
	return nil
}

// SessionCookie returns the cookie that hands s, its Token, to the
// browser: named Config.CookieName ("__Host-auth_session" in production,
// "auth_session" in Development), HttpOnly (scripts cannot read it),
// SameSite Lax (or Config.CookieSameSite), Path / (or Config.CookiePath),
// Secure unless Config.Development is set, and with a Max-Age that ends
// with the session's idle period.
func (a *Auth[A]) SessionCookie(s Session) *http.Cookie {
	remaining := s.IdleExpires.Sub(a.now())
	maxAge := int((remaining + time.Second - 1) / time.Second) // rounded up
	if remaining <= 0 {
		maxAge = -1 // http.Cookie's spelling of "Max-Age=0": delete it
	}
	c := a.cookie(s.Token)
	c.MaxAge = maxAge
	return c
}

func (a *Auth[A]) cookie(value string) *http.Cookie {
	return &http.Cookie{
		Name:     a.cookieName,
		Value:    value,
		Path:     a.cookiePath,
		Domain:   a.cookieDomain,
		HttpOnly: true,
		Secure:   a.secureCookie,
		SameSite: a.cookieSameSite,
	}
}

// SetSessionCookie adds SessionCookie(s) to the response headers.
func (a *Auth[A]) SetSessionCookie(w http.ResponseWriter, s Session) {
	http.SetCookie(w, a.SessionCookie(s))
}

// ClearSessionCookie tells the browser to delete the session cookie.
func (a *Auth[A]) ClearSessionCookie(w http.ResponseWriter) {
	c := a.cookie("")
	c.MaxAge = -1
	http.SetCookie(w, c)
}

// MaxSessionCookies bounds how many session cookies of one request are
// looked up. A browser sends every cookie of the name that matches the
// request: the app's own, and any that a sibling subdomain planted with
// Domain=<parent> (longer Paths first, so ahead of the app's). Middleware
// tries the distinct well-formed ids in the order they came, up to this
// many, and uses the first valid session, so that a planted cookie cannot
// lock the user out; more planted cookies than this still can, and a
// planted valid session of the attacker's own account comes first. The
// __Host- cookie prefix (see Config.CookieName) stops both.
const MaxSessionCookies = 4

// sessionCookieIDs returns the distinct well-formed ids among the
// request's session cookies, in the order they came, at most
// MaxSessionCookies of them. Malformed values cost nothing and are
// skipped.
func (a *Auth[A]) sessionCookieIDs(r *http.Request) []string {
	var ids []string
	for _, c := range r.CookiesNamed(a.cookieName) {
		if wellFormedSessionID(c.Value) && !slices.Contains(ids, c.Value) {
			ids = append(ids, c.Value)
			if len(ids) == MaxSessionCookies {
				break
			}
		}
	}
	return ids
}

// SessionID returns the session token in the request's session cookie
// (pass it to ValidateSession or InvalidateSession). Only a well-formed
// token counts (SessionIDLength letters and digits). When the request
// carries several session cookies and Middleware validated one of them,
// SessionID returns that one's token; otherwise, the first well-formed
// one. It does not check whether the session exists.
func (a *Auth[A]) SessionID(r *http.Request) (string, bool) {
	ids := a.sessionCookieIDs(r)
	if len(ids) == 0 {
		return "", false
	}
	if ra, ok := r.Context().Value(contextKey{}).(*requestAuth); ok && slices.Contains(ids, ra.cookieSessionID) {
		return ra.cookieSessionID, true
	}
	return ids[0], true
}

// validateSessionCookies validates ids, the request's session cookie ids,
// in order with ValidateSessionUser and returns the first valid session,
// its user and the id of the cookie that held it. It returns
// ErrInvalidSessionID when none is valid, and any other error at once: a
// storage failure must not fall through to the next cookie.
func (a *Auth[A]) validateSessionCookies(ctx context.Context, ids []string) (Session, User[A], string, error) {
	for _, id := range ids {
		session, user, err := a.ValidateSessionUser(ctx, id)
		if errors.Is(err, ErrInvalidSessionID) {
			continue
		}
		return session, user, id, err
	}
	return Session{}, User[A]{}, "", ErrInvalidSessionID
}
