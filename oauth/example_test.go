package oauth_test

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/oauth"
	"github.com/luciago/mongoauth/oauth/github"
	"github.com/luciago/mongoauth/oauth/oidc"
)

// Profile is an application's user attributes.
type Profile struct {
	Name  string `auth:"name,omitempty"`
	Email string `auth:"email,omitempty"`
}

// Sign-in with Google (OpenID Connect) and GitHub beside passwords.
func Example() {
	var a *auth.Auth[Profile] // auth.New over any adapter

	google, err := oidc.New(oidc.Config{
		ID:           "google",
		Issuer:       "https://accounts.google.com",
		ClientID:     os.Getenv("GOOGLE_CLIENT_ID"),
		ClientSecret: os.Getenv("GOOGLE_CLIENT_SECRET"),
		RedirectURL:  "https://app.example/auth/google/callback",
	})
	if err != nil {
		log.Fatal(err)
	}
	gh, err := github.New(github.Config{
		ClientID:     os.Getenv("GITHUB_CLIENT_ID"),
		ClientSecret: os.Getenv("GITHUB_CLIENT_SECRET"),
		RedirectURL:  "https://app.example/auth/github/callback",
	})
	if err != nil {
		log.Fatal(err)
	}
	flow, err := oauth.New(a, oauth.Config[Profile]{
		Providers: []oauth.Provider{google, gh},
		// The attributes of a user made by a first sign-in.
		NewUser: func(_ context.Context, id oauth.Identity) (Profile, error) {
			p := Profile{Name: id.Name}
			if id.EmailVerified {
				p.Email = id.Email
			}
			return p, nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	// "Sign in with ...": a form button posting here.
	mux.HandleFunc("POST /auth/{provider}", func(w http.ResponseWriter, r *http.Request) {
		to, err := flow.SignIn(w, r, r.PathValue("provider"), r.FormValue("next"))
		if err != nil {
			http.Error(w, "cannot sign in with that provider now", http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	})
	// The provider sends the browser back here.
	mux.HandleFunc("GET /auth/{provider}/callback", func(w http.ResponseWriter, r *http.Request) {
		res, err := flow.Callback(w, r, r.PathValue("provider"))
		switch {
		case errors.Is(err, oauth.ErrAccessDenied):
			http.Redirect(w, r, "/login?cancelled", http.StatusSeeOther)
		case errors.Is(err, oauth.ErrState), errors.Is(err, oauth.ErrCodeRejected):
			http.Error(w, "this sign-in has expired; please start again", http.StatusBadRequest)
		case errors.Is(err, oauth.ErrProviderUnavailable):
			http.Error(w, "the provider cannot be reached; try again later", http.StatusServiceUnavailable)
		case err != nil:
			log.Print(err)
			http.Error(w, "sign-in failed", http.StatusInternalServerError)
		default:
			http.Redirect(w, r, res.ReturnTo, http.StatusSeeOther)
		}
	})
	log.Fatal(http.ListenAndServe(":8080", a.Middleware(mux)))
}

// Linking a provider to the signed-in user's account, and unlinking it.
func ExampleFlow_Link() {
	var (
		a    *auth.Auth[Profile]
		flow *oauth.Flow[Profile]
		mux  = http.NewServeMux()
	)
	mux.Handle("POST /account/link/{provider}", a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Confirm the user first (their password, say): a link is a new
		// way into the account.
		to, err := flow.Link(w, r, r.PathValue("provider"), "/account")
		if err != nil {
			http.Error(w, "cannot link now", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	})))
	// The callback route of Example completes the link; its Result has
	// Linking set and ReturnTo "/account".
	mux.Handle("POST /account/unlink/{provider}", a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := auth.UserFromContext[Profile](r.Context())
		err := flow.Unlink(r.Context(), user.ID, r.PathValue("provider"), r.FormValue("id"))
		switch {
		case errors.Is(err, oauth.ErrLastLoginMethod), errors.Is(err, oauth.ErrPrimaryIdentity):
			http.Error(w, "that is how you sign in; add another way first", http.StatusConflict)
		case err != nil:
			http.Error(w, "cannot unlink now", http.StatusInternalServerError)
		default:
			http.Redirect(w, r, "/account", http.StatusSeeOther)
		}
	})))
}

// Letting a new identity join the account that has its email address,
// when (and only when) the provider verified the address. Here addresses
// are "email" keys, stored in lower case.
func ExampleConfig_findUserByEmail() {
	var a *auth.Auth[Profile]
	config := oauth.Config[Profile]{
		FindUserByEmail: func(ctx context.Context, email string) (string, error) {
			key, err := a.GetKey(ctx, "email", email)
			if errors.Is(err, auth.ErrInvalidKeyID) {
				return "", nil
			}
			return key.UserID, err
		},
	}
	_ = config
}
