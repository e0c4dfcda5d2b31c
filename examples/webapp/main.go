// Command webapp is an example web application built on package auth and
// the MongoDB adapter: sign-up and login with a username and password,
// logout, a home page listing the user's sessions (browser, system, when
// signed in and last seen) with a "sign out" button for each other
// session and "sign out everywhere else", password change and account
// deletion. It is server-rendered with net/http and html/template and has
// no JavaScript.
//
// From the repository root, to try it over plain HTTP:
//
//	go run ./examples/webapp -dev
//
// Without MONGODB_URI the app starts an embedded FerretDB that keeps its
// data in examples/webapp/data (ignored by git; flag -data picks another
// folder); with MONGODB_URI it uses that server (flag -db, default webapp).
// Either way it runs EnsureIndexes at start. It serves http://127.0.0.1:8080
// (flag -addr) and stops cleanly on Ctrl-C.
//
// # Behind a reverse proxy
//
// Failed logins and sign-ups are throttled per client address. Behind a
// reverse proxy every request comes from the proxy, so name the proxies
// whose X-Forwarded-For header the app may believe (package auth/clientip):
//
//	go run ./examples/webapp -addr 10.0.0.2:8080 -trusted-proxies 10.0.0.0/24
//	go run ./examples/webapp -trusted-proxies hops:1   # one proxy, the only way in
//
// The client is then the rightmost address in the header that is not a
// proxy; a request from anyone else is named by its own address, so a
// forged header changes nothing. -proxy-header Forwarded reads RFC 7239's
// header instead. The throttle's records are in the database
// (auth_throttle), shared by every instance of the app.
//
// # Sessions list
//
// Each session shows its browser and operating system, when it signed in
// and when it was last seen, and, for every session but this browser's, a
// Sign out button; Sign out everywhere else ends them all. A session
// stores, as session attributes, exactly what the list shows: browser and
// os (names parsed from the User-Agent header at login, in a few lines of
// devices.go; the header itself is not kept), created_at and last_seen
// (updated at most every 5 minutes). No IP address. They are deleted with
// the session.
//
// The buttons name sessions by a handle, an HMAC-SHA256 of the session id
// under a key made at start-up, never by the id, which is the cookie's
// bearer secret. The handler looks only among the user's own sessions, so
// another user's handle or session id is answered exactly as one that names
// nothing. Handles change when the app restarts; a page from before then
// refuses, and a reload helps.
//
// # Sign in with an OpenID provider
//
// With -oidc-issuer, -oidc-client-id and -oidc-client-secret (or
// OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET) the login and sign-up
// pages offer "Sign in with <-oidc-name>", through package oauth: a new
// identity makes an account (named after the provider's name for the
// user, without a username or password), a known one signs in. Register
// <-public-url>/oauth/oidc/callback with the provider (in development the
// app's own http://<addr>). The sign-in methods page lists the account's
// ways in, links the provider (after the password, where the account has
// one) and unlinks it, keeping the last way in. An account made by the
// provider has no password, so the password and delete pages, which
// confirm one, refuse it. Without an issuer none of this shows. The code
// is in oauth.go and templates/methods.html and providers.html.
//
// # Account recovery
//
// The E-mail page gives the account an address (its "email:<address>"
// key, so no two accounts share one) and sends a link that confirms it;
// "Forgot your password?" on the login page sends a reset link, valid
// for an hour and once, that sets a new password, signs the account out
// everywhere and logs this browser in. The form answers the same, in the
// same time, whether or not an account has the address, and is
// throttled per address and per client (package recovery). With -dev
// the messages are not sent but logged and shown at /dev/mail, which
// exists only then; with -smtp-host (and -smtp-from, SMTP_USERNAME,
// SMTP_PASSWORD) they go out by SMTP over TLS; with neither there is no
// recovery. Links point at -public-url, or http://<addr>. The code is in
// recovery.go and its templates.
//
// # Behaviour
//
// Without -dev it runs in production mode, whatever its address (loopback
// is the usual one behind a TLS-terminating proxy on the same host): the
// session cookie is __Host-auth_session, Secure, and every response
// carries Strict-Transport-Security, so the app must be reached over
// HTTPS. -dev sets auth.Config.Development for plain HTTP: an auth_session
// cookie without Secure (browsers keep Secure cookies only from HTTPS
// pages) and no HSTS; meant for this machine, it warns on any other
// address, where session tokens would cross the network in clear.
//
// It shows messages for a wrong password, a taken username, an empty,
// too-short or too-long password, a failed CSRF check (403), too many failed
// logins (429, "Please wait N seconds", the same page whether or not the
// username exists), too many sign-ups from one address or wrong current
// passwords in one session (429) and a busy server (503); all with
// Retry-After. The password and delete pages confirm the current password
// with auth.Reauthenticate, which a username locked by someone else's
// failed logins does not stop.
//
// Its http.Server bounds every connection: 10 s for the headers, 15 s for
// the whole request, 30 s to answer (above a login's wait for a hashing
// slot), 60 s idle (newServer). Read app.go (setup and routes),
// handlers.go, forms.go and this file.
//
// # Tests
//
// go test ./examples/webapp drives headless Chromium through chromedp:
// sign-up, logout, login, a second browser with its own cookies, sign out
// everywhere else, the sessions list and one browser signing the other out
// by its button, password change, account deletion, and the error messages
// on the way; after the deletion it checks that the database holds no user,
// key or session of that user. It uses Debian's /usr/bin/chromium
// (apt-get install chromium) or CHROMIUM_PATH; without Chromium it is
// skipped with a message saying so. Plain-HTTP tests (race_test.go) hold a
// login or a password change right after its password check, delete the
// account from another browser, and check that the held request is
// answered as for a logged-out visitor, not with a 500. oauth_test.go and
// oauth_browser_test.go sign in, link and unlink through an OpenID provider
// running in the test process (mockoidc), over HTTP and in Chromium.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/auth/clientip"
	"github.com/luciago/mongoauth/internal/ferretdb"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout)
	if err != nil && !errors.Is(err, flag.ErrHelp) { // -h has printed the usage
		fmt.Fprintln(os.Stderr, "webapp:", err)
		os.Exit(1)
	}
}

