package oauth_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/internal/oauthtest"
	"github.com/luciago/mongoauth/oauth"
)

// TestDeniedConsent: the user declines at the provider.
func TestDeniedConsent(t *testing.T) {
	f := newFixture(t, oauthtest.Storages()[1])
	f.idp.Deny(true)
	b := oauthtest.NewBrowser(t)
	f.signIn(b, user("ann", "", false), "")
	err := f.app.Last(t).Err
	require.ErrorIs(t, err, oauth.ErrAccessDenied)
	var pe *oauth.ProviderError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "idp", pe.Provider)
	assert.Equal(t, "access_denied", pe.Code)
	assert.Empty(t, f.me(b))
	assert.Nil(t, b.Cookie(f.app.URL, oauth.DefaultCookieName), "the state is used up")
}

// TestProviderDown: a provider that cannot be reached, at the start of a
// sign-in (discovery) and at the callback (the token endpoint), and one
// whose token endpoint answers "temporarily unavailable".
func TestProviderDown(t *testing.T) {
	f := newFixture(t, oauthtest.Storages()[1])
	b := oauthtest.NewBrowser(t)

	// Discovery works; the token endpoint says it is overloaded.
	f.signIn(b, user("ann", "", false), "")
	require.NoError(t, f.app.Last(t).Err)
	callback := f.beginUntilCallback(b, "ann")
	f.idp.QueueError(&mockoidc.ServerError{Code: http.StatusServiceUnavailable, Error: "temporarily_unavailable"})
	b.Get(callback.String())
	require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrProviderUnavailable)

	// The provider goes away between the redirect and the callback.
	callback = f.beginUntilCallback(b, "ann")
	require.NoError(t, f.idp.Shutdown())
	b.Get(callback.String())
	require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrProviderUnavailable)

	// An app whose provider was never reached: the sign-in cannot start.
	down := newFixture(t, oauthtest.Storages()[1])
	require.NoError(t, down.idp.Shutdown())
	page := b.Post(down.app.URL+"/signin/idp", nil)
	assert.Equal(t, http.StatusForbidden, page.Status)
	assert.Contains(t, page.Body, oauth.ErrProviderUnavailable.Error())
	assert.Len(t, page.Visited, 1)
}

// TestConcurrentFirstSignIn: two callbacks of one new identity at once
// (two tabs) make one user. The second callback's CreateUser finds the key
// the first created between the second's read and write, and signs in to
// that user.
func TestConcurrentFirstSignIn(t *testing.T) {
	forEachStorage(t, func(t *testing.T, storage oauthtest.Storage) {
		var f *fixture
		var winner string
		f = newFixture(t, storage, func(c *oauth.Config[oauthtest.Profile]) {
			c.NewUser = func(ctx context.Context, id oauth.Identity) (oauthtest.Profile, error) {
				// The other callback gets there first.
				u, err := f.app.Auth.CreateUser(ctx, oauthtest.Profile{Name: "first tab"}, &auth.KeyParams{ProviderID: id.Provider, ProviderUserID: id.ProviderUserID})
				require.NoError(t, err)
				winner = u.ID
				return oauthtest.Profile{Name: "second tab"}, nil
			}
		})
		b := oauthtest.NewBrowser(t)
		f.signIn(b, user("ann", "", false), "")
		out := f.app.Last(t)
		require.NoError(t, out.Err)
		assert.False(t, out.Result.Created)
		assert.Equal(t, winner, out.Result.UserID)
		assert.Equal(t, winner, f.me(b))
	})
}
