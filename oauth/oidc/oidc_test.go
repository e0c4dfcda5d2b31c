package oidc_test

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/internal/oauthtest"
	"github.com/luciago/mongoauth/oauth"
	"github.com/luciago/mongoauth/oauth/oidc"
)

// editedUser is a provider user whose ID token claims and userinfo
// document a test changes: the provider still signs the token with its
// key, as a provider with that bug (or a token meant for someone else)
// would.
type editedUser struct {
	mockoidc.MockUser
	claims   func(map[string]any)
	userinfo map[string]any
}

func (u *editedUser) Claims(scope []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	c, err := u.MockUser.Claims(scope, base)
	if err != nil || u.claims == nil {
		return c, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m jwt.MapClaims
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	u.claims(m)
	return m, nil
}

func (u *editedUser) Userinfo(scope []string) ([]byte, error) {
	if u.userinfo == nil {
		return u.MockUser.Userinfo(scope)
	}
	return json.Marshal(u.userinfo)
}

// signIn signs in as u with a fresh app on SQLite and returns the
// callback's outcome.
func signIn(t *testing.T, idp *oauthtest.IDP, u mockoidc.User, scopes ...string) oauthtest.Outcome {
	t.Helper()
	app := oauthtest.StartApp(t, oauthtest.AppConfig{
		Adapter:   oauthtest.Storages()[1].Open(t),
		Providers: idp.Providers(t, "idp", scopes...),
	})
	idp.QueueUser(u)
	oauthtest.NewBrowser(t).Post(app.URL+"/signin/idp", url.Values{})
	return app.Last(t)
}

func TestIDTokenVerification(t *testing.T) {
	idp := oauthtest.StartIDP(t)
	for _, tc := range []struct {
		name   string
		claims func(map[string]any)
		reason string
	}{
		{"another audience", func(c map[string]any) { c["aud"] = "another-client" }, "audience"},
		{"another authorized party", func(c map[string]any) {
			c["aud"] = []string{idp.ClientID, "another-client"}
			c["azp"] = "another-client"
		}, "authorized party"},
		{"an authorized party among several audiences left out", func(c map[string]any) {
			c["aud"] = []string{idp.ClientID, "another-client"}
		}, "authorized party"},
		{"another issuer", func(c map[string]any) { c["iss"] = "https://evil.example" }, "issued by a different provider"},
		{"expired", func(c map[string]any) { c["exp"] = 1_000_000_000 }, "expired"},
		{"an access token hash that does not match", func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }, "access token hash"},
		{"no nonce", func(c map[string]any) { delete(c, "nonce") }, "nonce"},
	} {
		u := &editedUser{MockUser: mockoidc.MockUser{Subject: "ann"}, claims: tc.claims}
		out := signIn(t, idp, u)
		require.ErrorIs(t, out.Err, oauth.ErrInvalidIdentity, tc.name)
		assert.Contains(t, out.Err.Error(), tc.reason, tc.name)
	}

	// The same provider, token unedited: accepted.
	out := signIn(t, idp, &editedUser{MockUser: mockoidc.MockUser{Subject: "ann"}})
	require.NoError(t, out.Err)
	assert.Equal(t, "ann", out.Result.Identity.ProviderUserID)
}

func TestClaims(t *testing.T) {
	idp := oauthtest.StartIDP(t)

	// email_verified as a string, as AWS Cognito sends it.
	out := signIn(t, idp, &editedUser{MockUser: mockoidc.MockUser{Subject: "ann", Email: "ann@example.com"},
		claims: func(c map[string]any) { c["email_verified"] = "true"; c["name"] = "Ann" }})
	require.NoError(t, out.Err)
	assert.True(t, out.Result.Identity.EmailVerified)
	assert.Equal(t, "Ann", out.Result.Identity.Name)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(out.Result.Identity.Raw, &raw))
	assert.Equal(t, "ann", raw["sub"])

	for _, odd := range []any{"yes", 1, nil} {
		out = signIn(t, idp, &editedUser{MockUser: mockoidc.MockUser{Subject: "ann", Email: "ann@example.com"},
			claims: func(c map[string]any) { c["email_verified"] = odd }})
		require.NoError(t, out.Err)
		assert.False(t, out.Result.Identity.EmailVerified, "%v is not a plain yes", odd)
	}

	// No address in the ID token: the userinfo endpoint's.
	out = signIn(t, idp, &editedUser{MockUser: mockoidc.MockUser{Subject: "bob"},
		userinfo: map[string]any{"sub": "bob", "email": "bob@example.com", "email_verified": true, "preferred_username": "bobby"}})
	require.NoError(t, out.Err)
	assert.Equal(t, "bob@example.com", out.Result.Identity.Email)
	assert.True(t, out.Result.Identity.EmailVerified)
	assert.Equal(t, "bobby", out.Result.Identity.Username)

	// ... whose subject must be the ID token's.
	out = signIn(t, idp, &editedUser{MockUser: mockoidc.MockUser{Subject: "bob"},
		userinfo: map[string]any{"sub": "mallory", "email": "mallory@example.com", "email_verified": true}})
	require.ErrorIs(t, out.Err, oauth.ErrInvalidIdentity)
}

// TestKeysUnavailable: a provider whose keys cannot be fetched is down,
// not lying.
func TestKeysUnavailable(t *testing.T) {
	idp := oauthtest.StartIDP(t)
	idp.Fail(mockoidc.JWKSEndpoint, true)
	out := signIn(t, idp, &mockoidc.MockUser{Subject: "ann"})
	require.ErrorIs(t, out.Err, oauth.ErrProviderUnavailable)
	require.NotErrorIs(t, out.Err, oauth.ErrInvalidIdentity)

	idp.Fail(mockoidc.JWKSEndpoint, false)
	require.NoError(t, signIn(t, idp, &mockoidc.MockUser{Subject: "ann"}).Err)
}

func TestNew(t *testing.T) {
	good := oidc.Config{ID: "idp", Issuer: "https://idp.example", ClientID: "c", RedirectURL: "https://app.example/cb"}
	p, err := oidc.New(good)
	require.NoError(t, err)
	assert.Equal(t, "idp", p.ID())
	for _, edit := range []func(*oidc.Config){
		func(c *oidc.Config) { c.ID = "" },
		func(c *oidc.Config) { c.ID = "a:b" },
		func(c *oidc.Config) { c.Issuer = "" },
		func(c *oidc.Config) { c.ClientID = "" },
		func(c *oidc.Config) { c.RedirectURL = "" },
	} {
		c := good
		edit(&c)
		_, err := oidc.New(c)
		assert.Error(t, err)
	}
}
