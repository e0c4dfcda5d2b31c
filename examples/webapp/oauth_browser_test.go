package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/internal/oauthtest"
)

// TestBrowserProvider signs in through an OpenID provider in headless
// Chromium: a new account made by the provider, then an account with a
// password that links the provider, signs out and signs in with it. The
// buttons are forms whose navigation the app redirects to the provider,
// which the pages' CSP (form-action) must allow.
func TestBrowserProvider(t *testing.T) {
	browser := startChromium(t)
	idp := oauthtest.StartIDP(t)
	a, base, db := startProviderApp(t, idp)

	// Zoe signs up with the provider.
	zoe := newBrowserUser(t, browser, "zoe", base)
	require.Equal(t, "login", zoe.open("/login"))
	idp.QueueUser(idpUser("zoe-sub", "zoe"))
	require.EqualValues(t, http.StatusOK, zoe.click("#signin-oidc"))
	require.Equal(t, "home", zoe.page())
	assert.Equal(t, base+"/", zoe.location())
	assert.Equal(t, "zoe", evaluate[string](zoe, `document.getElementById("username").textContent`))
	zoeID := keyOwner(t, a, "oidc", "zoe-sub")
	assert.Equal(t, stored{Users: 1, Sessions: 1, Keys: 1}, storedFor(t, db, zoeID))
	assert.Empty(t, evaluate[string](zoe, `document.cookie`), "no cookie, state or session, is readable by scripts")

	// Ann has a password; she links the provider on the sign-in methods
	// page, confirming with her password.
	ann := newBrowserUser(t, browser, "ann", base)
	require.EqualValues(t, http.StatusOK, ann.submit("/signup", "username", "ann", "password", "ann's password"))
	require.Equal(t, "home", ann.page())
	require.Equal(t, "methods", ann.open("/methods"))
	idp.QueueUser(idpUser("ann-sub", "ann.at.idp"))
	require.EqualValues(t, http.StatusOK, ann.submit("/methods", "password", "ann's password"))
	require.Equal(t, "methods", ann.page())
	assert.Equal(t, base+"/methods?done=linked", ann.location())
	assert.Equal(t, 2, evaluate[int](ann, `document.querySelectorAll("#methods li").length`))

	// She logs out and signs in with the provider: her account.
	require.EqualValues(t, http.StatusOK, ann.click("#logout"))
	require.Equal(t, "login", ann.open("/login"))
	idp.QueueUser(idpUser("ann-sub", "ann.at.idp"))
	require.EqualValues(t, http.StatusOK, ann.click("#signin-oidc"))
	require.Equal(t, "home", ann.page())
	assert.Equal(t, "ann", evaluate[string](ann, `document.getElementById("username").textContent`))

	// And unlinks it.
	require.Equal(t, "methods", ann.open("/methods"))
	require.EqualValues(t, http.StatusOK, ann.click("#methods .unlink"))
	assert.Equal(t, "It is unlinked: you can no longer sign in with it.", ann.message("notice"))
	assert.Equal(t, 1, evaluate[int](ann, `document.querySelectorAll("#methods li").length`))
}
