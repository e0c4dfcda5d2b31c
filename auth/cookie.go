package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// setUpCookie applies the cookie defaults of Config and checks the rest.
func (a *Auth[A]) setUpCookie() error {
	if a.cookieName == "" {
		a.cookieName = DefaultCookieName
	}
	if a.cookiePath == "" {
		a.cookiePath = "/"
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

// SessionCookie returns the cookie that hands s to the browser: named
// Config.CookieName ("auth_session"), HttpOnly (scripts cannot read it),
// SameSite Lax (or Config.CookieSameSite), Path / (or Config.CookiePath),
// Secure unless Config.Development is set, and with a Max-Age that ends
// with the session's idle period.
func (a *Auth[A]) SessionCookie(s Session) *http.Cookie {
	remaining := s.IdleExpires.Sub(a.now())
	maxAge := int((remaining + time.Second - 1) / time.Second) // rounded up
	if remaining <= 0 {
		maxAge = -1 // http.Cookie's spelling of "Max-Age=0": delete it
	}
	c := a.cookie(s.ID)
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

// SessionID returns the session id in the request's session cookie. Only
// a well-formed id counts (SessionIDLength letters and digits); when the
// request carries several cookies of that name (a sibling subdomain may
// have set one), the first well-formed one is taken. It does not check
// whether the session exists.
func (a *Auth[A]) SessionID(r *http.Request) (string, bool) {
	for _, c := range r.CookiesNamed(a.cookieName) {
		if wellFormedSessionID(c.Value) {
			return c.Value, true
		}
	}
	return "", false
}
