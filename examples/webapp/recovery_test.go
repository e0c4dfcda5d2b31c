package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/mongotest"
)

// signUpWithEmail signs a visitor up as username, with password, and
// gives the account address.
func signUpWithEmail(t *testing.T, base, username, password, address string) *visitor {
	t.Helper()
	v := newVisitor(t, base)
	res := v.post("/signup", "username", username, "password", password)
	require.Equal(t, http.StatusSeeOther, res.Status, res.message("error"))
	res = v.post("/email", "email", address)
	require.Equal(t, http.StatusSeeOther, res.Status, res.message("error"))
	require.Equal(t, "/email?done=address-saved", res.Location)
	return v
}

var linkPath = regexp.MustCompile(`https?://[^/\s]+(/\S+)`)

// lastLink returns the path of the link in the newest message to address,
// once the background deliveries are done.
func lastLink(t *testing.T, a *app, address string) string {
	t.Helper()
	a.recovery.Wait()
	for _, m := range a.devMail.Messages() {
		if m.To == address {
			match := linkPath.FindStringSubmatch(m.Text)
			require.NotNil(t, match, m.Text)
			return match[1]
		}
	}
	t.Fatalf("no message to %s", address)
	return ""
}

func mailCount(a *app, address string) int {
	a.recovery.Wait()
	n := 0
	for _, m := range a.devMail.Messages() {
		if m.To == address {
			n++
		}
	}
	return n
}

// TestPasswordResetOverHTTP: a reset by the link ends every session of
// the user, logs this browser in, works once, and the new password is the
// password.
func TestPasswordResetOverHTTP(t *testing.T) {
	a, base, _ := startTestApp(t)
	other := signUpWithEmail(t, base, "ann", "ann's old password", "ann@example.com")
	require.Equal(t, http.StatusOK, other.get("/").Status)

	v := newVisitor(t, base)
	assert.Contains(t, v.get("/login").Body, `href="/forgot"`)
	res := v.post("/forgot", "email", "Ann@Example.com")
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, msgResetSent, res.message("notice"))
	link := lastLink(t, a, "ann@example.com")
	require.True(t, strings.HasPrefix(link, resetPath+"?token="), link)

	page := v.get(link)
	require.Equal(t, http.StatusOK, page.Status)
	token, err := url.ParseQuery(strings.TrimPrefix(link, resetPath+"?"))
	require.NoError(t, err)
	assert.Contains(t, page.Body, `value="`+token.Get("token")+`"`)

	res = v.post(resetPath, "token", token.Get("token"), "new", "short")
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, "the app's own rule, before the token is used")
	res = v.post(resetPath, "token", token.Get("token"), "new", "ann's new password")
	require.Equal(t, http.StatusSeeOther, res.Status, res.message("error"))
	require.Equal(t, "/?done=password-reset", res.Location)
	home := v.get(res.Location)
	require.Equal(t, http.StatusOK, home.Status, "the reset logged this browser in")
	assert.Equal(t, notices["password-reset"], home.message("notice"))
	assert.Equal(t, http.StatusSeeOther, other.get("/").Status, "the other session has ended")

	again := newVisitor(t, base)
	res = again.post(resetPath, "token", token.Get("token"), "new", "attacker's password")
	assert.Equal(t, http.StatusBadRequest, res.Status, "the link works once")
	assert.Equal(t, msgBadLink, res.message("error"))
	assert.Equal(t, http.StatusBadRequest, again.get(link).Status)
	assert.Equal(t, http.StatusSeeOther, again.post("/login", "username", "ann", "password", "ann's new password").Status)
	assert.Equal(t, http.StatusUnauthorized, newVisitor(t, base).post("/login", "username", "ann", "password", "ann's old password").Status)
}

