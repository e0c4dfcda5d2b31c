package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/internal/oauthtest"
	"github.com/luciago/mongoauth/oauth"
)

// logIn signs b in with a password.
func (f *fixture) logIn(b *oauthtest.Browser, username, password string) {
	f.t.Helper()
	p := b.Post(f.app.URL+"/login", url.Values{"username": {username}, "password": {password}})
	require.Equal(f.t, http.StatusOK, p.Status, p.Body)
}

// link walks b through linking the provider's user u.
func (f *fixture) link(b *oauthtest.Browser, u *oauthtest.IDP, subject string) oauthtest.Page {
	f.t.Helper()
	u.QueueUser(user(subject, "", false))
	return b.Post(f.app.URL+"/link/idp?next=/account", nil)
}

// TestLinkAndUnlink: a signed-in user links an identity, signs in with
// it, and unlinks it while a password remains.
func TestLinkAndUnlink(t *testing.T) {
	forEachStorage(t, func(t *testing.T, storage oauthtest.Storage) {
		f := newFixture(t, storage)
		ctx := oauthtest.Context(t)
		ann := f.app.SignUp(t, "ann", "ann's password")
		b := oauthtest.NewBrowser(t)
		f.logIn(b, "ann", "ann's password")
		session, err := f.app.Auth.UserSessions(ctx, ann.ID)
		require.NoError(t, err)
		require.Len(t, session, 1)

		page := f.link(b, f.idp, "ann-at-idp")
		assert.Equal(t, "/account", page.URL.Path)
		out := f.app.Last(t)
		require.NoError(t, out.Err)
		assert.True(t, out.Result.Linking)
		assert.True(t, out.Result.Linked)
		assert.False(t, out.Result.Created)
		assert.Equal(t, ann.ID, out.Result.UserID)
		assert.Empty(t, out.Result.Session.ID, "a link starts no session")
		assert.ElementsMatch(t, []string{"username:ann", "idp:ann-at-idp"}, f.app.KeysOf(t, ann.ID))
		assert.Equal(t, ann.ID, f.me(b), "still signed in, with the same session")
		now, err := f.app.Auth.UserSessions(ctx, ann.ID)
		require.NoError(t, err)
		assert.Equal(t, session[0].ID, now[0].ID)

		// Linking it again changes nothing.
		f.link(b, f.idp, "ann-at-idp")
		require.NoError(t, f.app.Last(t).Err)
		assert.False(t, f.app.Last(t).Result.Linked)

		// Another browser signs in with the identity: ann.
		phone := oauthtest.NewBrowser(t)
		f.signIn(phone, user("ann-at-idp", "", false), "")
		require.NoError(t, f.app.Last(t).Err)
		assert.Equal(t, ann.ID, f.me(phone))

		// Unlink it: the password remains. Signing in with the identity
		// then makes a new user.
		require.NoError(t, f.app.Flow.Unlink(ctx, ann.ID, "idp", "ann-at-idp"))
		assert.Equal(t, []string{"username:ann"}, f.app.KeysOf(t, ann.ID))
		f.signIn(oauthtest.NewBrowser(t), user("ann-at-idp", "", false), "")
		require.NoError(t, f.app.Last(t).Err)
		assert.True(t, f.app.Last(t).Result.Created)
		assert.NotEqual(t, ann.ID, f.app.Last(t).Result.UserID)

		// Not a key of the Flow's providers, not ann's, not there.
		require.ErrorIs(t, f.app.Flow.Unlink(ctx, ann.ID, oauthtest.PasswordProvider, "ann"), oauth.ErrUnknownProvider)
		require.ErrorIs(t, f.app.Flow.Unlink(ctx, ann.ID, "idp", "ann-at-idp"), auth.ErrInvalidKeyID, "another user's now")
		require.ErrorIs(t, f.app.Flow.Unlink(ctx, ann.ID, "idp", "nobody"), auth.ErrInvalidKeyID)
	})
}

