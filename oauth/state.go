package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// flowState is what the state cookie holds between the redirect to the
// provider and the callback. The cookie is the browser's own: a user can
// read and change it, so nothing in it may grant anything by itself. The
// state only has to match the callback's (which binds the callback to this
// browser), the verifier and nonce only have to match what the provider
// saw, the return path is checked again at the callback, and a link goes
// to the account of the session the callback arrives with, which must be
// the one the link began in (Link holds a hash of its id).
type flowState struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Verifier string `json:"v"`
	Nonce    string `json:"n"`
	ReturnTo string `json:"r,omitempty"`
	// Link is empty for a sign-in; for a link, sessionHash of the session
	// cookie's id.
	Link string `json:"l,omitempty"`
	// Expires is when the sign-in expires, in Unix seconds: the cookie's
	// Max-Age is only the browser's promise.
	Expires int64 `json:"e"`
}

// maxStateCookie bounds the cookie value read back; a real one is a few
// hundred bytes (the return path is at most maxReturnTo).
const maxStateCookie = 4096

// newFlowState draws a state, a PKCE verifier and a nonce.
func newFlowState(provider, returnTo, link string, expires time.Time) flowState {
	return flowState{
		Provider: provider,
		State:    rand.Text(),
		Verifier: oauth2.GenerateVerifier(),
		Nonce:    rand.Text(),
		ReturnTo: returnTo,
		Link:     link,
		Expires:  expires.Unix(),
	}
}

func (s flowState) encode() string {
	b, _ := json.Marshal(s) // strings and an integer: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeFlowState reads a cookie value; ok is false for anything that is
// not a complete state.
func decodeFlowState(value string) (s flowState, ok bool) {
	if len(value) > maxStateCookie {
		return flowState{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || json.Unmarshal(b, &s) != nil {
		return flowState{}, false
	}
	return s, s.Provider != "" && s.State != "" && s.Verifier != "" && s.Nonce != ""
}

// sessionHash names a session in the state cookie without its id, which
// is the bearer secret of the session cookie.
func sessionHash(sessionID string) string {
	sum := sha256.Sum256([]byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// equal compares two secrets in constant time.
func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// stateCookie is the state cookie with value; maxAge as http.Cookie
// takes it (negative deletes).
func (f *Flow[A]) stateCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     f.cookieName,
		Value:    value,
		Path:     "/", // required by the __Host- prefix
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   f.secure,
		// Lax, not Strict: the callback is a cross-site navigation from
		// the provider, with which browsers send Lax cookies only.
		SameSite: http.SameSiteLaxMode,
	}
}

func (f *Flow[A]) setStateCookie(w http.ResponseWriter, s flowState) {
	http.SetCookie(w, f.stateCookie(s.encode(), int(f.stateMaxAge/time.Second)))
}

func (f *Flow[A]) clearStateCookie(w http.ResponseWriter) {
	http.SetCookie(w, f.stateCookie("", -1))
}

// readState returns the state of the request's state cookie whose state is
// the callback's state parameter, and clears that cookie: a state is good
// for one callback. It refuses, with ErrState, a state that is missing,
// malformed, expired, another one's or another provider's.
func (f *Flow[A]) readState(w http.ResponseWriter, r *http.Request, providerID string) (flowState, error) {
	cookies := r.CookiesNamed(f.cookieName)
	if len(cookies) == 0 {
		return flowState{}, stateError("no state cookie (the sign-in expired or began in another browser)")
	}
	param := r.URL.Query().Get("state")
	if param == "" {
		return flowState{}, stateError("no state parameter")
	}
	for _, c := range cookies {
		s, ok := decodeFlowState(c.Value)
		if !ok || !equal(s.State, param) {
			// Left in place: a forged callback must not end the
			// sign-in this browser is in the middle of.
			continue
		}
		f.clearStateCookie(w)
		switch {
		case s.Provider != providerID:
			return flowState{}, stateError("the sign-in began with another provider")
		case f.now().Unix() >= s.Expires:
			return flowState{}, stateError("the sign-in expired")
		}
		return s, nil
	}
	return flowState{}, stateError("the state parameter is not the state cookie's")
}

func stateError(reason string) error { return &stateMismatch{reason} }

// stateMismatch is ErrState with the reason.
type stateMismatch struct{ reason string }

func (e *stateMismatch) Error() string        { return ErrState.Error() + ": " + e.reason }
func (e *stateMismatch) Is(target error) bool { return target == ErrState }
