package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/luciago/mongoauth/internal/oauthtest"
	"github.com/luciago/mongoauth/mongotest"
)

// startProviderApp serves the app, as run does in development, with the
// OpenID provider idp configured as the command line would.
func startProviderApp(t *testing.T, idp *oauthtest.IDP) (a *app, baseURL string, db *mongo.Database) {
	t.Helper()
	db = mongotest.Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := newApp(ctx, db, true)
	require.NoError(t, err)
	server := httptest.NewUnstartedServer(nil)
	baseURL = "http://" + server.Listener.Addr().String()
	require.NoError(t, a.setUpOAuth(&providerOptions{issuer: idp.Issuer(), clientID: idp.ClientID,
		clientSecret: idp.ClientSecret, name: "Test IdP"}, baseURL, true))
	server.Config.Handler = a.routes()
	server.Start()
	t.Cleanup(server.Close)
	return a, baseURL, db
}

// idpUser is a user at the provider.
func idpUser(subject, name string) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: subject, PreferredUsername: name, Email: name + "@example.com", EmailVerified: true}
}

func TestNoProviderConfigured(t *testing.T) {
	base, _ := startApp(t)
	res, err := http.Get(base + "/login")
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "form-action 'self';")
	page := newVisitor(t, base).get("/login")
	assert.NotContains(t, page.Body, "Sign in with")
	res2 := newVisitor(t, base).post("/oauth/oidc/signin")
	assert.Equal(t, "/login", res2.Location, "no such route: answered as any page for members")
}

func TestProviderSignInLinkUnlink(t *testing.T) {
	idp := oauthtest.StartIDP(t)
	a, base, db := startProviderApp(t, idp)

	// A visitor signs up by signing in with the provider.
	b := oauthtest.NewBrowser(t)
	login := b.Get(base + "/login")
	assert.Contains(t, login.Body, `id="signin-oidc"`)
	idp.QueueUser(idpUser("zoe-sub", "zoe"))
	home := b.Post(base+"/oauth/oidc/signin", nil)
	require.Equal(t, http.StatusOK, home.Status, home.Body)
	assert.Equal(t, base+"/", home.URL.String())
	assert.Contains(t, home.Body, `<strong id="username">zoe</strong>`)
	zoe := keyOwner(t, a, "oidc", "zoe-sub")
	assert.Equal(t, stored{Users: 1, Sessions: 1, Keys: 1}, storedFor(t, db, zoe))
	methods := b.Get(base + "/methods")
	assert.Contains(t, methods.Body, "this account was made with it")
	assert.NotContains(t, methods.Body, `class="unlink"`)
	assert.NotContains(t, methods.Body, `name="password"`, "no password to confirm a link with")

	// Her account has no password: the password pages say so.
	page := b.Post(base+"/password", url.Values{"current": {"x"}, "new": {"a new password"}})
	assert.Equal(t, http.StatusConflict, page.Status)
	assert.Contains(t, page.Body, msgNoPassword)
	assert.Equal(t, stored{Users: 1, Sessions: 1, Keys: 1}, storedFor(t, db, zoe))

	// A user with a password links the provider, confirming the password.
	ann := oauthtest.NewBrowser(t)
	require.Equal(t, http.StatusOK, ann.Post(base+"/signup", url.Values{"username": {"ann"}, "password": {"ann's password"}}).Status)
	annID := userIDOf(t, db, "ann")
	idp.QueueUser(idpUser("ann-sub", "ann.at.idp"))
	page = ann.Post(base+"/methods/link", url.Values{"provider": {"oidc"}, "password": {"wrong"}})
	assert.Equal(t, http.StatusUnauthorized, page.Status)
	assert.Len(t, page.Visited, 1, "not sent to the provider")
	page = ann.Post(base+"/methods/link", url.Values{"provider": {"oidc"}, "password": {"ann's password"}})
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	assert.Equal(t, base+"/methods?done=linked", page.URL.String())
	assert.Contains(t, page.Body, "Password, as ann")
	assert.Contains(t, page.Body, "Test IdP (account ann-sub)")
	assert.Equal(t, annID, keyOwner(t, a, "oidc", "ann-sub"))

	// Ann signs in with the provider in another browser.
	phone := oauthtest.NewBrowser(t)
	idp.QueueUser(idpUser("ann-sub", "ann.at.idp"))
	home = phone.Post(base+"/oauth/oidc/signin", nil)
	assert.Contains(t, home.Body, `<strong id="username">ann</strong>`)

	// She unlinks it; the password remains.
	page = ann.Post(base+"/methods/unlink", url.Values{"provider": {"oidc"}, "id": {"ann-sub"}})
	assert.Equal(t, base+"/methods?done=unlinked", page.URL.String())
	assert.NotContains(t, page.Body, "ann-sub")
	assert.Equal(t, int64(1), storedFor(t, db, annID).Keys)

	// Zoe cannot unlink the identity her account was made with.
	page = b.Post(base+"/methods/unlink", url.Values{"provider": {"oidc"}, "id": {"zoe-sub"}})
	assert.Equal(t, http.StatusConflict, page.Status)
	assert.Contains(t, page.Body, "so it stays")

	// A declined sign-in.
	idp.Deny(true)
	page = oauthtest.NewBrowser(t).Post(base+"/oauth/oidc/signin", nil)
	idp.Deny(false)
	assert.Equal(t, http.StatusBadRequest, page.Status)
	assert.Contains(t, page.Body, "You cancelled signing in with Test IdP.")
}