func TestLinkRefusals(t *testing.T) {
	forEachStorage(t, func(t *testing.T, storage oauthtest.Storage) {
		f := newFixture(t, storage)
		f.app.SignUp(t, "ann", "ann's password")
		bob := f.app.SignUp(t, "bob", "bob's password")
		b := oauthtest.NewBrowser(t)

		// Without a session.
		page := b.Post(f.app.URL+"/link/idp", nil)
		assert.Equal(t, http.StatusForbidden, page.Status)
		assert.Contains(t, page.Body, auth.ErrNotAuthenticated.Error())

		// With a GET, which a link from any site could send.
		f.logIn(b, "ann", "ann's password")
		page = b.Get(f.app.URL + "/link/idp")
		assert.Equal(t, http.StatusForbidden, page.Status)
		assert.Contains(t, page.Body, "POST")
		assert.Zero(t, f.app.Callbacks())

		// An identity that is bob's.
		_, err := f.app.Auth.CreateKey(oauthtest.Context(t), bob.ID, auth.KeyParams{ProviderID: "idp", ProviderUserID: "bob-at-idp"})
		require.NoError(t, err)
		f.link(b, f.idp, "bob-at-idp")
		require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrIdentityTaken)
		assert.Equal(t, []string{"username:ann"}, f.app.KeysOf(t, userID(t, f, "ann")))

		// The link began in ann's session; bob signed in in this browser
		// before the callback: nothing is linked to either.
		f.idp.QueueUser(user("new-at-idp", "", false))
		callback := b.PostUntil(f.app.URL+"/link/idp", nil, oauthtest.IsCallback).URL
		f.logIn(b, "bob", "bob's password")
		b.Get(callback.String())
		require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrState)
		_, err = f.app.Auth.GetKey(oauthtest.Context(t), "idp", "new-at-idp")
		require.ErrorIs(t, err, auth.ErrInvalidKeyID)
	})
}

func userID(t *testing.T, f *fixture, username string) string {
	t.Helper()
	k, err := f.app.Auth.GetKey(oauthtest.Context(t), oauthtest.PasswordProvider, username)
	require.NoError(t, err)
	return k.UserID
}

// TestUnlinkKeepsAWayIn: the primary identity stays, and so does the last
// way to log in, also when two unlinks run at once.
func TestUnlinkKeepsAWayIn(t *testing.T) {
	forEachStorage(t, func(t *testing.T, storage oauthtest.Storage) {
		f := newFixture(t, storage)
		ctx := oauthtest.Context(t)

		// Created by a sign-in: its identity is the primary key.
		f.signIn(oauthtest.NewBrowser(t), user("cat-sub", "", false), "")
		cat := f.app.Last(t).Result.UserID
		require.ErrorIs(t, f.app.Flow.Unlink(ctx, cat, "idp", "cat-sub"), oauth.ErrPrimaryIdentity)

		// A user without a primary key and two identities: one may go,
		// not both.
		dan, err := f.app.Auth.CreateUser(ctx, oauthtest.Profile{Name: "dan"}, nil)
		require.NoError(t, err)
		for _, sub := range []string{"dan-1", "dan-2"} {
			_, err := f.app.Auth.CreateKey(ctx, dan.ID, auth.KeyParams{ProviderID: "idp", ProviderUserID: sub})
			require.NoError(t, err)
		}
		require.NoError(t, f.app.Flow.Unlink(ctx, dan.ID, "idp", "dan-1"))
		require.ErrorIs(t, f.app.Flow.Unlink(ctx, dan.ID, "idp", "dan-2"), oauth.ErrLastLoginMethod)
		assert.Equal(t, []string{"idp:dan-2"}, f.app.KeysOf(t, dan.ID))
	})
}

// gatedDeletes holds key deletions until two have arrived, so that two
// Unlinks each check before either deletes.
type gatedDeletes struct {
	auth.Adapter
	arrived sync.WaitGroup
}

func (g *gatedDeletes) DeleteNonPrimaryKey(ctx context.Context, keyID string) error {
	g.arrived.Done()
	g.arrived.Wait()
	return g.Adapter.DeleteNonPrimaryKey(ctx, keyID)
}

func TestConcurrentUnlinksLeaveOne(t *testing.T) {
	forEachStorage(t, func(t *testing.T, storage oauthtest.Storage) {
		gated := &gatedDeletes{Adapter: storage.Open(t)}
		idp := oauthtest.StartIDP(t)
		app := oauthtest.StartApp(t, oauthtest.AppConfig{
			Adapter:   gated,
			Providers: idp.Providers(t, "idp"),
		})
		ctx := oauthtest.Context(t)
		eve, err := app.Auth.CreateUser(ctx, oauthtest.Profile{Name: "eve"}, nil)
		require.NoError(t, err)
		for _, sub := range []string{"eve-1", "eve-2"} {
			_, err := app.Auth.CreateKey(ctx, eve.ID, auth.KeyParams{ProviderID: "idp", ProviderUserID: sub})
			require.NoError(t, err)
		}

		gated.arrived.Add(2)
		errs := make([]error, 2)
		var done sync.WaitGroup
		for i, sub := range []string{"eve-1", "eve-2"} {
			done.Go(func() { errs[i] = app.Flow.Unlink(ctx, eve.ID, "idp", sub) })
		}
		done.Wait()

		assert.NotEmpty(t, app.KeysOf(t, eve.ID), "a way to log in remains")
		refused := 0
		for _, err := range errs {
			if err != nil {
				require.ErrorIs(t, err, oauth.ErrLastLoginMethod)
				refused++
			}
		}
		assert.GreaterOrEqual(t, refused, 1, "at least one unlink reports that it was the last way in: %v", errs)
		assert.Len(t, app.KeysOf(t, eve.ID), refused, "each refused unlink left its key")
	})
}
