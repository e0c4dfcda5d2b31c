package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/oauth"
	"github.com/luciago/mongoauth/oauth/oidc"
)

// "Sign in with ..." for one OpenID Connect provider, when the command
// line (or the environment) names one: the buttons on the login and
// sign-up pages, the callback, and the sign-in methods page where a user
// links the provider to their account and unlinks it. Without a provider
// none of it shows.

// oidcProvider is the provider id of the keys the provider's users get:
// "oidc:<subject>". Subjects are unique per issuer, so one database
// serves one issuer.
const oidcProvider = "oidc"

// providerOptions are the command line's provider settings.
type providerOptions struct {
	issuer, clientID, clientSecret, name, publicURL string
}

// providerFlags defines the provider flags on flags; each defaults to an
// environment variable, so that the secret need not be on the command line.
func providerFlags(flags *flag.FlagSet) *providerOptions {
	o := &providerOptions{}
	env := func(name, fallback string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return fallback
	}
	flags.StringVar(&o.issuer, "oidc-issuer", env("OIDC_ISSUER", ""), "OpenID provider's issuer `URL` (env OIDC_ISSUER); none: no provider sign-in")
	flags.StringVar(&o.clientID, "oidc-client-id", env("OIDC_CLIENT_ID", ""), "the app's client `id` at the provider (env OIDC_CLIENT_ID)")
	flags.StringVar(&o.clientSecret, "oidc-client-secret", env("OIDC_CLIENT_SECRET", ""), "the app's client `secret` (env OIDC_CLIENT_SECRET, better than the flag)")
	flags.StringVar(&o.name, "oidc-name", env("OIDC_NAME", "your identity provider"), "the provider's `name` on the buttons (env OIDC_NAME)")
	flags.StringVar(&o.publicURL, "public-url", env("PUBLIC_URL", ""), "the `URL` browsers reach the app at, for the provider's callback (env PUBLIC_URL); default http://<addr> in development")
	return o
}

// providerButton is one provider on the pages.
type providerButton struct{ ID, Name string }

// methodView is one way to sign in, on the sign-in methods page.
type methodView struct {
	Label string
	// Provider and ProviderUserID name an identity that may be unlinked;
	// empty for the password, and for the identity the account was made
	// with (Primary).
	Provider, ProviderUserID string
	Primary                  bool
}

// oauthSetup is the app's provider sign-in; nil without a provider.
type oauthSetup struct {
	flow    *oauth.Flow[Account]
	buttons []providerButton
	// formAction is added to the pages' CSP form-action: the buttons post
	// to the app, which redirects the form's navigation to the provider.
	formAction string
}

// setUpOAuth configures the provider of o, if o names one; base is the
// app's URL when o has no public URL.
func (a *app) setUpOAuth(o *providerOptions, base string, development bool) error {
	if o.issuer == "" {
		return nil
	}
	if o.publicURL == "" && !development {
		return errors.New("-oidc-issuer needs -public-url (the https URL the provider sends browsers back to)")
	}
	if o.publicURL != "" {
		base = strings.TrimSuffix(o.publicURL, "/")
	}
	issuer, err := url.Parse(o.issuer)
	if err != nil || issuer.Host == "" {
		return fmt.Errorf("-oidc-issuer %q is not a URL", o.issuer)
	}
	provider, err := oidc.New(oidc.Config{ID: oidcProvider, Issuer: o.issuer, ClientID: o.clientID, ClientSecret: o.clientSecret,
		RedirectURL: base + "/oauth/" + oidcProvider + "/callback"})
	if err != nil {
		return err
	}
	flow, err := oauth.New(a.auth, oauth.Config[Account]{
		Providers: []oauth.Provider{provider},
		NewUser: func(_ context.Context, id oauth.Identity) (Account, error) {
			return Account{Name: displayName(id), Joined: time.Now()}, nil
		},
	})
	if err != nil {
		return err
	}
	a.oauth = &oauthSetup{flow: flow, buttons: []providerButton{{oidcProvider, o.name}},
		formAction: issuer.Scheme + "://" + issuer.Host}
	return nil
}

