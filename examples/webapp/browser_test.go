package main

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// defaultChromium is where Debian's chromium package puts the browser.
const defaultChromium = "/usr/bin/chromium"

// startChromium starts a headless Chromium with a fresh profile and
// returns its context. Without CHROMIUM_PATH and without Chromium at
// defaultChromium the test is skipped; a CHROMIUM_PATH that names no
// file fails it.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM_PATH")
	if path == "" {
		path = defaultChromium
		if _, err := os.Stat(path); err != nil {
			t.Skipf("the browser test needs Chromium: %v (install Debian's chromium package or set CHROMIUM_PATH)", err)
		}
	} else if _, err := os.Stat(path); err != nil {
		t.Fatalf("CHROMIUM_PATH: %v", err)
	}
	allocator, cancelAllocator := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // the test may run as root, where the sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	browser, cancelBrowser := chromedp.NewContext(allocator)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAllocator()
	})
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return browser
}

// browserUser is one person at one browser: a tab in its own browser
// context, which has its own cookie jar, as a separate browser would.
type browserUser struct {
	t    *testing.T
	name string
	ctx  context.Context
	base string
}

func newBrowserUser(t *testing.T, browser context.Context, name, baseURL string) *browserUser {
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first run opens the tab and binds it to the context it gets, so
	// it gets ctx itself: the later runs' timeouts must not close the tab.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	return &browserUser{t: t, name: name, ctx: ctx, base: baseURL}
}

// inTab runs action in the user's tab, failing the test on an error.
func inTab[T any](u *browserUser, step string, action chromedp.Action[T]) T {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		u.t.Fatalf("%s: %s: %v", u.name, step, err)
	}
	return v
}

// open loads path (following redirects) and returns the page shown.
func (u *browserUser) open(path string) string {
	u.t.Helper()
	inTab(u, "open "+path, chromedp.Navigate(u.base+path))
	return u.page()
}

// submit opens path, types into the page's form (name, value, name,
// value...) and presses its submit button, as a person would. It returns
// the HTTP status of the page that answers, after redirects.
func (u *browserUser) submit(path string, fields ...string) int64 {
	u.t.Helper()
	u.open(path)
	for i := 0; i+1 < len(fields); i += 2 {
		input := chromedp.CSS(`main input[name="` + fields[i] + `"]`)
		inTab(u, "type into "+fields[i], chromedp.SendKeys(input, fields[i+1]))
	}
	return u.click(`main button[type="submit"]`)
}

// click presses the button sel and returns the HTTP status of the page
// that answers, after redirects.
func (u *browserUser) click(sel string) int64 {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, time.Minute)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		u.t.Fatalf("%s: click %s: %v", u.name, sel, err)
	}
	return res.Status
}

// evaluate returns the value of a JavaScript expression in the page.
func evaluate[T any](u *browserUser, expression string) T {
	u.t.Helper()
	return inTab(u, expression, chromedp.Evaluate[T](expression))
}

// page names the page shown: "home" for <main id="page-home">.
func (u *browserUser) page() string {
	u.t.Helper()
	return strings.TrimPrefix(evaluate[string](u, `document.querySelector("main").id`), "page-")
}

// message is the text of the page's error or notice ("" if none).
func (u *browserUser) message(id string) string {
	u.t.Helper()
	return evaluate[string](u, `document.getElementById("`+id+`")?.textContent ?? ""`)
}

func (u *browserUser) location() string {
	u.t.Helper()
	return inTab(u, "read the location", chromedp.Location())
}

// sessionsListed counts the sessions on the home page.
func (u *browserUser) sessionsListed() int {
	u.t.Helper()
	return evaluate[int](u, `document.querySelectorAll("#sessions li").length`)
}

// requireLoggedOut loads the home page and expects to land on the login
// page.
func (u *browserUser) requireLoggedOut(why string) {
	u.t.Helper()
	require.Equal(u.t, "login", u.open("/"), "%s: %s", u.name, why)
	require.Equal(u.t, u.base+"/login", u.location(), "%s: %s", u.name, why)
}