// TestForgotPasswordSameAnswer: the page a visitor gets back is the same,
// byte for byte, for an address with an account and one without; only the
// first gets mail. Beyond the throttle, both get the same 429.
func TestForgotPasswordSameAnswer(t *testing.T) {
	a, base, _ := startTestApp(t)
	signUpWithEmail(t, base, "bob", "bob's password", "bob@example.com")
	v := newVisitor(t, base)
	known := v.post("/forgot", "email", "bob@example.com")
	unknown := v.post("/forgot", "email", "nobody@example.com")
	require.Equal(t, http.StatusOK, known.Status)
	assert.Equal(t, known, unknown)
	assert.Equal(t, 1, mailCount(a, "bob@example.com"))
	assert.Zero(t, mailCount(a, "nobody@example.com"))

	// The default address throttle lets 3 requests through, then one per
	// 10 minutes: the third request has been answered for each address.
	for _, address := range []string{"bob@example.com", "nobody@example.com"} {
		for range 2 {
			require.Equal(t, http.StatusOK, v.post("/forgot", "email", address).Status)
		}
	}
	known, unknown = v.post("/forgot", "email", "bob@example.com"), v.post("/forgot", "email", "nobody@example.com")
	require.Equal(t, http.StatusTooManyRequests, known.Status)
	assert.Equal(t, known, unknown)
	assert.NotEmpty(t, known.RetryAfter)
	assert.Equal(t, 3, mailCount(a, "bob@example.com"))

	bad := v.post("/forgot", "email", "not an address")
	assert.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	assert.Equal(t, msgBadAddress, bad.message("error"))
}

func TestEmailVerificationOverHTTP(t *testing.T) {
	a, base, _ := startTestApp(t)
	v := signUpWithEmail(t, base, "cat", "cat's password", "cat@example.com")
	page := v.get("/email")
	require.Equal(t, http.StatusOK, page.Status)
	assert.Contains(t, page.Body, "not confirmed yet")

	res := v.post("/email/verify")
	require.Equal(t, http.StatusSeeOther, res.Status, res.message("error"))
	link := lastLink(t, a, "cat@example.com")
	require.True(t, strings.HasPrefix(link, verifyPath+"?token="), link)
	token := strings.TrimPrefix(link, verifyPath+"?token=")

	// Opening the link uses nothing up; the button does.
	stranger := newVisitor(t, base)
	require.Equal(t, http.StatusOK, stranger.get(link).Status)
	require.Equal(t, http.StatusOK, stranger.get(link).Status)
	res = stranger.post(verifyPath, "token", token)
	require.Equal(t, http.StatusOK, res.Status, res.message("error"))
	assert.Equal(t, "Your address cat@example.com is confirmed.", html.UnescapeString(res.message("notice")))
	assert.Contains(t, v.get("/email").Body, `<span id="email-status">confirmed</span>`)
	assert.Equal(t, http.StatusBadRequest, stranger.post(verifyPath, "token", token).Status, "once")

	// A new address is not confirmed, and a taken one is refused.
	signUpWithEmail(t, base, "dan", "dan's password", "dan@example.com")
	res = v.post("/email", "email", "dan@example.com")
	assert.Equal(t, http.StatusConflict, res.Status)
	assert.Equal(t, msgAddressTaken, res.message("error"))
	require.Equal(t, http.StatusSeeOther, v.post("/email", "email", "cat2@example.com").Status)
	page = v.get("/email")
	assert.Contains(t, page.Body, "cat2@example.com")
	assert.Contains(t, page.Body, "not confirmed yet")
}

// TestEmailChangesThrottled: the e-mail page says when an address is
// taken, so it lets an account change its address only so often.
func TestEmailChangesThrottled(t *testing.T) {
	_, base, _ := startTestApp(t)
	v := signUpWithEmail(t, base, "eli", "eli's password", "eli0@example.com") // the first change
	for i := 1; i < 5; i++ {
		require.Equal(t, http.StatusSeeOther, v.post("/email", "email", "eli"+string(rune('0'+i))+"@example.com").Status)
	}
	res := v.post("/email", "email", "eli9@example.com")
	assert.Equal(t, http.StatusTooManyRequests, res.Status)
	assert.NotEmpty(t, res.RetryAfter)
	assert.Contains(t, res.Body, "eli4@example.com", "the address stays as it was")
}

// TestDevMailOnlyInDevelopment: the page that shows every link exists
// only with -dev; in production without an SMTP server there is no
// account recovery at all.
func TestDevMailOnlyInDevelopment(t *testing.T) {
	_, base, _ := startTestApp(t)
	assert.Equal(t, http.StatusOK, newVisitor(t, base).get("/dev/mail").Status)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prod, err := newApp(ctx, mongotest.Database(t), false)
	require.NoError(t, err)
	assert.Nil(t, prod.recovery)
	assert.Nil(t, prod.devMail)
}