// displayName is what the app calls a user a provider signed up: no
// username (that is the password key's), a name to show.
func displayName(id oauth.Identity) string {
	for _, name := range []string{id.Name, id.Username} {
		if name = strings.TrimSpace(name); name != "" {
			return name
		}
	}
	return "user " + id.ProviderUserID
}

// DisplayName is the name the pages show: the username, or the name a
// provider gave an account made by signing in with it.
func (acc Account) DisplayName() string {
	if acc.Username != "" {
		return acc.Username
	}
	return acc.Name
}

// oauthRoutes adds the provider routes: for visitors to mux, for signed-in
// users to user.
func (a *app) oauthRoutes(mux, user *http.ServeMux) {
	if a.oauth == nil {
		return
	}
	mux.HandleFunc("POST /oauth/{provider}/signin", a.providerSignIn)
	mux.HandleFunc("GET /oauth/{provider}/callback", a.providerCallback)
	user.HandleFunc("GET /methods", func(w http.ResponseWriter, r *http.Request) {
		a.render(w, r, http.StatusOK, "methods", view{Notice: notice(r)})
	})
	user.HandleFunc("POST /methods/link", a.linkProvider)
	user.HandleFunc("POST /methods/unlink", a.unlinkProvider)
	user.HandleFunc("POST /oauth/{provider}/confirm", a.confirmWithProvider)
}

// formActionSources is the CSP form-action list.
func (a *app) formActionSources() string {
	if a.oauth == nil {
		return "'self'"
	}
	return "'self' " + a.oauth.formAction
}

// oauthView adds what the provider parts of page show to v.
func (a *app) oauthView(r *http.Request, page string, v *view) {
	if a.oauth == nil {
		return
	}
	v.Providers = a.oauth.buttons
	if page != "methods" || v.User == nil {
		return
	}
	keys, err := a.auth.UserKeys(r.Context(), v.User.ID)
	if err != nil {
		slog.ErrorContext(r.Context(), "sign-in methods", "err", err)
		return
	}
	for _, k := range keys {
		m := methodView{Primary: k.Primary}
		switch k.ProviderID {
		case usernameProvider:
			m.Label = "Password, as " + k.ProviderUserID
		case oidcProvider:
			m.Label = a.oauth.buttons[0].Name + " (account " + k.ProviderUserID + ")"
			m.Provider, m.ProviderUserID = k.ProviderID, k.ProviderUserID
		default:
			continue
		}
		v.Methods = append(v.Methods, m)
	}
}

// providerName is the provider's name on the pages.
func (a *app) providerName(id string) string {
	for _, b := range a.oauth.buttons {
		if b.ID == id {
			return b.Name
		}
	}
	return id
}

func (a *app) providerSignIn(w http.ResponseWriter, r *http.Request) {
	to, err := a.oauth.flow.SignIn(w, r, r.PathValue("provider"), "/")
	a.toProvider(w, r, "login", to, err)
}

