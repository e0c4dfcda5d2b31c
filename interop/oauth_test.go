package interop_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/internal/oauthtest"
	"github.com/luciago/mongoauth/oauth"
	"github.com/luciago/mongoauth/oauth/github"
	"github.com/luciago/mongoauth/oauth/github/githubtest"
)

// goGitHubApp is a Go application on the shared database with "Sign in
// with GitHub" (the stand-in GitHub gh), as a Lucia app moving to Go would
// serve it; it returns its URL and the outcome of the latest callback.
func goGitHubApp(t *testing.T, s *sides, gh *githubtest.Server) (string, func() (oauth.Result, error)) {
	t.Helper()
	a, err := auth.New[profile](s.adapter, auth.Config{PasswordHasher: auth.LuciaScrypt{}, Now: s.clock.Now, Development: true})
	require.NoError(t, err)
	server := httptest.NewUnstartedServer(nil)
	base := "http://" + server.Listener.Addr().String()
	provider, err := github.New(github.Config{ClientID: gh.ClientID, ClientSecret: gh.ClientSecret,
		RedirectURL: base + "/callback", Endpoint: gh.Endpoint(), APIURL: gh.URL})
	require.NoError(t, err)
	flow, err := oauth.New(a, oauth.Config[profile]{
		Providers: []oauth.Provider{provider},
		NewUser: func(_ context.Context, id oauth.Identity) (profile, error) {
			return profile{Username: id.Username}, nil
		},
	})
	require.NoError(t, err)
	var last struct {
		res oauth.Result
		err error
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /signin", func(w http.ResponseWriter, r *http.Request) {
		to, err := flow.SignIn(w, r, github.ProviderID, "")
		require.NoError(t, err)
		http.Redirect(w, r, to, http.StatusSeeOther)
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		last.res, last.err = flow.Callback(w, r, github.ProviderID)
	})
	server.Config.Handler = a.Middleware(mux)
	server.Start()
	t.Cleanup(server.Close)
	return base, func() (oauth.Result, error) { return last.res, last.err }
}

// githubScenario: a user whom Lucia v1's @lucia-auth/oauth 1.2.1 signed up
// with GitHub signs in through the Go flow, and the other way round.
func githubScenario(t *testing.T, ctx context.Context, s *sides) {
	gh := githubtest.New(t)
	octo := githubtest.User{ID: 4711, Login: "octo", Name: "Octo Cat",
		Emails: []githubtest.Email{{Email: "octo@example.com", Primary: true, Verified: true}}}

	// Lucia's own GitHub sign-in, from a code of the stand-in.
	var signedUp struct {
		User     jsUser
		Created  bool
		GithubID int64
	}
	s.js.must(&signedUp, "githubSignIn", gh.URL, gh.ClientID, gh.ClientSecret, gh.IssueCode(octo, ""), map[string]any{"username": "octo"})
	require.True(t, signedUp.Created)
	require.EqualValues(t, 4711, signedUp.GithubID)
	key, err := s.adapter.GetKey(ctx, "github:4711")
	require.NoError(t, err, "the key @lucia-auth/oauth wrote")
	assert.Equal(t, signedUp.User.UserID, key.UserID)
	assert.True(t, key.PrimaryKey)
	assert.Nil(t, key.HashedPassword)

	// The same GitHub user signs in through the Go flow: Lucia's user.
	base, last := goGitHubApp(t, s, gh)
	gh.SignIn(octo)
	browser := oauthtest.NewBrowser(t)
	browser.Post(base+"/signin", url.Values{})
	res, err := last()
	require.NoError(t, err)
	assert.False(t, res.Created)
	assert.Equal(t, signedUp.User.UserID, res.UserID)
	_, validated, code := s.js.validate(res.Session.ID)
	require.Empty(t, code, "Lucia accepts the Go session")
	assert.Equal(t, signedUp.User.UserID, validated.UserID)

	// A GitHub user new to both signs up through Go; Lucia's sign-in
	// then finds that user.
	hubot := githubtest.User{ID: 4712, Login: "hubot"}
	gh.SignIn(hubot)
	oauthtest.NewBrowser(t).Post(base+"/signin", url.Values{})
	res, err = last()
	require.NoError(t, err)
	require.True(t, res.Created)
	var signedIn struct {
		User    jsUser
		Created bool
	}
	s.js.must(&signedIn, "githubSignIn", gh.URL, gh.ClientID, gh.ClientSecret, gh.IssueCode(hubot, ""), map[string]any{"username": "hubot"})
	assert.False(t, signedIn.Created)
	assert.Equal(t, res.UserID, signedIn.User.UserID)
	assert.Equal(t, "hubot", signedIn.User.Attributes["username"])
}
