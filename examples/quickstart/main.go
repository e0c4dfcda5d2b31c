// Command quickstart is the README's Quick start, as a program: sign-up,
// login and a protected page, served over plain HTTP on localhost. The
// README's Quick start block is this file from "package main" on; a test
// (quickstart_test.go) builds that block as its own module and drives it
// over HTTP, so that the README cannot drift from the API.
//
//	MONGODB_URI=mongodb://127.0.0.1:27017 go run ./examples/quickstart
//
// ADDR sets the address (default localhost:8080).
package main

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"net/http"
	"os"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
)

type Profile struct {
	Username string `auth:"username"`
}

const form = `<form method=post action=/login><input name=username> <input name=password type=password>
<button>Log in</button> <button formaction=/signup>Sign up</button></form>`

func main() {
	ctx := context.Background()
	uri := os.Getenv("MONGODB_URI") // a development server: go run github.com/luciago/mongoauth/cmd/devdb@latest
	if uri == "" {
		log.Fatal("set MONGODB_URI, e.g. mongodb://127.0.0.1:27017")
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		log.Fatal(err)
	}
	adapter, err := mongoauth.New(ctx, client.Database("app"), mongoauth.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := adapter.EnsureIndexes(ctx); err != nil { // idempotent; once, at start
		log.Fatal(err)
	}
	// Development: plain HTTP (cookie auth_session without Secure, http://
	// origins, no HSTS). Remove it in production, served over HTTPS.
	a, err := auth.New[Profile](adapter, auth.Config{Development: true})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, form) })
	mux.HandleFunc("POST /signup", func(w http.ResponseWriter, r *http.Request) {
		name, password := r.FormValue("username"), r.FormValue("password")
		if len(password) < 8 { // "" would make a key without a password: open to anyone
			http.Error(w, "password: 8 characters or more", http.StatusBadRequest)
			return
		}
		_, _, err := a.SignUp(w, r, Profile{Username: name},
			auth.KeyParams{ProviderID: "username", ProviderUserID: name, Password: password})
		if err != nil {
			auth.WriteError(w, r, err) // 409 username taken, 400, 429/503 with Retry-After, 500
			return
		}
		http.Redirect(w, r, "/me", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_, err := a.LogIn(w, r, "username", r.FormValue("username"), r.FormValue("password"))
		if err != nil {
			// 401 for ErrInvalidKeyID, ErrInvalidPassword and ErrOutdatedPassword alike;
			// 429 ErrThrottled and 503 ErrBusy with Retry-After; 403 CSRF; 500.
			auth.WriteError(w, r, err)
			return
		}
		http.Redirect(w, r, "/me", http.StatusSeeOther)
	})
	mux.Handle("GET /me", a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := auth.UserFromContext[Profile](r.Context())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "hello %s\n", user.Attributes.Username)
	})))
	addr := cmp.Or(os.Getenv("ADDR"), "localhost:8080")
	log.Printf("serving http://%s", addr)
	log.Fatal(http.ListenAndServe(addr, a.Middleware(mux))) // sessions from the cookie, CSRF check
}