// run starts the app as the command line says, serves until ctx ends and
// then shuts down gracefully: requests in flight may finish (for up to 10
// seconds), then the database connection and the embedded FerretDB close.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("webapp", flag.ContinueOnError)
	addr := flags.String("addr", "127.0.0.1:8080", "`address` to serve HTTP on")
	dataDir := flags.String("data", filepath.Join("examples", "webapp", "data"),
		"`directory` of the embedded FerretDB's data, relative to the working directory; used when MONGODB_URI is unset")
	dbName := flags.String("db", "webapp", "`name` of the MongoDB database")
	development := flags.Bool("dev", false, "development mode, for plain HTTP on this machine: no Secure cookie, no HSTS (without it the app wants HTTPS in front)")
	provider := providerFlags(flags)
	mail := mailFlags(flags)
	trustedProxies := flags.String("trusted-proxies", "",
		"the reverse proxies in front of the app, whose X-Forwarded-For is believed: comma-separated `addresses and CIDR ranges`, or hops:N for N proxies the app is reachable only through; empty: none, every client is its connection's address")
	proxyHeader := flags.String("proxy-header", "X-Forwarded-For", "the `header` the proxies append the client's address to: X-Forwarded-For or Forwarded")
	if err := flags.Parse(args); err != nil {
		return err
	}
	// Throttling counts failed logins and sign-ups per client address.
	// Behind a proxy every request comes from the proxy's address, so the
	// proxies must be named to tell clients apart.
	clientKey, err := clientip.Parse(*proxyHeader, *trustedProxies)
	if err != nil {
		return err
	}

	db, closeDB, err := openDatabase(ctx, *dataDir, *dbName, stdout)
	if err != nil {
		return err
	}
	defer closeDB()

	// Development mode drops the Secure flag from the session cookie.
	// Browsers store a Secure cookie only from HTTPS pages (Chrome and
	// Firefox make an exception for localhost, Safari does not), so a
	// plain-HTTP app needs it for logins to stick. It is safe only where
	// the session token never crosses a network. It is a flag, not a
	// guess from the address: a loopback address is also where an app
	// listens behind a TLS-terminating proxy in production.
	a, err := newApp(ctx, db, *development, func(c *auth.Config) { c.ClientKey = clientKey })
	if err != nil {
		return err
	}

	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if err := a.setUpOAuth(provider, "http://"+listener.Addr().String(), *development); err != nil {
		listener.Close()
		return err
	}
	if err := a.setUpMail(mail, provider.publicURL, "http://"+listener.Addr().String()); err != nil {
		listener.Close()
		return err
	}
	switch {
	case *development && !isLoopback(*addr):
		fmt.Fprintf(stdout, "webapp: -dev on %s, which other machines reach: session tokens cross the network in clear\n", *addr)
		fallthrough
	case *development:
		fmt.Fprintf(stdout, "webapp: serving on http://%s (development mode; Ctrl-C stops)\n", listener.Addr())
	default:
		fmt.Fprintf(stdout, "webapp: serving on http://%s for an HTTPS proxy in front: session cookies are Secure (__Host-) and responses carry HSTS, so browse it through HTTPS (-dev for plain HTTP; Ctrl-C stops)\n", listener.Addr())
	}

	server := newServer(a.routes())
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	a.waitMail() // reset links still being sent
	fmt.Fprintln(stdout, "webapp: stopped")
	return nil
}

// newServer returns the app's HTTP server. Its timeouts bound how long a
// client can hold a connection, and the goroutine and memory behind it;
// without them a client that sends slowly, or never, holds them forever.
//
//   - ReadHeaderTimeout (10 s) and ReadTimeout (15 s) bound reading a
//     request: its headers, then its body. The app's forms are at most
//     64 KiB (maxFormBytes), seconds on a slow mobile link.
//   - WriteTimeout (30 s), counted from the end of the headers, bounds
//     reading the body, running the handler and writing the response.
//     It must exceed the slowest honest request: a login may wait a few
//     seconds for a hashing slot, then hash and write to the database.
//     When it expires the client gets no answer at all, so it is kept
//     well above that. (The handler is not stopped; only its writes fail.)
//   - IdleTimeout (60 s) closes kept-alive connections between requests.
func newServer(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
}

// openDatabase connects to MONGODB_URI or, when it is unset, to an
// embedded FerretDB keeping its data in dataDir. closeDB disconnects and
// stops the FerretDB.
func openDatabase(ctx context.Context, dataDir, name string, stdout io.Writer) (db *mongo.Database, closeDB func(), err error) {
	uri := os.Getenv("MONGODB_URI")
	stopServer := func() {}
	if uri == "" {
		if uri, stopServer, err = ferretdb.Start(ctx, dataDir); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(stdout, "webapp: embedded FerretDB, data in %s\n", dataDir)
	} else {
		fmt.Fprintln(stdout, "webapp: using the server at MONGODB_URI")
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		stopServer()
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	closeDB = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx)
		stopServer()
	}
	// Fail at start, and soon, when the server cannot be reached.
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx, nil); err != nil {
		closeDB()
		return nil, nil, fmt.Errorf("ping the database: %w", err)
	}
	return client.Database(name), closeDB, nil
}

// isLoopback reports whether addr (host:port) is on this machine only,
// which -dev wants.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
