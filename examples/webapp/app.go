package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/recovery"
)

// Account is what the app stores about a user besides the id. Package auth
// maps each field to a stored attribute, named by the auth tag; handlers
// get it back typed, as auth.User[Account].Attributes.
type Account struct {
	Username string    `auth:"username"`
	Joined   time.Time `auth:"joined"`
	// Name is the display name of an account made by signing in with a
	// provider, which has no username (oauth.go).
	Name string `auth:"name,omitempty"`
}

// usernameProvider names the app's kind of key. A user's key id is
// "username:<username>"; key ids are unique, so usernames are too.
const usernameProvider = "username"

// app holds what the handlers share.
type app struct {
	auth    *auth.Auth[Account]
	pages   map[string]*template.Template
	handles sessionHandles
	oauth   *oauthSetup // nil without a provider (oauth.go)
	// recovery is nil without a mail sender, devMail without -dev
	// (recovery.go); links point at baseURL.
	recovery *recovery.Flow[Account]
	devMail  *recovery.DevSender
	baseURL  string
}

// newApp sets up storage and authentication on db: the MongoDB adapter,
// its indexes (created once, a no-op when they exist) and the auth core,
// whose login throttle keeps its records in the database too
// (auth_throttle), so that several instances of the app count failed
// logins together.
// development turns on auth.Config.Development (the -dev flag); see run. configure may
// change the auth configuration further (tests set a fast PasswordHasher,
// a clock, throttle limits); the app then sets the ErrorHandler and what
// sessions store: the device of each (see Device), last seen to within
// lastSeenInterval.
func newApp(ctx context.Context, db *mongo.Database, development bool, configure ...func(*auth.Config)) (*app, error) {
	adapter, err := mongoauth.New(ctx, db, mongoauth.Options{ThrottleCollection: mongoauth.DefaultThrottleCollection})
	if err != nil {
		return nil, err
	}
	if _, err := adapter.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	throttle, err := adapter.ThrottleStore()
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	a := &app{pages: pages, handles: newSessionHandles()}
	config := auth.Config{Development: development, ThrottleStore: throttle}
	for _, c := range configure {
		c(&config)
	}
	config.ErrorHandler = a.authError
	now := config.Now
	if now == nil {
		now = time.Now
	}
	config.SessionAttributes = deviceAttributes(now)
	config.LastSeenAttribute, config.LastSeenInterval = "last_seen", lastSeenInterval
	a.auth, err = auth.New[Account](adapter, config)
	if err != nil {
		return nil, err
	}
	if development {
		a.devMail = newDevSender()
		if err := a.setUpRecovery(a.devMail); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// routes returns the app's handler. Every request goes through the auth
// middleware, which refuses cross-origin form posts (CSRF) and puts the
// logged-in user, if any, into the request context. Pages for logged-in
// users are wrapped in RequireUser, which sends everyone else to /login
// (see authError).
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /signup", a.visitorPage("signup"))
	mux.HandleFunc("POST /signup", a.signup)
	mux.HandleFunc("GET /login", a.visitorPage("login"))
	mux.HandleFunc("POST /login", a.login)

	user := http.NewServeMux()
	user.HandleFunc("GET /{$}", a.home)
	user.HandleFunc("POST /logout", a.logout)
	user.HandleFunc("POST /sessions/end-others", a.endOtherSessions)
	user.HandleFunc("POST /sessions/end", a.endSession)
	user.HandleFunc("GET /password", a.passwordPage)
	user.HandleFunc("POST /password", a.changePassword)
	user.HandleFunc("GET /delete", a.deletePage)
	user.HandleFunc("POST /delete", a.deleteAccount)
	a.oauthRoutes(mux, user)
	a.recoveryRoutes(mux, user)
	mux.Handle("/", a.auth.RequireUser(user))

	return securityHeaders(a.formActionSources(), a.auth.Middleware(parseForms(mux)))
}

// maxFormBytes bounds request bodies: the app's forms are small.
const maxFormBytes = 64 << 10

// parseForms reads the form of every request before the handlers run, so
// that a body too large or malformed gets a clear error instead of
// looking like an empty form.
func parseForms(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			status := http.StatusBadRequest
			if tooLarge := new(http.MaxBytesError); errors.As(err, &tooLarge) {
				status = http.StatusRequestEntityTooLarge
			}
			http.Error(w, http.StatusText(status), status)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authError answers the requests that the auth middleware or RequireUser
// stop (auth.Config.ErrorHandler).
func (a *app) authError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, auth.ErrNotAuthenticated):
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case errors.Is(err, auth.ErrInvalidRequest):
		// A form that the browser says was posted from another site: a
		// possible cross-site request forgery.
		a.render(w, r, http.StatusForbidden, "error", view{Error: msgCrossOrigin})
	default:
		a.refusal(w, r, err, func(status int, msg string) { a.render(w, r, status, "error", view{Error: msg}) })
	}
}

// serverError logs err and tells the user, without details, that the
// request failed.
func (a *app) serverError(w http.ResponseWriter, r *http.Request, err error) {
	slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	a.render(w, r, http.StatusInternalServerError, "error", view{Error: msgServerError})
}

// securityHeaders sets headers that every page wants: no framing by other
// sites (clickjacking of the delete button), no scripts at all, forms that
// post only to this site (and to the sign-in provider, formAction), and no
// caching of pages that show account data.
func securityHeaders(formAction string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

//go:embed templates
var templateFS embed.FS

// parsePages parses each page template together with the layout.
func parsePages() (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template)
	for _, name := range []string{"signup", "login", "home", "password", "delete", "error", "methods", "forgot", "reset", "verify", "email", "devmail"} {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/providers.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// view is the data of every page.
type view struct {
	// User is the logged-in user, nil on pages for visitors.
	User *auth.User[Account]
	// Notice reports a finished action, Error a refused one.
	Notice, Error string
	// Username refills the username field of a refused form.
	Username string
	// Sessions are the user's sessions, on the home page.
	Sessions []sessionView
	// Providers are the sign-in providers, Methods the user's ways to
	// sign in on the sign-in methods page (oauth.go).
	Providers []providerButton
	Methods   []methodView
	recoveryView
}

// sessionView is one session in the list: never its id (see
// sessionHandles).
type sessionView struct {
	Current bool // the session of this browser
	Device
	// Handle names the session in the form that signs it out.
	Handle string
}

// render writes the page with status. The page is rendered to memory
// first, so that a template error becomes a clean 500.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	if v.User == nil {
		if user, ok := auth.UserFromContext[Account](r.Context()); ok {
			v.User = &user
		}
	}
	a.oauthView(r, page, &v)
	a.recoveryPageView(&v)
	var buf bytes.Buffer
	if err := a.pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		slog.ErrorContext(r.Context(), "render", "page", page, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
