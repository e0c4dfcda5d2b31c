package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/luciago/mongoauth/auth"
)

// DefaultStateMaxAge is how long a sign-in may take at the provider
// unless Config.StateMaxAge says otherwise.
const DefaultStateMaxAge = 10 * time.Minute

// DefaultCookieName is the state cookie's name unless Config.CookieName
// says otherwise; in production (a Secure session cookie) it carries the
// "__Host-" prefix.
const DefaultCookieName = "oauth_state"

// Config configures a Flow. Providers and NewUser are required; every
// other field documents its default.
type Config[A any] struct {
	// Providers are the identity providers users may sign in with, each
	// with its own id.
	Providers []Provider

	// NewUser returns the attributes of the user that a first sign-in
	// with a new identity creates: the user and its key (the identity,
	// as a primary key without password) are stored together, or neither
	// is. An error refuses the sign-in and is returned by Callback (to
	// admit only some email domains, say). Identity.Email may be
	// unverified: check EmailVerified before storing it as the user's
	// address.
	NewUser func(ctx context.Context, id Identity) (A, error)

	// FindUserByEmail, when set, lets a new identity join an existing
	// account that has its email address: it returns the id of the user
	// with that address ("" for none), looked up as the application
	// stores addresses (an email key, an attribute with a unique index).
	// The identity is linked to that user, and the user signed in, only
	// if the provider says it verified the address; otherwise Callback
	// fails with ErrEmailUnverified and links nothing. Default nil: a
	// new identity always makes a new user, and an application that
	// keeps addresses unique sees its duplicate-value error
	// (auth.ErrDuplicateValue) from Callback instead.
	FindUserByEmail func(ctx context.Context, email string) (userID string, err error)

	// HTTPClient makes every request to the providers (discovery, token,
	// keys, user data); default: http.DefaultTransport with a 10-second
	// bound on each request.
	HTTPClient *http.Client

	// StateMaxAge is how long a sign-in may take between SignIn (or Link)
	// and Callback; default DefaultStateMaxAge (10 minutes).
	StateMaxAge time.Duration
	// CookieName names the state cookie; default DefaultCookieName. When
	// the Auth's session cookie is Secure (production), the name gets the
	// "__Host-" prefix, so that no other subdomain can plant a state
	// cookie.
	CookieName string

	// Now returns the current time; default time.Now.
	Now func() time.Time
}

// Flow is the sign-in with identity providers over an auth.Auth: the
// redirect to the provider and the callback, linking and unlinking. It is
// safe for concurrent use. See the package documentation for how to use
// it and what it defends against.
type Flow[A any] struct {
	auth            *auth.Auth[A]
	providers       map[string]Provider
	order           []Provider
	newUser         func(ctx context.Context, id Identity) (A, error)
	findUserByEmail func(ctx context.Context, email string) (string, error)
	httpClient      *http.Client
	stateMaxAge     time.Duration
	cookieName      string
	secure          bool
	now             func() time.Time
}

// New returns a Flow that signs users in to a. The state cookie is Secure
// and named with the "__Host-" prefix exactly when a's session cookie is
// Secure, that is unless a runs with auth.Config.Development.
func New[A any](a *auth.Auth[A], config Config[A]) (*Flow[A], error) {
	if a == nil {
		return nil, errors.New("oauth: nil Auth")
	}
	if config.NewUser == nil {
		return nil, errors.New("oauth: Config.NewUser is required")
	}
	f := &Flow[A]{
		auth:            a,
		providers:       make(map[string]Provider, len(config.Providers)),
		newUser:         config.NewUser,
		findUserByEmail: config.FindUserByEmail,
		httpClient:      config.HTTPClient,
		stateMaxAge:     config.StateMaxAge,
		cookieName:      config.CookieName,
		now:             config.Now,
		// The session cookie's Secure flag is the Auth's production mode.
		secure: a.SessionCookie(auth.Session{}).Secure,
	}
	for _, p := range config.Providers {
		id := p.ID()
		if id == "" || strings.IndexByte(id, ':') >= 0 {
			return nil, fmt.Errorf("oauth: provider id %q: must be non-empty and without ':'", id)
		}
		if _, dup := f.providers[id]; dup {
			return nil, fmt.Errorf("oauth: two providers with id %q", id)
		}
		f.providers[id] = p
		f.order = append(f.order, p)
	}
	if f.httpClient == nil {
		f.httpClient = defaultHTTPClient
	}
	switch {
	case f.stateMaxAge < 0:
		return nil, errors.New("oauth: negative StateMaxAge")
	case f.stateMaxAge == 0:
		f.stateMaxAge = DefaultStateMaxAge
	}
	if f.cookieName == "" {
		f.cookieName = DefaultCookieName
	}
	switch {
	case f.secure && !strings.HasPrefix(f.cookieName, "__Host-"):
		f.cookieName = "__Host-" + f.cookieName
	case !f.secure && (strings.HasPrefix(f.cookieName, "__Host-") || strings.HasPrefix(f.cookieName, "__Secure-")):
		// Browsers would drop it: every sign-in would fail with ErrState.
		return nil, fmt.Errorf("oauth: a %s cookie needs production mode (a Secure session cookie)", f.cookieName)
	}
	if err := f.stateCookie("x", 1).Valid(); err != nil {
		return nil, fmt.Errorf("oauth: state cookie: %w", err)
	}
	if f.now == nil {
		f.now = time.Now
	}
	return f, nil
}

