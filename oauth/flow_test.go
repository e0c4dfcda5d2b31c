package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/internal/oauthtest"
	"github.com/luciago/mongoauth/mongotest"
	"github.com/luciago/mongoauth/oauth"
)

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m)) }

// fixture is an app with one OpenID provider, "idp", on one storage.
type fixture struct {
	t   *testing.T
	idp *oauthtest.IDP
	app *oauthtest.App
}

func newFixture(t *testing.T, storage oauthtest.Storage, configure ...func(*oauth.Config[oauthtest.Profile])) *fixture {
	t.Helper()
	f := &fixture{t: t, idp: oauthtest.StartIDP(t)}
	c := oauthtest.AppConfig{
		Adapter:   storage.Open(t),
		Providers: f.idp.Providers(t, "idp"),
	}
	if len(configure) > 0 {
		c.Flow = configure[0]
	}
	f.app = oauthtest.StartApp(t, c)
	return f
}

// user is a user at the provider.
func user(subject, email string, verified bool) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: subject, Email: email, EmailVerified: verified, PreferredUsername: "u" + subject}
}

// signIn walks b through a sign-in with the provider, as u.
func (f *fixture) signIn(b *oauthtest.Browser, u mockoidc.User, next string) oauthtest.Page {
	f.t.Helper()
	f.idp.QueueUser(u)
	return b.Post(f.app.URL+"/signin/idp?next="+url.QueryEscape(next), nil)
}

// me is the id of the user b is signed in as, "" for none.
func (f *fixture) me(b *oauthtest.Browser) string {
	f.t.Helper()
	p := b.Get(f.app.URL + "/me")
	if p.Status == http.StatusUnauthorized {
		return ""
	}
	require.Equal(f.t, http.StatusOK, p.Status, p.Body)
	return p.Body
}

// forEachStorage runs test on every storage.
func forEachStorage(t *testing.T, test func(t *testing.T, storage oauthtest.Storage)) {
	for _, s := range oauthtest.Storages() {
		t.Run(s.Name, func(t *testing.T) { test(t, s) })
	}
}

// TestSignIn walks the whole redirect dance: the first sign-in of an
// identity creates the user and its key together, later ones sign in to
// that user with a new session; the state cookie is short-lived and
// HttpOnly, SameSite=Lax, and used up by the callback.
func TestSignIn(t *testing.T) {
	forEachStorage(t, func(t *testing.T, storage oauthtest.Storage) {
		f := newFixture(t, storage)
		b := oauthtest.NewBrowser(t)

		page := f.signIn(b, user("ann-sub", "ann@example.com", true), "/welcome")
		require.GreaterOrEqual(t, len(page.Visited), 3, "app, provider, callback")
		assert.Equal(t, f.idp.AuthorizationEndpoint(), page.Visited[1].Scheme+"://"+page.Visited[1].Host+page.Visited[1].Path)
		authorize := page.Visited[1].Query()
		assert.Equal(t, "S256", authorize.Get("code_challenge_method"))
		assert.NotEmpty(t, authorize.Get("code_challenge"))
		assert.NotEmpty(t, authorize.Get("nonce"))
		assert.NotEmpty(t, authorize.Get("state"))
		assert.Equal(t, "/welcome", page.URL.Path, "back where the sign-in began")

		out := f.app.Last(t)
		require.NoError(t, out.Err)
		res := out.Result
		assert.True(t, res.Created)
		assert.False(t, res.Linked)
		assert.Equal(t, "ann-sub", res.Identity.ProviderUserID)
		assert.Equal(t, "ann@example.com", res.Identity.Email)
		assert.True(t, res.Identity.EmailVerified)
		assert.Equal(t, "uann-sub", res.Identity.Username)
		assert.Equal(t, res.UserID, f.me(b), "signed in")
		assert.Nil(t, b.Cookie(f.app.URL, oauth.DefaultCookieName), "the callback used the state cookie up")

		key, err := f.app.Auth.GetKey(oauthtest.Context(t), "idp", "ann-sub")
		require.NoError(t, err)
		assert.Equal(t, res.UserID, key.UserID)
		assert.True(t, key.Primary, "created with the user")
		assert.False(t, key.PasswordDefined)
		u, err := f.app.Auth.GetUser(oauthtest.Context(t), res.UserID)
		require.NoError(t, err)
		assert.Equal(t, "ann@example.com", u.Attributes.Email, "NewUser's attributes")

		// Another browser, the same identity: the same user, a new session.
		other := oauthtest.NewBrowser(t)
		f.signIn(other, user("ann-sub", "ann@example.com", true), "")
		again := f.app.Last(t)
		require.NoError(t, again.Err)
		assert.False(t, again.Result.Created)
		assert.Equal(t, res.UserID, again.Result.UserID)
		assert.NotEqual(t, res.Session.ID, again.Result.Session.ID)
		assert.Equal(t, "/", again.Result.ReturnTo)
		sessions, err := f.app.Auth.UserSessions(oauthtest.Context(t), res.UserID)
		require.NoError(t, err)
		assert.Len(t, sessions, 2)
	})
}