// TestBrowser walks through the app in headless Chromium: sign-up,
// logout, login, a second browser, "sign out everywhere else", the
// sessions list with one session signed out by its own button, password
// change and account deletion, with the error messages on the way, and
// checks what the database holds at each stage.
func TestBrowser(t *testing.T) {
	browser := startChromium(t)
	base, db := startApp(t)
	laptop := newBrowserUser(t, browser, "ann's laptop", base)
	phone := newBrowserUser(t, browser, "ann's phone", base)
	other := newBrowserUser(t, browser, "someone else's browser", base)

	// Sign up, with a too-short password first.
	assert.EqualValues(t, http.StatusUnprocessableEntity, laptop.submit("/signup", "username", "ann", "password", "short"))
	assert.Equal(t, "The password is too short: use at least 8 characters.", laptop.message("error"))
	require.EqualValues(t, http.StatusOK, laptop.submit("/signup", "username", "ann", "password", "first password"))
	require.Equal(t, "home", laptop.page())
	assert.Equal(t, "ann", evaluate[string](laptop, `document.getElementById("username").textContent`))
	userID := userIDOf(t, db, "ann")
	assert.Empty(t, evaluate[string](laptop, `document.cookie`), "the session cookie is HttpOnly: scripts cannot read it")

	// Nobody else can take the name.
	assert.EqualValues(t, http.StatusConflict, other.submit("/signup", "username", "ann", "password", "another password"))
	assert.Equal(t, `The username "ann" is taken. Please choose another one.`, other.message("error"))

	// Log out; a wrong password fails; log in.
	require.EqualValues(t, http.StatusOK, laptop.click("#logout"))
	assert.Equal(t, "You are logged out.", laptop.message("notice"))
	laptop.requireLoggedOut("after logging out")
	assert.EqualValues(t, http.StatusUnauthorized, laptop.submit("/login", "username", "ann", "password", "wrong password"))
	assert.Equal(t, msgWrongLogin, laptop.message("error"))
	require.EqualValues(t, http.StatusOK, laptop.submit("/login", "username", "ann", "password", "first password"))
	require.Equal(t, "home", laptop.page())
	assert.Equal(t, 1, laptop.sessionsListed())

	// The phone, a separate cookie jar, logs in too: two sessions.
	require.EqualValues(t, http.StatusOK, phone.submit("/login", "username", "ann", "password", "first password"))
	require.Equal(t, "home", phone.page())
	require.Equal(t, "home", laptop.open("/"))
	assert.Equal(t, 2, laptop.sessionsListed())
	assert.Equal(t, stored{Users: 1, Sessions: 2, Keys: 1}, storedFor(t, db, userID))

	// "Sign out everywhere else" ends the phone's session, not the laptop's.
	require.EqualValues(t, http.StatusOK, laptop.click("#end-others"))
	assert.Equal(t, "Every other session has been signed out.", laptop.message("notice"))
	assert.Equal(t, 1, laptop.sessionsListed())
	phone.requireLoggedOut("after sign-out everywhere else")
	require.Equal(t, "home", laptop.open("/"))
	assert.Equal(t, stored{Users: 1, Sessions: 1, Keys: 1}, storedFor(t, db, userID))

	// The phone logs in again; the laptop sees both sessions, each with
	// its browser, system and times, and signs the phone out with the
	// phone's own button.
	require.EqualValues(t, http.StatusOK, phone.submit("/login", "username", "ann", "password", "first password"))
	require.Equal(t, "home", laptop.open("/"))
	assert.Equal(t, 2, laptop.sessionsListed())
	devices := evaluate[[]string](laptop, `[...document.querySelectorAll("#sessions .device")].map(e => e.textContent)`)
	assert.Equal(t, []string{"Chrome on Linux", "Chrome on Linux"}, devices, "headless Chromium on Linux")
	for _, class := range []string{"created", "last-seen"} {
		texts := evaluate[[]string](laptop, `[...document.querySelectorAll("#sessions .`+class+`")].map(e => e.textContent)`)
		require.Len(t, texts, 2)
		for _, text := range texts {
			assert.Regexp(t, `\d{1,2} \w{3} \d{4} \d\d:\d\d UTC$`, text, class)
		}
	}
	assert.Equal(t, 1, evaluate[int](laptop, `document.querySelectorAll("#sessions .end-session").length`), "a button for the other session only")
	assert.Equal(t, 0, evaluate[int](laptop, `document.querySelectorAll("#sessions li.current .end-session").length`))
	html := evaluate[string](laptop, `document.documentElement.outerHTML`)
	for _, id := range sessionIDs(t, db, userID) {
		assert.NotContains(t, html, id, "no session id in the page")
	}
	require.EqualValues(t, http.StatusOK, laptop.click("#sessions .end-session"))
	assert.Equal(t, "That session has been signed out.", laptop.message("notice"))
	assert.Equal(t, 1, laptop.sessionsListed())
	phone.requireLoggedOut("after the laptop signed it out")
	require.Equal(t, "home", laptop.open("/"), "the laptop is still logged in")
	assert.Equal(t, stored{Users: 1, Sessions: 1, Keys: 1}, storedFor(t, db, userID))

	// Change the password: the phone, logged in again, is signed out; the
	// old password stops working and the new one works.
	require.EqualValues(t, http.StatusOK, phone.submit("/login", "username", "ann", "password", "first password"))
	assert.EqualValues(t, http.StatusUnauthorized, laptop.submit("/password", "current", "wrong password", "new", "second password"))
	assert.Equal(t, msgWrongPassword, laptop.message("error"))
	require.EqualValues(t, http.StatusOK, laptop.submit("/password", "current", "first password", "new", "second password"))
	assert.Equal(t, "Your password has been changed and every other session signed out.", laptop.message("notice"))
	assert.Equal(t, 1, laptop.sessionsListed())
	phone.requireLoggedOut("after the password change")
	assert.EqualValues(t, http.StatusUnauthorized, phone.submit("/login", "username", "ann", "password", "first password"))
	assert.Equal(t, msgWrongLogin, phone.message("error"))
	require.EqualValues(t, http.StatusOK, phone.submit("/login", "username", "ann", "password", "second password"))
	require.Equal(t, "home", phone.page())
	assert.Equal(t, stored{Users: 1, Sessions: 2, Keys: 1}, storedFor(t, db, userID))

	// Delete the account: nothing of ann is left, and both browsers are
	// logged out.
	require.EqualValues(t, http.StatusOK, laptop.submit("/delete", "password", "second password"))
	assert.Equal(t, "Your account and everything stored about it have been deleted.", laptop.message("notice"))
	assert.Equal(t, base+"/signup?done=deleted", laptop.location())
	assert.Equal(t, stored{}, storedFor(t, db, userID))
	laptop.requireLoggedOut("after deleting the account")
	phone.requireLoggedOut("after the account was deleted elsewhere")
	assert.EqualValues(t, http.StatusUnauthorized, laptop.submit("/login", "username", "ann", "password", "second password"))
	assert.Equal(t, msgWrongLogin, laptop.message("error"))
}
