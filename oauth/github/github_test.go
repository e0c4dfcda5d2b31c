package github_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/internal/oauthtest"
	"github.com/luciago/mongoauth/oauth"
	"github.com/luciago/mongoauth/oauth/github"
	"github.com/luciago/mongoauth/oauth/github/githubtest"
)

var octocat = githubtest.User{ID: 583231, Login: "octocat", Name: "The Octocat", Email: "octocat@github.com",
	Emails: []githubtest.Email{
		{Email: "octo@example.com", Verified: false},
		{Email: "octocat@example.com", Primary: true, Verified: true},
	}}

// startApp serves an app with the GitHub stand-in as its "github"
// provider, asking for scopes.
func startApp(t *testing.T, gh *githubtest.Server, scopes ...string) *oauthtest.App {
	return oauthtest.StartApp(t, oauthtest.AppConfig{
		Adapter: oauthtest.Storages()[1].Open(t),
		Providers: func(cb func(string) string) []oauth.Provider {
			p, err := github.New(github.Config{ClientID: gh.ClientID, ClientSecret: gh.ClientSecret,
				RedirectURL: cb(github.ProviderID), Endpoint: gh.Endpoint(), APIURL: gh.URL, Scopes: scopes})
			require.NoError(t, err)
			return []oauth.Provider{p}
		},
	})
}

func TestSignIn(t *testing.T) {
	gh := githubtest.New(t)
	app := startApp(t, gh)
	gh.SignIn(octocat)
	b := oauthtest.NewBrowser(t)
	page := b.Post(app.URL+"/signin/github", url.Values{})
	authorize := page.Visited[1].Query()
	assert.Equal(t, "S256", authorize.Get("code_challenge_method"))
	assert.Equal(t, "read:user user:email", authorize.Get("scope"))

	out := app.Last(t)
	require.NoError(t, out.Err)
	id := out.Result.Identity
	assert.Equal(t, "583231", id.ProviderUserID, "the numeric id, as Lucia's @lucia-auth/oauth keys it")
	assert.Equal(t, "octocat", id.Username)
	assert.Equal(t, "The Octocat", id.Name)
	assert.Equal(t, "octocat@example.com", id.Email, "the primary address")
	assert.True(t, id.EmailVerified)
	key, err := app.Auth.GetKey(oauthtest.Context(t), "github", "583231")
	require.NoError(t, err)
	assert.Equal(t, out.Result.UserID, key.UserID)

	// Without user:email, only the profile's address, unverified.
	app = startApp(t, gh, "read:user")
	b.Post(app.URL+"/signin/github", url.Values{})
	out = app.Last(t)
	require.NoError(t, out.Err)
	assert.Equal(t, "octocat@github.com", out.Result.Identity.Email)
	assert.False(t, out.Result.Identity.EmailVerified)
}

func TestFailures(t *testing.T) {
	gh := githubtest.New(t)
	app := startApp(t, gh)
	b := oauthtest.NewBrowser(t)

	gh.Deny()
	b.Post(app.URL+"/signin/github", url.Values{})
	require.ErrorIs(t, app.Last(t).Err, oauth.ErrAccessDenied)

	// A replayed code: GitHub's bad_verification_code.
	gh.SignIn(octocat)
	callback := b.PostUntil(app.URL+"/signin/github", url.Values{}, oauthtest.IsCallback).URL
	cookie := b.Cookie(app.URL, oauth.DefaultCookieName)
	b.Get(callback.String())
	require.NoError(t, app.Last(t).Err)
	b.SetCookie(app.URL, cookie)
	b.Get(callback.String())
	require.ErrorIs(t, app.Last(t).Err, oauth.ErrCodeRejected)

	// GitHub goes away before the callback.
	callback = b.PostUntil(app.URL+"/signin/github", url.Values{}, oauthtest.IsCallback).URL
	gh.Close()
	b.Get(callback.String())
	require.ErrorIs(t, app.Last(t).Err, oauth.ErrProviderUnavailable)
}

func TestNew(t *testing.T) {
	_, err := github.New(github.Config{ClientID: "c"})
	require.Error(t, err, "no RedirectURL")
	p, err := github.New(github.Config{ClientID: "c", RedirectURL: "https://app.example/cb"})
	require.NoError(t, err)
	assert.Equal(t, "github", p.ID())
	c, err := p.OAuth2Config(t.Context())
	require.NoError(t, err)
	assert.Equal(t, github.Endpoint, c.Endpoint)
	assert.Equal(t, github.DefaultScopes, c.Scopes)
}
