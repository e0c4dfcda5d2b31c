package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/internal/oauthtest"
	"github.com/luciago/mongoauth/oauth"
)

// These tests play the attacks a sign-in with a provider must withstand.
// The attacker has a browser of their own, whose state cookie they can
// read and rewrite, and can get a victim's browser to open any URL.

// beginUntilCallback starts a sign-in in b as the provider's user subject
// and stops where the provider sends the browser back: it returns that
// callback URL, which holds the code and the state.
func (f *fixture) beginUntilCallback(b *oauthtest.Browser, subject string) *url.URL {
	f.t.Helper()
	f.idp.QueueUser(user(subject, "", false))
	callback := b.PostUntil(f.app.URL+"/signin/idp", nil, oauthtest.IsCallback).URL
	require.NotNil(f.t, callback, "the provider redirected back")
	require.NotEmpty(f.t, callback.Query().Get("code"))
	return callback
}

// stateOf reads b's state cookie.
func (f *fixture) stateOf(b *oauthtest.Browser) oauth.FlowState {
	f.t.Helper()
	c := b.Cookie(f.app.URL, oauth.DefaultCookieName)
	require.NotNil(f.t, c, "a state cookie")
	s, ok := oauth.DecodeFlowState(c.Value)
	require.True(f.t, ok)
	return s
}

// setState rewrites b's state cookie.
func (f *fixture) setState(b *oauthtest.Browser, s oauth.FlowState) {
	f.t.Helper()
	b.SetCookie(f.app.URL, &http.Cookie{Name: oauth.DefaultCookieName, Value: s.Encode()})
}

// requireNoKey checks that the identity got no key.
func (f *fixture) requireNoKey(subject string) {
	f.t.Helper()
	_, err := f.app.Auth.GetKey(oauthtest.Context(f.t), "idp", subject)
	require.ErrorIs(f.t, err, auth.ErrInvalidKeyID, "idp:%s has a key", subject)
}

// TestForgedCallback: login CSRF. The attacker begins a sign-in with
// their own identity and gets the victim's browser to open the callback,
// to sign the victim in to the attacker's account. The victim's browser
// has no state cookie, or one of its own sign-in, and is refused.
func TestForgedCallback(t *testing.T) {
	forEachStorage(t, func(t *testing.T, storage oauthtest.Storage) {
		f := newFixture(t, storage)
		attacker, victim := oauthtest.NewBrowser(t), oauthtest.NewBrowser(t)
		forged := f.beginUntilCallback(attacker, "mallory")

		victim.Get(forged.String())
		require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrState)
		assert.Empty(t, f.me(victim))

		// A victim in the middle of a sign-in of their own: refused too,
		// and the victim's own sign-in still completes.
		own := f.beginUntilCallback(victim, "victim")
		victim.Get(forged.String())
		require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrState)
		assert.Empty(t, f.me(victim))
		victim.Get(own.String())
		require.NoError(t, f.app.Last(t).Err)
		assert.Equal(t, "victim", f.app.Last(t).Result.Identity.ProviderUserID)
		f.requireNoKey("mallory")

		// A callback without its state parameter.
		callback := f.beginUntilCallback(victim, "victim")
		q := callback.Query()
		q.Del("state")
		callback.RawQuery = q.Encode()
		victim.Get(callback.String())
		require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrState)

		// The first of two sign-ins in one browser: the second replaced
		// its state.
		first := f.beginUntilCallback(victim, "victim")
		f.beginUntilCallback(victim, "victim")
		victim.Get(first.String())
		require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrState)

		// An expired sign-in.
		callback = f.beginUntilCallback(victim, "victim")
		s := f.stateOf(victim)
		s.Expires = 1
		f.setState(victim, s)
		victim.Get(callback.String())
		require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrState)
	})
}

