package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBrowserPasswordReset walks through a password reset in headless
// Chromium with the development sender: ann gives her account an address,
// forgets her password, asks for a link from another browser, follows it
// from /dev/mail, sets a new password, and is logged in there while her
// other browser is signed out; the link then no longer works.
func TestBrowserPasswordReset(t *testing.T) {
	browser := startChromium(t)
	base, db := startApp(t)
	laptop := newBrowserUser(t, browser, "ann's laptop", base)
	phone := newBrowserUser(t, browser, "ann's phone", base)

	require.EqualValues(t, http.StatusOK, laptop.submit("/signup", "username", "ann", "password", "first password"))
	require.EqualValues(t, http.StatusOK, laptop.submit("/email", "email", "ann@example.com"))
	assert.Equal(t, notices["address-saved"], laptop.message("notice"))
	assert.Equal(t, "not confirmed yet", laptop.message("email-status"))
	userID := userIDOf(t, db, "ann")

	// On the phone: the login page's link, the form, the same notice
	// whatever the address.
	require.Equal(t, "login", phone.open("/login"))
	require.EqualValues(t, http.StatusOK, phone.click("#forgot"))
	require.Equal(t, "forgot", phone.page())
	require.EqualValues(t, http.StatusOK, phone.submit("/forgot", "email", "ann@example.com"))
	assert.Equal(t, msgResetSent, phone.message("notice"))

	// The development sender's page shows the message and its link.
	require.Equal(t, "devmail", phone.open("/dev/mail"))
	assert.Equal(t, "ann@example.com", evaluate[string](phone, `document.querySelector("#mail .to").textContent`))
	link := evaluate[string](phone, `document.querySelector("#mail .mail-link").href`)
	require.True(t, strings.HasPrefix(link, base+resetPath+"?token="), link)
	require.EqualValues(t, http.StatusOK, phone.click("#mail .mail-link"))
	require.Equal(t, "reset", phone.page())

	require.EqualValues(t, http.StatusOK, phone.submit(strings.TrimPrefix(link, base), "new", "reset password"))
	require.Equal(t, "home", phone.page(), "the reset logs this browser in")
	assert.Equal(t, notices["password-reset"], phone.message("notice"))
	assert.Equal(t, 1, phone.sessionsListed())
	laptop.requireLoggedOut("after the reset")
	assert.Equal(t, stored{Users: 1, Sessions: 1, Keys: 2}, storedFor(t, db, userID), "username and e-mail keys; the token is gone")

	// The link works once; the old password is gone, the new one works.
	require.Equal(t, "error", laptop.open(strings.TrimPrefix(link, base)))
	assert.Equal(t, msgBadLink, laptop.message("error"))
	assert.EqualValues(t, http.StatusUnauthorized, laptop.submit("/login", "username", "ann", "password", "first password"))
	require.EqualValues(t, http.StatusOK, laptop.submit("/login", "username", "ann", "password", "reset password"))
	require.Equal(t, "home", laptop.page())
}
