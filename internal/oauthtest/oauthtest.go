// Package oauthtest runs package oauth's flow for tests: an OpenID
// provider in the test process (mockoidc, a real one over HTTP), a small
// application on the Flow, the storages the flow runs on, and a browser
// (a cookie jar that follows redirects) to walk the redirect dance.
package oauthtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/mongotest"
	"github.com/luciago/mongoauth/oauth"
	"github.com/luciago/mongoauth/oauth/oidc"
	"github.com/luciago/mongoauth/sqlauth"
	"github.com/luciago/mongoauth/sqlauth/postgres/postgrestest"
	"github.com/luciago/mongoauth/sqlauth/sqlite"
)

// Context is a test's context: a minute long, cancelled when t ends.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Storage is one adapter the flow tests run on.
type Storage struct {
	Name string
	// Open returns a fresh, empty adapter, or skips t when the database
	// is not there.
	Open func(t testing.TB) auth.Adapter
}

// Storages are MongoDB (mongotest: FerretDB here), SQLite and, when
// POSTGRES_DSN is set, PostgreSQL. A package using them runs its tests
// through mongotest.Main.
func Storages() []Storage {
	return []Storage{
		{"MongoDB", func(t testing.TB) auth.Adapter {
			a, err := mongoauth.New(Context(t), mongotest.Database(t), mongoauth.Options{})
			require.NoError(t, err)
			_, err = a.EnsureIndexes(Context(t))
			require.NoError(t, err)
			return a
		}},
		{"SQLite", func(t testing.TB) auth.Adapter {
			db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(t.TempDir(), "auth.db")))
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			a, err := sqlite.New(Context(t), db, sqlauth.Options{})
			require.NoError(t, err)
			require.NoError(t, a.CreateTables(Context(t)))
			return a
		}},
		{"PostgreSQL", func(t testing.TB) auth.Adapter {
			a, _ := postgrestest.Database(t).Open(t, sqlauth.Options{}) // skips without POSTGRES_DSN
			return a
		}},
	}
}

// IDP is an OpenID provider in the test process: mockoidc, which serves
// discovery, keys, authorization (signing in the next queued user, or
// mockoidc's default one), token (one-time codes, PKCE) and userinfo over
// HTTP, with RS256-signed ID tokens.
type IDP struct {
	*mockoidc.MockOIDC
	deny    atomic.Bool
	failing sync.Map // path → true: answer 503
}

// StartIDP starts a provider that t stops.
func StartIDP(t testing.TB) *IDP {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	require.NoError(t, err)
	idp := &IDP{MockOIDC: m}
	var serial sync.Mutex
	require.NoError(t, m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// mockoidc's stores have no locks of their own.
			serial.Lock()
			defer serial.Unlock()
			if _, failing := idp.failing.Load(r.URL.Path); failing {
				http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
			if r.URL.Path == mockoidc.AuthorizationEndpoint && idp.deny.Load() {
				redirectError(w, r, "access_denied")
				return
			}
			next.ServeHTTP(w, r)
		})
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, m.Start(ln, nil))
	t.Cleanup(func() { _ = m.Shutdown() })
	return idp
}