// TestCrossSiteBegin: another site cannot start a sign-in or a link in
// the user's browser (auth's CSRF check on the POST).
func TestCrossSiteBegin(t *testing.T) {
	f := newFixture(t, oauthtest.Storages()[1])
	f.app.SignUp(t, "ann", "ann's password")
	b := oauthtest.NewBrowser(t)
	f.logIn(b, "ann", "ann's password")
	for _, path := range []string{"/signin/idp", "/link/idp"} {
		req, err := http.NewRequest(http.MethodPost, f.app.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Origin", "https://evil.example")
		page := b.Do(req)
		assert.Equal(t, http.StatusForbidden, page.Status, path)
		assert.Len(t, page.Visited, 1, "%s: not sent to the provider", path)
	}
	assert.Nil(t, b.Cookie(f.app.URL, oauth.DefaultCookieName))
}

// TestStolenCode: the attacker has the victim's callback URL (from a log,
// a Referer, the history), so the victim's code and state, and plays it
// in their own browser with a state cookie rewritten to that state. PKCE
// stops it: the code is bound to the victim's verifier, which never left
// the victim's browser.
func TestStolenCode(t *testing.T) {
	forEachStorage(t, func(t *testing.T, storage oauthtest.Storage) {
		f := newFixture(t, storage)
		attacker, victim := oauthtest.NewBrowser(t), oauthtest.NewBrowser(t)
		stolen := f.beginUntilCallback(victim, "victim")

		f.beginUntilCallback(attacker, "mallory")
		s := f.stateOf(attacker)
		s.State = stolen.Query().Get("state")
		f.setState(attacker, s)
		attacker.Get(stolen.String())
		require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrCodeRejected)
		var pe *oauth.ProviderError
		require.ErrorAs(t, f.app.Last(t).Err, &pe)
		assert.Equal(t, "invalid_grant", pe.Code)
		assert.Empty(t, f.me(attacker))
		f.requireNoKey("victim")

		// A state cookie without a verifier is no state at all.
		stolen = f.beginUntilCallback(victim, "victim")
		s = f.stateOf(victim)
		s.Verifier = ""
		f.setState(victim, s)
		victim.Get(stolen.String())
		require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrState)
		f.requireNoKey("victim")
	})
}

// TestReplayedCallback: a callback opened twice. The first signs in; the
// second finds no state cookie, and with the cookie put back (the
// attacker copied it) the provider refuses the used code.
func TestReplayedCallback(t *testing.T) {
	forEachStorage(t, func(t *testing.T, storage oauthtest.Storage) {
		f := newFixture(t, storage)
		b := oauthtest.NewBrowser(t)
		callback := f.beginUntilCallback(b, "ann")
		cookie := b.Cookie(f.app.URL, oauth.DefaultCookieName)
		b.Get(callback.String())
		require.NoError(t, f.app.Last(t).Err)
		userID := f.app.Last(t).Result.UserID

		// The same browser, back in its history: the cookie is gone.
		b.Get(callback.String())
		require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrState)
		replayer := oauthtest.NewBrowser(t)
		replayer.SetCookie(f.app.URL, &http.Cookie{Name: cookie.Name, Value: cookie.Value})
		replayer.Get(callback.String())
		require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrCodeRejected)
		assert.Empty(t, f.me(replayer))
		sessions, err := f.app.Auth.UserSessions(oauthtest.Context(t), userID)
		require.NoError(t, err)
		assert.Len(t, sessions, 1, "the replays started no session")
	})
}

// TestNonce: an ID token that does not carry the sign-in's nonce proves
// nothing about this sign-in (an ID token replayed from another one).
func TestNonce(t *testing.T) {
	f := newFixture(t, oauthtest.Storages()[1])
	b := oauthtest.NewBrowser(t)
	callback := f.beginUntilCallback(b, "ann")
	s := f.stateOf(b)
	s.Nonce = "another sign-in's nonce"
	f.setState(b, s)
	b.Get(callback.String())
	require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrInvalidIdentity)
	assert.Contains(t, f.app.Last(t).Err.Error(), "nonce")
	assert.Empty(t, f.me(b))
	f.requireNoKey("ann")
}

