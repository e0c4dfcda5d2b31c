package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/luciago/mongoauth/auth"
)

// Device is what the app stores about each session, as session
// attributes, for the "your sessions" list: enough for a user to
// recognise their own browsers and devices, and nothing more. The
// User-Agent header is reduced to a browser and an operating system
// before it is stored (it also carries versions, which make a browser
// easier to single out); the client's IP address is not stored at all.
// The attributes live as long as the session and are deleted with it.
type Device struct {
	Browser  string    `auth:"browser"`
	OS       string    `auth:"os"`
	Created  time.Time `auth:"created_at"`
	LastSeen time.Time `auth:"last_seen,omitempty"`
}

// lastSeenInterval is how stale "last seen" may get: a request writes it
// at most this often (auth.Config.LastSeenInterval), so most requests stay
// one database read.
const lastSeenInterval = 5 * time.Minute

// deviceAttributes returns the auth.Config.SessionAttributes hook that
// describes the device a login comes from, with now as the clock.
func deviceAttributes(now func() time.Time) func(r *http.Request) any {
	return func(r *http.Request) any {
		browser, os := parseUserAgent(r.UserAgent())
		return Device{Browser: browser, OS: os, Created: now()}
	}
}

// userAgentTokens map a token of the User-Agent header to a name, first
// match wins: Edge and Opera also say Chrome, Chrome also says Safari, and
// iPads and Android also say Mac OS X and Linux.
var (
	browserTokens = [][2]string{{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
		{"Chrome/", "Chrome"}, {"CriOS/", "Chrome"}, {"Safari/", "Safari"}}
	osTokens = [][2]string{{"Windows", "Windows"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Android", "Android"},
		{"CrOS", "ChromeOS"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"}}
)

// What a session shows when its user agent names no known browser or
// system, or when it has no device attributes.
const (
	unknownBrowser = "Unknown browser"
	unknownSystem  = "unknown system"
)

// parseUserAgent names the browser and operating system of a User-Agent
// header, roughly: it is the client's claim, and only meant to help the
// user tell sessions apart.
func parseUserAgent(ua string) (browser, os string) {
	match := func(tokens [][2]string, unknown string) string {
		for _, t := range tokens {
			if strings.Contains(ua, t[0]) {
				return t[1]
			}
		}
		return unknown
	}
	return match(browserTokens, unknownBrowser), match(osTokens, unknownSystem)
}

// sessionHandles name sessions in the HTML of the sessions list without
// revealing their ids: a session's id is the hash of its cookie's token,
// or (beside Lucia, auth.Config.LuciaV1) the token itself, a bearer
// secret, and neither belongs in a page that may end up in caches,
// screenshots or extensions. A handle is an HMAC-SHA256 of the session id under a key
// made at start-up, cut to 128 bits: it cannot be turned back into the
// id, and it means nothing outside this process. Forms rendered before a
// restart then name no session, and the user reloads the page.
type sessionHandles struct{ key []byte }

func newSessionHandles() sessionHandles {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails
	return sessionHandles{key: key}
}

func (h sessionHandles) of(sessionID string) string {
	mac := hmac.New(sha256.New, h.key)
	mac.Write([]byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

// find returns the session among sessions whose handle is handle.
func (h sessionHandles) find(sessions []auth.Session, handle string) (auth.Session, bool) {
	for _, s := range sessions {
		if hmac.Equal([]byte(h.of(s.ID)), []byte(handle)) {
			return s, true
		}
	}
	return auth.Session{}, false
}

// deviceOf reads a session's device. A session without attributes (made
// before the app stored them) shows as unknown.
func deviceOf(r *http.Request, s auth.Session) Device {
	d, err := auth.SessionAttributes[Device](s)
	if err != nil {
		slog.WarnContext(r.Context(), "unreadable session attributes", "err", err)
	}
	if d.Browser == "" {
		d.Browser, d.OS = unknownBrowser, unknownSystem
	}
	return d
}

// endSession signs one of the user's other sessions out, named by its
// handle. Only the user's own sessions are looked at, so a handle (or a
// session id) of anybody else's session is answered exactly as one that
// names nothing: the answer says nothing about other users' sessions.
// Ending the current session is logging out.
func (a *app) endSession(w http.ResponseWriter, r *http.Request) {
	user := currentUser(r)
	sessions, err := a.auth.UserSessions(r.Context(), user.ID)
	if err != nil {
		a.failed(w, r, err)
		return
	}
	target, ok := a.handles.find(sessions, r.PostFormValue("session"))
	if !ok {
		a.renderHome(w, r, http.StatusNotFound, sessions, msgSessionNotFound)
		return
	}
	if current, _ := auth.SessionFromContext(r.Context()); target.ID == current.ID {
		a.logout(w, r)
		return
	}
	if err := a.auth.InvalidateSession(r.Context(), target.ID); err != nil {
		a.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/?done=session-ended", http.StatusSeeOther)
}