// redirectError answers an authorization request as a provider does when
// the user declines.
func redirectError(w http.ResponseWriter, r *http.Request, code string) {
	to, err := url.Parse(r.FormValue("redirect_uri"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	to.RawQuery = url.Values{"error": {code}, "state": {r.FormValue("state")}}.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

// Deny makes the provider answer authorization requests as when the user
// declines (error=access_denied), or again normally.
func (p *IDP) Deny(deny bool) { p.deny.Store(deny) }

// Fail makes the provider answer requests for path (mockoidc.JWKSEndpoint,
// say) with 503 Service Unavailable, or again normally.
func (p *IDP) Fail(path string, fail bool) {
	if fail {
		p.failing.Store(path, true)
	} else {
		p.failing.Delete(path)
	}
}

// Provider returns an oidc.Provider for p under the provider id, with
// scopes (default oidc.DefaultScopes).
func (p *IDP) Provider(t testing.TB, id, redirectURL string, scopes ...string) *oidc.Provider {
	t.Helper()
	provider, err := oidc.New(oidc.Config{ID: id, Issuer: p.Issuer(), ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL: redirectURL, Scopes: scopes})
	require.NoError(t, err)
	return provider
}

// Providers is AppConfig.Providers for p alone, under the provider id.
func (p *IDP) Providers(t testing.TB, id string, scopes ...string) func(callback func(string) string) []oauth.Provider {
	return func(callback func(string) string) []oauth.Provider {
		return []oauth.Provider{p.Provider(t, id, callback(id), scopes...)}
	}
}

// Profile is the test application's user attributes.
type Profile struct {
	Name  string `auth:"name,omitempty"`
	Email string `auth:"email,omitempty"`
}

// PasswordProvider names the application's password keys.
const PasswordProvider = "username"

// Outcome is what a callback returned.
type Outcome struct {
	Result oauth.Result
	Err    error
}

// App is a small application on a Flow, served over HTTP:
//
//	POST /signin/{provider}?next=   Flow.SignIn, then 303 to the provider
//	POST /link/{provider}?next=     Flow.Link (any method, to see refusals)
//	GET  /callback/{provider}      Flow.Callback, then 303 to Result.ReturnTo
//	POST /login                    a password login (username, password)
//	GET  /me                       the signed-in user's id, or 401
//
// all inside auth's Middleware. Refused requests answer 403 with the
// error's text.
type App struct {
	URL     string
	Adapter auth.Adapter
	Auth    *auth.Auth[Profile]
	Flow    *oauth.Flow[Profile]

	mu       sync.Mutex
	outcomes []Outcome
}

// AppConfig configures an App; Providers is required.
type AppConfig struct {
	Adapter auth.Adapter
	// Providers makes the providers, given the callback URL of a
	// provider id.
	Providers func(callback func(providerID string) string) []oauth.Provider
	// Auth and Flow change the configurations; by default Development
	// mode, a fast password hasher, and NewUser storing the name and a
	// verified address.
	Auth func(*auth.Config)
	Flow func(*oauth.Config[Profile])
}

// StartApp serves an App that t stops.
func StartApp(t testing.TB, c AppConfig) *App {
	t.Helper()
	app := &App{Adapter: c.Adapter}
	server := httptest.NewUnstartedServer(nil)
	app.URL = "http://" + server.Listener.Addr().String()
	authConfig := auth.Config{Development: true, PasswordHasher: auth.InsecureFastHasher()}
	if c.Auth != nil {
		c.Auth(&authConfig)
	}
	var err error
	app.Auth, err = auth.New[Profile](c.Adapter, authConfig)
	require.NoError(t, err)
	flowConfig := oauth.Config[Profile]{
		Providers: c.Providers(func(id string) string { return app.URL + "/callback/" + id }),
		NewUser: func(_ context.Context, id oauth.Identity) (Profile, error) {
			p := Profile{Name: id.Name}
			if id.EmailVerified {
				p.Email = id.Email
			}
			return p, nil
		},
	}
	if c.Flow != nil {
		c.Flow(&flowConfig)
	}
	app.Flow, err = oauth.New(app.Auth, flowConfig)
	require.NoError(t, err)
	server.Config.Handler = app.Auth.Middleware(app.routes())
	server.Start()
	t.Cleanup(server.Close)
	return app
}

func (app *App) routes() http.Handler {
	mux := http.NewServeMux()
	begin := func(start func(http.ResponseWriter, *http.Request, string, string) (string, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			to, err := start(w, r, r.PathValue("provider"), r.URL.Query().Get("next"))
			if err != nil {
				http.Error(w, err.Error(), http.StatusForbidden)
				return
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
		}
	}
	mux.HandleFunc("POST /signin/{provider}", begin(app.Flow.SignIn))
	mux.HandleFunc("/link/{provider}", begin(app.Flow.Link))
	mux.HandleFunc("GET /callback/{provider}", func(w http.ResponseWriter, r *http.Request) {
		res, err := app.Flow.Callback(w, r, r.PathValue("provider"))
		app.mu.Lock()
		app.outcomes = append(app.outcomes, Outcome{res, err})
		app.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		http.Redirect(w, r, res.ReturnTo, http.StatusSeeOther)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if _, err := app.Auth.LogIn(w, r, PasswordProvider, r.FormValue("username"), r.FormValue("password")); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		http.Redirect(w, r, "/me", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		user, ok := auth.UserFromContext[Profile](r.Context())
		if !ok {
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, user.ID)
	})
	return mux
}

// Last returns the outcome of the latest callback; it fails t if there
// was none.
func (app *App) Last(t testing.TB) Outcome {
	t.Helper()
	app.mu.Lock()
	defer app.mu.Unlock()
	require.NotEmpty(t, app.outcomes, "no callback reached the app")
	return app.outcomes[len(app.outcomes)-1]
}

// Callbacks counts the callbacks that reached the app.
func (app *App) Callbacks() int {
	app.mu.Lock()
	defer app.mu.Unlock()
	return len(app.outcomes)
}

// SignUp creates a user with a password key, as a sign-up form does.
func (app *App) SignUp(t testing.TB, username, password string) auth.User[Profile] {
	t.Helper()
	u, err := app.Auth.CreateUser(Context(t), Profile{Name: username},
		&auth.KeyParams{ProviderID: PasswordProvider, ProviderUserID: username, Password: password})
	require.NoError(t, err)
	return u
}

// KeysOf returns the ids of the user's keys.
func (app *App) KeysOf(t testing.TB, userID string) []string {
	t.Helper()
	keys, err := app.Auth.UserKeys(Context(t), userID)
	require.NoError(t, err)
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ProviderID + ":" + k.ProviderUserID
	}
	return ids
}