// toProvider sends the browser to the provider's URL to, or answers err
// on page.
func (a *app) toProvider(w http.ResponseWriter, r *http.Request, page, to string, err error) {
	if err != nil {
		a.providerRefusal(w, r, page, err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// linkProvider confirms the password, where the account has one (a link
// is a new way into the account), and sends the browser to the provider.
func (a *app) linkProvider(w http.ResponseWriter, r *http.Request) {
	user := currentUser(r)
	if user.Attributes.Username != "" && !a.checkPassword(w, r, "methods", user, r.PostFormValue("password")) {
		return
	}
	to, err := a.oauth.flow.Link(w, r, r.PostFormValue("provider"), "/methods")
	a.toProvider(w, r, "methods", to, err)
}

func (a *app) unlinkProvider(w http.ResponseWriter, r *http.Request) {
	err := a.oauth.flow.Unlink(r.Context(), currentUser(r).ID, r.PostFormValue("provider"), r.PostFormValue("id"))
	switch {
	case err == nil:
		http.Redirect(w, r, "/methods?done=unlinked", http.StatusSeeOther)
	case errors.Is(err, oauth.ErrLastLoginMethod), errors.Is(err, oauth.ErrPrimaryIdentity):
		a.render(w, r, http.StatusConflict, "methods", view{Error: msgLastMethod})
	case errors.Is(err, auth.ErrInvalidKeyID), errors.Is(err, oauth.ErrUnknownProvider):
		a.render(w, r, http.StatusNotFound, "methods", view{Error: msgMethodGone})
	default:
		a.failed(w, r, err)
	}
}

// providerCallback completes a sign-in or a link.
func (a *app) providerCallback(w http.ResponseWriter, r *http.Request) {
	res, err := a.oauth.flow.Callback(w, r, r.PathValue("provider"))
	switch {
	case err == nil && res.Linking:
		http.Redirect(w, r, "/methods?done=linked", http.StatusSeeOther)
	case err == nil:
		http.Redirect(w, r, res.ReturnTo, http.StatusSeeOther)
	case errors.Is(err, auth.ErrNotAuthenticated):
		http.Redirect(w, r, "/login", http.StatusSeeOther) // a link's session ended meanwhile
	default:
		page := "login"
		if _, ok := auth.UserFromContext[Account](r.Context()); ok {
			page = "methods"
		}
		a.providerRefusal(w, r, page, err)
	}
}

// providerRefusal answers a failed provider step on page.
func (a *app) providerRefusal(w http.ResponseWriter, r *http.Request, page string, err error) {
	provider := r.PathValue("provider")
	if provider == "" {
		provider = r.PostFormValue("provider")
	}
	name := a.providerName(provider)
	status, msg := http.StatusBadRequest, ""
	switch {
	case errors.Is(err, oauth.ErrAccessDenied):
		msg = fmt.Sprintf("You cancelled signing in with %s.", name)
	case errors.Is(err, oauth.ErrState), errors.Is(err, oauth.ErrCodeRejected):
		msg = msgSignInExpired
	case errors.Is(err, oauth.ErrProviderUnavailable):
		status, msg = http.StatusServiceUnavailable, fmt.Sprintf("%s cannot be reached right now. Please try again later.", name)
	case errors.Is(err, oauth.ErrIdentityTaken):
		status, msg = http.StatusConflict, fmt.Sprintf("That %s account is already linked to another account here.", name)
	case errors.Is(err, oauth.ErrInvalidIdentity), errors.Is(err, oauth.ErrUnknownProvider):
		slog.WarnContext(r.Context(), "provider sign-in refused", "err", err)
		msg = msgSignInExpired
	case errors.Is(err, auth.ErrInvalidRequest):
		status, msg = http.StatusForbidden, msgCrossOrigin
	default:
		a.failed(w, r, err)
		return
	}
	a.render(w, r, status, page, view{Error: msg})
}

const (
	msgSignInExpired = "That sign-in expired or was not started in this browser. Please try again."
	msgLastMethod    = "That is how you sign in to this account, so it stays. Add another way to sign in first."
	msgMethodGone    = "That sign-in method is not linked any more. The list below is up to date."
)

// recentSignIn is how long after a sign-in a provider account, which has
// no password to ask for, may be deleted.
const recentSignIn = 5 * time.Minute

// confirmWithProvider signs in again with the provider and comes back to
// the delete page: the fresh session confirms a provider account's
// deletion (deleteAccount).
func (a *app) confirmWithProvider(w http.ResponseWriter, r *http.Request) {
	to, err := a.oauth.flow.SignIn(w, r, r.PathValue("provider"), "/delete")
	a.toProvider(w, r, "delete", to, err)
}

// signedInRecently reports whether the request's session began within
// recentSignIn.
func signedInRecently(r *http.Request) bool {
	session, ok := auth.SessionFromContext(r.Context())
	return ok && !session.IssuedAt.IsZero() && time.Since(session.IssuedAt) <= recentSignIn
}