func TestProviderCSP(t *testing.T) {
	idp := oauthtest.StartIDP(t)
	_, base, _ := startProviderApp(t, idp)
	res, err := http.Get(base + "/login")
	require.NoError(t, err)
	defer res.Body.Close()
	issuer, err := url.Parse(idp.Issuer())
	require.NoError(t, err)
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "form-action 'self' http://"+issuer.Host+";")
}

func TestProviderOptions(t *testing.T) {
	a := &app{}
	require.NoError(t, a.setUpOAuth(&providerOptions{}, "http://127.0.0.1:8080", false), "no provider, nothing to set up")
	assert.Nil(t, a.oauth)
	err := a.setUpOAuth(&providerOptions{issuer: "https://idp.example", clientID: "c"}, "http://0.0.0.0:8080", false)
	require.Error(t, err, "production needs the public URL")
	assert.True(t, strings.Contains(err.Error(), "-public-url"))
}

// keyOwner returns the user id of the key.
func keyOwner(t *testing.T, a *app, providerID, providerUserID string) string {
	t.Helper()
	key, err := a.auth.GetKey(t.Context(), providerID, providerUserID)
	require.NoError(t, err)
	return key.UserID
}

// TestProviderAccountDeletion: an account made by a provider sign-in has no
// password to confirm its deletion with; a recent sign-in with the
// provider confirms it instead, so that a session that has been lying
// around (a borrowed laptop, a stolen cookie) cannot delete the account.
func TestProviderAccountDeletion(t *testing.T) {
	idp := oauthtest.StartIDP(t)
	a, base, db := startProviderApp(t, idp)
	b := oauthtest.NewBrowser(t)
	idp.QueueUser(idpUser("zoe-sub", "zoe"))
	require.Equal(t, http.StatusOK, b.Post(base+"/oauth/oidc/signin", nil).Status)
	zoe := keyOwner(t, a, "oidc", "zoe-sub")

	page := b.Get(base + "/delete")
	assert.NotContains(t, page.Body, `name="password"`, "no password to ask for")
	assert.Contains(t, page.Body, `action="/oauth/oidc/confirm"`)

	// Her session began recentSignIn + a minute ago.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	old := time.Now().Add(-recentSignIn - time.Minute).UnixMilli()
	_, err := db.Collection("auth_session").UpdateMany(ctx, bson.D{{Key: "user_id", Value: zoe}}, bson.D{{Key: "$set", Value: bson.D{{Key: "issued_at", Value: old}}}})
	require.NoError(t, err)
	page = b.Post(base+"/delete", nil)
	assert.Equal(t, http.StatusConflict, page.Status)
	assert.Contains(t, page.Body, msgSignInAgain)
	assert.Equal(t, stored{Users: 1, Sessions: 1, Keys: 1}, storedFor(t, db, zoe))

	// Signing in again with the provider brings her back to the page, and
	// the fresh sign-in confirms the deletion.
	idp.QueueUser(idpUser("zoe-sub", "zoe"))
	page = b.Post(base+"/oauth/oidc/confirm", nil)
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	assert.Equal(t, base+"/delete", page.URL.String())
	page = b.Post(base+"/delete", nil)
	assert.Equal(t, base+"/signup?done=deleted", page.URL.String())
	assert.Equal(t, stored{}, storedFor(t, db, zoe))
}
