// Package oauth signs users in with identity providers (OAuth 2.0 and
// OpenID Connect) over package auth: the redirect to the provider, the
// callback, and linking and unlinking identities, on golang.org/x/oauth2.
//
// A provider identity is a key without password, ProviderID + ":" +
// ProviderUserID ("github:583231", "google:1098..."), which is how Lucia
// v1's @lucia-auth/oauth writes it: keys an existing Lucia application
// made sign in here unchanged. Providers live in their own packages, so
// that an application imports only the ones it uses: oauth/oidc for any
// OpenID Connect provider (on github.com/coreos/go-oidc/v3), oauth/github
// for GitHub (standard library only). This package needs nothing but the
// standard library, golang.org/x/oauth2 and package auth.
//
// # Use
//
// Two routes, inside auth's Middleware:
//
//	flow, err := oauth.New(a, oauth.Config[Profile]{
//		Providers: []oauth.Provider{google, gh},
//		NewUser: func(ctx context.Context, id oauth.Identity) (Profile, error) {
//			return Profile{Name: id.Name}, nil
//		},
//	})
//
//	mux.HandleFunc("POST /auth/{provider}", func(w http.ResponseWriter, r *http.Request) {
//		to, err := flow.SignIn(w, r, r.PathValue("provider"), r.FormValue("next"))
//		if err != nil { /* ErrUnknownProvider, ErrProviderUnavailable, a CSRF refusal */ }
//		http.Redirect(w, r, to, http.StatusSeeOther)
//	})
//	mux.HandleFunc("GET /auth/{provider}/callback", func(w http.ResponseWriter, r *http.Request) {
//		res, err := flow.Callback(w, r, r.PathValue("provider"))
//		switch {
//		case errors.Is(err, oauth.ErrAccessDenied): // the user said no
//		case errors.Is(err, oauth.ErrState):        // expired, or not begun in this browser: start again
//		case err != nil:                            // see the Err values
//		default:
//			http.Redirect(w, r, res.ReturnTo, http.StatusSeeOther)
//		}
//	})
//
// and, for signed-in users, a POST handler calling [Flow.Link] (the same
// callback completes it) and one calling [Flow.Unlink]. Each provider's
// RedirectURL is the callback's absolute URL, as registered with the
// provider.
//
// # What the flow defends against
//
// Login CSRF and forged callbacks: SignIn sets a short-lived state cookie
// (HttpOnly, SameSite=Lax, Path=/, 10 minutes, "__Host-oauth_state" in
// production) holding a fresh random state, and Callback accepts only a
// callback whose state parameter is that cookie's, then clears it. A
// callback opened in another browser, or twice, fails with [ErrState].
//
// Stolen and injected codes: every authorization request carries an S256
// PKCE challenge whose verifier stays in the state cookie, so a code
// (which travels through the browser, into logs and histories) is worth
// nothing without the browser that asked for it; the provider refuses it,
// as it refuses a code used before ([ErrCodeRejected]).
//
// Token substitution: an OpenID provider's ID token must carry the nonce
// of this sign-in, besides a valid signature, issuer, audience and expiry
// ([ErrInvalidIdentity]).
//
// Open redirects: the return path given to SignIn is kept only if it is a
// path on this site, checked again at the callback (the cookie is the
// browser's to edit); "//evil.example", "/\evil.example" and the like
// become "/".
//
// Account takeover by email: a new identity never joins an existing
// account by its email address unless the application asks for it
// ([Config].FindUserByEmail) and the provider verified the address
// ([ErrEmailUnverified]).
//
// Linking CSRF: [Flow.Link] takes only a POST that passes auth's CSRF
// check, from a signed-in user, and its callback must arrive in the same
// session (the state cookie holds a hash of its id), so no other site can
// link an identity of its choosing to a user's account. Linking adds a way
// into the account: confirm the user before it, as before a password
// change.
//
// Unlinking never removes the last way to log in ([ErrLastLoginMethod]),
// also under concurrent unlinks, nor the primary key a user was created
// with ([ErrPrimaryIdentity]): as in Lucia v1, that goes only with the
// user.
//
// # Providers down, and time
//
// Every request to a provider uses [Config].HTTPClient (default: a
// 10-second bound per request) and the request's context; a provider that
// cannot be reached gives [ErrProviderUnavailable]. The state cookie's own
// expiry is checked on the server, whatever the browser keeps.
//
// # Sessions
//
// A sign-in starts its session as [auth.Auth.StartSession] does: the
// request's sessions end, a new session id goes into the cookie (no
// session fixation), and Config.SessionAttributes describe the device. The
// callback is a cross-site navigation from the provider, so the session
// cookie must be SameSite Lax (auth's default) for a link's callback to
// see the signed-in user; with Strict, Link's callback fails with
// auth.ErrNotAuthenticated.
package oauth
