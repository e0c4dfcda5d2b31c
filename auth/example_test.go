package auth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
)

// Profile is an application's user attributes.
type Profile struct {
	Username string    `auth:"username"`
	Email    string    `auth:"email,omitempty"`
	Joined   time.Time `auth:"joined"`
}

// Setting up with the MongoDB adapter, as an application does.
func Example() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(os.Getenv("MONGODB_URI")))
	if err != nil {
		log.Fatal(err)
	}
	adapter, err := mongoauth.New(ctx, client.Database("app"), mongoauth.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := adapter.EnsureIndexes(ctx); err != nil {
		log.Fatal(err)
	}
	// The zero Config means production defaults: 1 day active, 14 days
	// idle (Lucia's), 30 days at most, argon2id passwords, session ids
	// stored hashed, a Secure "__Host-auth_session" cookie, HSTS.
	a, err := auth.New[Profile](adapter, auth.Config{})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_, err := a.LogIn(w, r, "username", r.FormValue("username"), r.FormValue("password"))
		if err != nil {
			// 401 for every failed login alike, 429 and 503 with
			// Retry-After, 403 for a failed CSRF check, 500 otherwise.
			auth.WriteError(w, r, err)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.Handle("GET /me", a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := auth.UserFromContext[Profile](r.Context())
		fmt.Fprintf(w, "hello %s", user.Attributes.Username)
	})))
	log.Fatal(http.ListenAndServe(":8080", a.Middleware(mux)))
}