// TestOpenRedirect: the return path survives only if it is a path of
// this site; anything that would send the signed-in user elsewhere
// becomes "/", also when the attacker rewrites it in the state cookie.
func TestOpenRedirect(t *testing.T) {
	f := newFixture(t, oauthtest.Storages()[1])
	b := oauthtest.NewBrowser(t)
	app, idp := mustParse(t, f.app.URL).Host, mustParse(t, f.idp.Addr()).Host
	offSite := func(u *url.URL) bool { return u.Host != app && u.Host != idp }
	signIn := func(next string) oauthtest.Page {
		f.idp.QueueUser(user("ann", "", false))
		return b.PostUntil(f.app.URL+"/signin/idp?next="+url.QueryEscape(next), nil, offSite)
	}
	for _, next := range []string{
		"https://evil.example/", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
		"/\t/evil.example", "/\n/evil.example", " /evil", "http:evil.example", "javascript:alert(1)",
		"evil.example", "", "/" + strings.Repeat("a", 2000),
	} {
		page := signIn(next)
		require.NoError(t, f.app.Last(t).Err, "%q", next)
		assert.Equal(t, "/", f.app.Last(t).Result.ReturnTo, "%q", next)
		assert.Equal(t, f.app.URL+"/", page.URL.String(), "%q", next)
	}
	for _, next := range []string{"/account", "/a/b?tab=keys&x=%2F%2Fy", "/page#top"} {
		signIn(next)
		assert.Equal(t, next, f.app.Last(t).Result.ReturnTo)
	}

	callback := f.beginUntilCallback(b, "ann")
	s := f.stateOf(b)
	s.ReturnTo = "//evil.example/phish"
	f.setState(b, s)
	page := b.GetUntil(callback.String(), offSite)
	require.NoError(t, f.app.Last(t).Err)
	assert.Equal(t, "/", f.app.Last(t).Result.ReturnTo)
	assert.Equal(t, f.app.URL+"/", page.URL.String())
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

func TestLocalPath(t *testing.T) {
	for p, want := range map[string]string{
		"/": "/", "/a": "/a", "/a?b=c": "/a?b=c", "/%2F%2Fx": "/%2F%2Fx",
		"//x": "/", "/\\x": "/", "x": "/", "https://x/": "/", "/a b": "/", "/\x00": "/", "/\x7f": "/",
	} {
		assert.Equal(t, want, oauth.LocalPath(p), "%q", p)
	}
}

// TestUnverifiedEmail: a new identity joins the account with its email
// address only when the provider verified the address. Anyone can sign
// up at some provider with someone else's address.
func TestUnverifiedEmail(t *testing.T) {
	forEachStorage(t, func(t *testing.T, storage oauthtest.Storage) {
		var f *fixture
		var newUsers atomic.Int32
		f = newFixture(t, storage, func(c *oauth.Config[oauthtest.Profile]) {
			c.FindUserByEmail = func(ctx context.Context, email string) (string, error) {
				k, err := f.app.Auth.GetKey(ctx, "email", email)
				if errors.Is(err, auth.ErrInvalidKeyID) {
					return "", nil
				}
				return k.UserID, err
			}
			next := c.NewUser
			c.NewUser = func(ctx context.Context, id oauth.Identity) (oauthtest.Profile, error) {
				newUsers.Add(1)
				return next(ctx, id)
			}
		})
		ctx := oauthtest.Context(t)
		ann, err := f.app.Auth.CreateUser(ctx, oauthtest.Profile{Name: "ann"},
			&auth.KeyParams{ProviderID: "email", ProviderUserID: "ann@example.com", Password: "ann's password"})
		require.NoError(t, err)

		b := oauthtest.NewBrowser(t)
		f.signIn(b, user("impostor", "ann@example.com", false), "")
		require.ErrorIs(t, f.app.Last(t).Err, oauth.ErrEmailUnverified)
		assert.Empty(t, f.me(b))
		f.requireNoKey("impostor")
		assert.Zero(t, newUsers.Load(), "no user was made either")
		assert.Equal(t, []string{"email:ann@example.com"}, f.app.KeysOf(t, ann.ID))

		f.signIn(b, user("ann-at-idp", "ann@example.com", true), "")
		out := f.app.Last(t)
		require.NoError(t, out.Err)
		assert.True(t, out.Result.Linked)
		assert.False(t, out.Result.Created)
		assert.Equal(t, ann.ID, out.Result.UserID)
		assert.Equal(t, ann.ID, f.me(b))
		assert.ElementsMatch(t, []string{"email:ann@example.com", "idp:ann-at-idp"}, f.app.KeysOf(t, ann.ID))

		// An address nobody has: a new user, verified or not.
		f.signIn(oauthtest.NewBrowser(t), user("bob-at-idp", "bob@example.com", false), "")
		require.NoError(t, f.app.Last(t).Err)
		assert.True(t, f.app.Last(t).Result.Created)
	})
}