// TestStateCookie checks the cookie's attributes in development and in
// production, where it is Secure with the __Host- prefix.
func TestStateCookie(t *testing.T) {
	storage := oauthtest.Storages()[1] // SQLite: the storage plays no part
	for _, tc := range []struct {
		development bool
		name        string
	}{{true, "oauth_state"}, {false, "__Host-oauth_state"}} {
		idp := oauthtest.StartIDP(t)
		app := oauthtest.StartApp(t, oauthtest.AppConfig{
			Adapter:   storage.Open(t),
			Auth:      func(c *auth.Config) { c.Development = tc.development },
			Providers: idp.Providers(t, "idp"),
		})
		req, err := http.NewRequest(http.MethodPost, app.URL+"/signin/idp", nil)
		require.NoError(t, err)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Len(t, res.Cookies(), 1)
		c := res.Cookies()[0]
		assert.Equal(t, tc.name, c.Name)
		assert.True(t, c.HttpOnly)
		assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
		assert.Equal(t, "/", c.Path)
		assert.Empty(t, c.Domain)
		assert.Equal(t, 600, c.MaxAge)
		assert.Equal(t, !tc.development, c.Secure)
		assert.False(t, strings.Contains(c.Value, ";"))
	}
}

func TestNew(t *testing.T) {
	storage := oauthtest.Storages()[1]
	a, err := auth.New[oauthtest.Profile](storage.Open(t), auth.Config{Development: true})
	require.NoError(t, err)
	newUser := func(context.Context, oauth.Identity) (oauthtest.Profile, error) { return oauthtest.Profile{}, nil }
	idp := oauthtest.StartIDP(t)
	p := idp.Provider(t, "idp", "http://app.example/cb")
	for name, c := range map[string]oauth.Config[oauthtest.Profile]{
		"no NewUser":                       {Providers: []oauth.Provider{p}},
		"two providers of one id":          {Providers: []oauth.Provider{p, p}, NewUser: newUser},
		"a __Host- cookie over plain HTTP": {Providers: []oauth.Provider{p}, NewUser: newUser, CookieName: "__Host-x"},
		"negative StateMaxAge":             {Providers: []oauth.Provider{p}, NewUser: newUser, StateMaxAge: -1},
	} {
		_, err := oauth.New(a, c)
		assert.Error(t, err, name)
	}
	f, err := oauth.New(a, oauth.Config[oauthtest.Profile]{Providers: []oauth.Provider{p}, NewUser: newUser})
	require.NoError(t, err)
	_, err = f.Provider("other")
	require.ErrorIs(t, err, oauth.ErrUnknownProvider)
	assert.Len(t, f.Providers(), 1)
}