// Providers returns the Flow's providers, in the order of
// Config.Providers.
func (f *Flow[A]) Providers() []Provider { return append([]Provider(nil), f.order...) }

// Provider returns the provider with the id, or ErrUnknownProvider.
func (f *Flow[A]) Provider(id string) (Provider, error) {
	p, ok := f.providers[id]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownProvider, id)
	}
	return p, nil
}

// providerContext is ctx with the HTTP client for provider requests, under
// the key x/oauth2 and go-oidc read.
func (f *Flow[A]) providerContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, f.httpClient)
}

// SignIn begins a sign-in with the provider: it sets the state cookie and
// returns the provider's authorization URL, to which the caller redirects
// the browser (303 See Other). The request carries a fresh state, an S256
// PKCE challenge and, for OpenID providers, a nonce; the cookie keeps
// them, with returnTo, for Callback. returnTo is where Callback's result
// sends the user afterwards: a path on this site, or "/" if it is
// anything else (see Result.ReturnTo). A second SignIn in the same
// browser replaces the first, whose callback then fails with ErrState.
//
// Mount SignIn on POST (a form button): like any state-changing request it
// then passes auth's CSRF check (Auth.CheckOrigin), so that no other site
// can start a sign-in in the user's browser. On GET it runs too, for
// "Sign in with ..." links, at the cost of that check.
func (f *Flow[A]) SignIn(w http.ResponseWriter, r *http.Request, providerID, returnTo string) (string, error) {
	if err := f.auth.CheckOrigin(r); err != nil {
		return "", err
	}
	return f.begin(w, r, providerID, returnTo, "")
}

// Link begins linking a provider identity to the signed-in user, as
// SignIn begins a sign-in: Callback then adds the identity to the user's
// keys instead of signing in. The request must be a POST that passes the
// CSRF check (else an error matching auth.ErrInvalidRequest), from a
// user signed in by auth's Middleware (else auth.ErrNotAuthenticated):
// another site that could start a link in a user's browser could link an
// identity of its choosing to the user's account (one signed into at the
// provider by login CSRF there), and log in as the user with it ever
// after.
//
// Linking adds a way into the account: confirm the user first, as before
// a password change (ask for the current password, or a recent sign-in).
func (f *Flow[A]) Link(w http.ResponseWriter, r *http.Request, providerID, returnTo string) (string, error) {
	if r.Method != http.MethodPost {
		return "", fmt.Errorf("%w: Link takes a POST, not %s", auth.ErrInvalidRequest, r.Method)
	}
	if err := f.auth.CheckOrigin(r); err != nil {
		return "", err
	}
	if _, ok := auth.UserFromContext[A](r.Context()); !ok {
		return "", auth.ErrNotAuthenticated
	}
	sessionID, ok := f.auth.SessionID(r)
	if !ok {
		return "", auth.ErrNotAuthenticated
	}
	return f.begin(w, r, providerID, returnTo, sessionHash(sessionID))
}

// begin sets the state cookie and returns the authorization URL.
func (f *Flow[A]) begin(w http.ResponseWriter, r *http.Request, providerID, returnTo, link string) (string, error) {
	p, err := f.Provider(providerID)
	if err != nil {
		return "", err
	}
	cfg, err := p.OAuth2Config(f.providerContext(r.Context()))
	if err != nil {
		return "", err
	}
	if cfg.RedirectURL == "" {
		return "", fmt.Errorf("oauth: provider %s has no RedirectURL", providerID)
	}
	s := newFlowState(providerID, localPath(returnTo), link, f.now().Add(f.stateMaxAge))
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(s.Verifier)}, p.AuthCodeOptions(s.Nonce)...)
	authURL := cfg.AuthCodeURL(s.State, opts...)
	f.setStateCookie(w, s)
	return authURL, nil
}