// Signing up, logging in with a password, and validating the session.
func Example_passwordLogin() {
	ctx := context.Background()
	var adapter auth.Adapter = newMemoryAdapter() // in an application: mongoauth.New(...)
	a, err := auth.New[Profile](adapter, auth.Config{})
	if err != nil {
		log.Fatal(err)
	}

	// Sign-up: the user and its primary key are stored together.
	user, err := a.CreateUser(ctx, Profile{Username: "ann", Joined: time.Now()},
		&auth.KeyParams{ProviderID: "username", ProviderUserID: "ann", Password: "correct horse"})
	if err != nil {
		log.Fatal(err)
	}

	_, err = a.UseKey(ctx, "username", "ann", "wrong horse")
	var code *auth.Error
	if errors.As(err, &code) {
		fmt.Println("wrong password:", code.Code)
	}

	key, err := a.UseKey(ctx, "username", "ann", "correct horse")
	if err != nil {
		log.Fatal(err)
	}
	session, err := a.CreateSession(ctx, key.UserID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same user:", session.UserID == user.ID, "fresh:", session.Fresh, "token length:", len(session.Token))

	// On each request: validate the id from the cookie. An idle session
	// comes back renewed, with Fresh set and a new id.
	session, validUser, err := a.ValidateSessionUser(ctx, session.Token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(session.State, validUser.Attributes.Username)
	// Output:
	// wrong password: AUTH_INVALID_PASSWORD
	// same user: true fresh: true token length: 40
	// active ann
}

// Typed attributes: the application reads and writes its own struct.
func ExampleNew() {
	ctx := context.Background()
	a, err := auth.New[Profile](newMemoryAdapter(), auth.Config{})
	if err != nil {
		log.Fatal(err)
	}
	joined := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	user, err := a.CreateUser(ctx, Profile{Username: "ann", Joined: joined}, nil)
	if err != nil {
		log.Fatal(err)
	}
	// Email is omitempty: left empty it is not written, so this update
	// changes the username and keeps the stored e-mail address.
	user, err = a.UpdateUser(ctx, user.ID, Profile{Username: "anna", Joined: joined})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.Attributes.Username, user.Attributes.Joined.Format(time.DateOnly))
	// Output: anna 2024-05-01
}

// A one-time login link: a single-use key without a password.
func ExampleAuth_UseKey_singleUse() {
	ctx := context.Background()
	a, err := auth.New[Profile](newMemoryAdapter(), auth.Config{})
	if err != nil {
		log.Fatal(err)
	}
	user, err := a.CreateUser(ctx, Profile{Username: "ann"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	token := auth.RandomID(32) // goes into the e-mailed link
	if _, err := a.CreateKey(ctx, user.ID, auth.KeyParams{ProviderID: "magic-link", ProviderUserID: token, ExpiresIn: 15 * time.Minute}); err != nil {
		log.Fatal(err)
	}
	_, err = a.UseKey(ctx, "magic-link", token, "")
	fmt.Println("first use:", err)
	_, err = a.UseKey(ctx, "magic-link", token, "")
	fmt.Println("second use:", err)
	// Output:
	// first use: <nil>
	// second use: auth: invalid key id
}

// The middleware in action: a login form post, then a request with the
// session cookie.
func ExampleAuth_Middleware() {
	ctx := context.Background()
	a, err := auth.New[Profile](newMemoryAdapter(), auth.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := a.CreateUser(ctx, Profile{Username: "ann"},
		&auth.KeyParams{ProviderID: "username", ProviderUserID: "ann", Password: "correct horse"}); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.LogIn(w, r, "username", r.FormValue("username"), r.FormValue("password")); err != nil {
			http.Error(w, "wrong username or password", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("GET /me", a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := auth.UserFromContext[Profile](r.Context())
		fmt.Fprint(w, "hello ", user.Attributes.Username)
	})))
	handler := a.Middleware(mux)

	form := url.Values{"username": {"ann"}, "password": {"correct horse"}}
	login := httptest.NewRequest(http.MethodPost, "https://example.com/login", strings.NewReader(form.Encode()))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	login.Header.Set("Sec-Fetch-Site", "same-origin") // browsers send it; "cross-site" gets 403
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, login)
	cookie := w.Result().Cookies()[0]
	fmt.Println(w.Code, cookie.Name, cookie.HttpOnly, cookie.Secure, cookie.SameSite == http.SameSiteLaxMode)
	fmt.Println(w.Header().Get("Strict-Transport-Security"))

	me := httptest.NewRequest(http.MethodGet, "https://example.com/me", nil)
	me.AddCookie(cookie)
	w = httptest.NewRecorder()
	handler.ServeHTTP(w, me)
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 204 __Host-auth_session true true true
	// max-age=31536000
	// 200 hello ann
}

// The CSRF check on its own, for handlers outside the middleware.
func ExampleAuth_CheckOrigin() {
	a, err := auth.New[Profile](newMemoryAdapter(), auth.Config{TrustedOrigins: []string{"https://admin.example.com"}})
	if err != nil {
		log.Fatal(err)
	}
	// What browsers send with a form posted to https://example.com/settings.
	for _, from := range []struct{ fetchSite, origin string }{
		{"same-origin", "https://example.com"},
		{"same-origin", "null"}, // the page has Referrer-Policy: no-referrer
		{"same-site", "https://admin.example.com"},
		{"cross-site", "https://evil.example"},
		{"", "http://example.com"}, // an older browser, on the HTTP page
	} {
		r := httptest.NewRequest(http.MethodPost, "https://example.com/settings", nil)
		if from.fetchSite != "" {
			r.Header.Set("Sec-Fetch-Site", from.fetchSite)
		}
		r.Header.Set("Origin", from.origin)
		fmt.Printf("%q %q: %v\n", from.fetchSite, from.origin, a.CheckOrigin(r))
	}
	// Output:
	// "same-origin" "https://example.com": <nil>
	// "same-origin" "null": <nil>
	// "same-site" "https://admin.example.com": <nil>
	// "cross-site" "https://evil.example": auth: POST request from origin "https://evil.example" refused by the CSRF check: cross-origin request detected from Sec-Fetch-Site header
	// "" "http://example.com": auth: POST request from origin "http://example.com" refused by the CSRF check: Origin's scheme "http" is not the request's (https)
}

// A page that changes the password confirms the current one with
// Reauthenticate: a stranger who has locked the username with failed
// logins does not stop its signed-in owner.
func ExampleAuth_Reauthenticate() {
	ctx := context.Background()
	a, err := auth.New[Profile](newMemoryAdapter(), auth.Config{
		PasswordHasher: auth.InsecureFastHasher(), // for a quick example; keep the default
	})
	if err != nil {
		log.Fatal(err)
	}
	user, err := a.CreateUser(ctx, Profile{Username: "ann"},
		&auth.KeyParams{ProviderID: "username", ProviderUserID: "ann", Password: "correct horse"})
	if err != nil {
		log.Fatal(err)
	}
	session, err := a.CreateSession(ctx, user.ID) // in a handler: auth.SessionFromContext
	if err != nil {
		log.Fatal(err)
	}
	for range auth.DefaultKeyThrottle.FreeFailures {
		_, _ = a.UseKey(ctx, "username", "ann", "a stranger's guess")
	}
	_, err = a.UseKey(ctx, "username", "ann", "correct horse")
	fmt.Println("login:", errors.Is(err, auth.ErrThrottled))
	_, err = a.Reauthenticate(ctx, session, "username", "ann", "correct horse")
	fmt.Println("reauthenticate:", err)
	// Output:
	// login: true
	// reauthenticate: <nil>
}
