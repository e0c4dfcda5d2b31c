// Package githubtest is a stand-in for GitHub's OAuth 2.0 server and the
// parts of its REST API that sign-in reads, for tests that cannot reach
// GitHub: the authorization endpoint (which signs in a user the test
// chose), the token endpoint (one-time codes, S256 PKCE, client
// credentials, GitHub's error answers) and GET /user and /user/emails.
package githubtest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// User is a GitHub user.
type User struct {
	ID    int64
	Login string
	Name  string
	// Email is the public profile address ("" for none).
	Email string
	// Emails are the user's addresses, as /user/emails lists them.
	Emails []Email
}

// Email is one of a user's addresses.
type Email struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// Server is the stand-in. Its fields are set before use.
type Server struct {
	*httptest.Server
	ClientID, ClientSecret string

	mu       sync.Mutex
	signedIn *User
	deny     bool
	codes    map[string]grant
	tokens   map[string]grant
}

// grant is what a code (and then its token) stands for.
type grant struct {
	user        User
	challenge   string
	redirectURI string
	scope       string
}

// New starts a stand-in that t closes.
func New(t testing.TB) *Server {
	s := &Server{ClientID: "test-client", ClientSecret: "test-secret", codes: map[string]grant{}, tokens: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", s.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", s.token)
	mux.HandleFunc("GET /user", s.user)
	mux.HandleFunc("GET /user/emails", s.emails)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// Endpoint is the stand-in's, for github.Config.Endpoint; the API's base
// URL is s.URL.
func (s *Server) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: s.URL + "/login/oauth/authorize", TokenURL: s.URL + "/login/oauth/access_token"}
}

// SignIn makes u the user signed in at "GitHub": the next authorization
// requests grant codes for u.
func (s *Server) SignIn(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signedIn, s.deny = &u, false
}

// Deny makes the next authorization requests answer as when the user
// declines: error=access_denied.
func (s *Server) Deny() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deny = true
}

// IssueCode returns a code for u, as the authorization endpoint would
// issue without PKCE, for a client that does not use it (Lucia v1's
// @lucia-auth/oauth).
func (s *Server) IssueCode(u User, scope string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issue(s.codes, grant{user: u, scope: scope})
}

func (s *Server) issue(into map[string]grant, g grant) string {
	v := rand.Text()
	into[v] = g
	return v
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_id") != s.ClientID || err != nil || !redirect.IsAbs() {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	if m := q.Get("code_challenge_method"); q.Get("code_challenge") != "" && m != "S256" {
		http.Error(w, "code_challenge_method must be S256", http.StatusBadRequest)
		return
	}
	answer := url.Values{"state": {q.Get("state")}}
	s.mu.Lock()
	switch {
	case s.deny || s.signedIn == nil:
		answer.Set("error", "access_denied")
		answer.Set("error_description", "The user has denied your application access.")
	default:
		answer.Set("code", s.issue(s.codes, grant{user: *s.signedIn, challenge: q.Get("code_challenge"),
			redirectURI: q.Get("redirect_uri"), scope: q.Get("scope")}))
	}
	s.mu.Unlock()
	redirect.RawQuery = answer.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// token exchanges a code, as GitHub does: errors come with status 200.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
	}
	answer := func(v map[string]string) {
		if strings.Contains(r.Header.Get("Accept"), "json") {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(v)
			return
		}
		form := url.Values{}
		for k, x := range v {
			form.Set(k, x)
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		_, _ = w.Write([]byte(form.Encode()))
	}
	if id != s.ClientID || secret != s.ClientSecret {
		answer(map[string]string{"error": "incorrect_client_credentials"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	code := r.Form.Get("code")
	g, ok := s.codes[code]
	delete(s.codes, code) // one use, even a failed one
	switch {
	case !ok:
		answer(map[string]string{"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."})
	case g.challenge != "" && !matches(g.challenge, r.Form.Get("code_verifier")):
		answer(map[string]string{"error": "bad_verification_code", "error_description": "The code_verifier does not match the code_challenge."})
	case g.redirectURI != "" && r.Form.Get("redirect_uri") != "" && r.Form.Get("redirect_uri") != g.redirectURI:
		answer(map[string]string{"error": "redirect_uri_mismatch"})
	default:
		answer(map[string]string{"access_token": s.issue(s.tokens, g), "token_type": "bearer", "scope": g.scope})
	}
}

func matches(challenge, verifier string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// grantOf returns the grant of the request's bearer token.
func (s *Server) grantOf(w http.ResponseWriter, r *http.Request) (grant, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	g, known := s.tokens[token]
	s.mu.Unlock()
	if !ok || !known {
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		return grant{}, false
	}
	return g, true
}

func (s *Server) user(w http.ResponseWriter, r *http.Request) {
	g, ok := s.grantOf(w, r)
	if !ok {
		return
	}
	var email any // null when there is no public address
	if g.user.Email != "" {
		email = g.user.Email
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": g.user.ID, "login": g.user.Login, "name": g.user.Name, "email": email, "type": "User"})
}

func (s *Server) emails(w http.ResponseWriter, r *http.Request) {
	g, ok := s.grantOf(w, r)
	if !ok {
		return
	}
	scopes := strings.FieldsFunc(g.scope, func(c rune) bool { return c == ' ' || c == ',' })
	if !slices.Contains(scopes, "user:email") && !slices.Contains(scopes, "user") {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	emails := g.user.Emails
	if emails == nil {
		emails = []Email{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(emails)
}