// Result is what a successful Callback did.
type Result struct {
	// Identity is who the provider says signed in.
	Identity Identity
	// UserID is the user signed in, or linked to.
	UserID string
	// Session is the new session, whose cookie Callback has set; zero
	// after a link (Linking), which keeps the user's session.
	Session auth.Session
	// Linking says that Link began this flow.
	Linking bool
	// Created says that a new user was created with the identity.
	Created bool
	// Linked says that the identity was added to an existing user's keys:
	// by Link, or at a sign-in through a verified email address
	// (Config.FindUserByEmail). False when it was linked already.
	Linked bool
	// ReturnTo is the path given to SignIn or Link if it is one on this
	// site, else "/": redirect there.
	ReturnTo string
}

// Callback completes a sign-in or link at the provider's redirect back to
// the application (the RedirectURL, a GET). providerID is the provider
// the callback is for, as the application's route names it.
//
// It checks, in this order, that the browser holds the state cookie whose
// state is the callback's (else ErrState) and clears it; that the
// provider reported no error (a *ProviderError: ErrAccessDenied when the
// user declined); it exchanges the code, with the PKCE verifier, for a
// token (ErrCodeRejected, ErrProviderUnavailable) and asks the provider
// who signed in (ErrInvalidIdentity). Then:
//
//   - an identity with a key signs its user in: a new session, as
//     auth.Auth.StartSession makes one (the request's sessions are
//     ended, the cookie set);
//   - a new identity whose verified email address belongs to a user
//     (Config.FindUserByEmail) is linked to that user, who is signed in;
//     with an unverified address, ErrEmailUnverified and nothing changes;
//   - any other new identity creates a user (Config.NewUser) and its
//     primary key together, or neither, and signs it in;
//   - for a flow begun by Link, the identity is added to the user of the
//     request's session, which must be the session the link began in
//     (else ErrState); an identity of another user gives
//     ErrIdentityTaken, one already the user's changes nothing.
//
// Two callbacks of one new identity at once (two tabs) make one user: the
// second finds the key the first created and signs in to it. Callback
// must run inside auth's Middleware for links; sign-ins do not need it.
func (f *Flow[A]) Callback(w http.ResponseWriter, r *http.Request, providerID string) (Result, error) {
	p, err := f.Provider(providerID)
	if err != nil {
		return Result{}, err
	}
	s, err := f.readState(w, r, providerID)
	if err != nil {
		return Result{}, err
	}
	res := Result{Linking: s.Link != "", ReturnTo: localPath(s.ReturnTo)}
	var linkUser string
	if res.Linking {
		// Before any request to the provider: a link that cannot be
		// completed should not spend the code.
		if linkUser, err = f.linkingUser(r, s.Link); err != nil {
			return Result{}, err
		}
	}
	query := r.URL.Query()
	if code := query.Get("error"); code != "" {
		return Result{}, &ProviderError{Provider: providerID, Code: code,
			Description: query.Get("error_description"), URI: query.Get("error_uri")}
	}
	code := query.Get("code")
	if code == "" {
		return Result{}, fmt.Errorf("%w: the callback has no code", ErrCodeRejected)
	}
	ctx := f.providerContext(r.Context())
	cfg, err := p.OAuth2Config(ctx)
	if err != nil {
		return Result{}, err
	}
	token, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(s.Verifier))
	if err != nil {
		return Result{}, exchangeError(providerID, err)
	}
	id, err := p.Identity(ctx, token, s.Nonce)
	if err != nil {
		return Result{}, err
	}
	id.Provider = providerID
	if id.ProviderUserID == "" {
		return Result{}, fmt.Errorf("%w: provider %s named no user id", ErrInvalidIdentity, providerID)
	}
	res.Identity = id
	if res.Linking {
		return f.link(r.Context(), linkUser, res)
	}
	return f.signIn(w, r, res)
}

// linkingUser returns the signed-in user of a link's callback, whose
// session must be the one the link began in (link, its sessionHash).
func (f *Flow[A]) linkingUser(r *http.Request, link string) (string, error) {
	user, ok := auth.UserFromContext[A](r.Context())
	sessionID, hasSession := f.auth.SessionID(r)
	switch {
	case !ok || !hasSession:
		return "", auth.ErrNotAuthenticated
	case !equal(sessionHash(sessionID), link):
		return "", stateError("the link began in another session")
	}
	return user.ID, nil
}
