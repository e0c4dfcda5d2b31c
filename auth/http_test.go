package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

const testHost = "app.example.com"

// request returns a request to testHost carrying the given session cookie
// (none if empty) and Origin header (none if empty).
func request(method, sessionID, origin string) *http.Request {
	r := httptest.NewRequest(method, "https://"+testHost+"/", nil)
	if sessionID != "" {
		r.AddCookie(&http.Cookie{Name: auth.HostCookieName, Value: sessionID}) // production's
	}
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	return r
}

// sessionCookie returns the response's Set-Cookie for the session cookie.
func sessionCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == auth.HostCookieName {
			found = c
		}
	}
	return found
}

func TestSessionCookieAttributes(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), nil)
	u := e.user("ann", "pw")
	s := e.session(u.ID)

	w := httptest.NewRecorder()
	e.a.SetSessionCookie(w, s)
	header := w.Header().Get("Set-Cookie")
	assert.Equal(t, "__Host-auth_session="+s.Token+"; Path=/; Max-Age=1296000; HttpOnly; Secure; SameSite=Lax", header,
		"production defaults; Max-Age is the 15 days to the idle expiry")

	e.clock.Advance(24*time.Hour + 500*time.Millisecond)
	assert.Equal(t, 14*24*3600, e.a.SessionCookie(s).MaxAge, "Max-Age counts down to the idle expiry, rounded up")
	e.clock.Advance(14 * 24 * time.Hour)
	assert.Equal(t, -1, e.a.SessionCookie(s).MaxAge, "an expired session's cookie deletes itself")

	w = httptest.NewRecorder()
	e.a.ClearSessionCookie(w)
	assert.Equal(t, "__Host-auth_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax", w.Header().Get("Set-Cookie"))

	dev := newEnv(t, newMemoryAdapter(), func(c *auth.Config) {
		c.Development = true
		c.CookieName = "sid"
		c.CookieDomain = "example.com"
		c.CookiePath = "/app"
		c.CookieSameSite = http.SameSiteStrictMode
	})
	c := dev.a.SessionCookie(s)
	assert.False(t, c.Secure, "Development drops Secure")
	assert.Equal(t, "sid", c.Name)
	assert.Equal(t, "/app", c.Path)
	assert.Equal(t, "example.com", c.Domain)
	assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
	assert.True(t, c.HttpOnly)
}

func TestConfigValidation(t *testing.T) {
	adapter := newMemoryAdapter()
	for name, config := range map[string]auth.Config{
		"SameSite None":             {CookieSameSite: http.SameSiteNoneMode},
		"__Host- in development":    {CookieName: "__Host-auth_session", Development: true},
		"__Host- with a domain":     {CookieName: "__Host-auth_session", CookieDomain: "example.com"},
		"__Host- with a path":       {CookieName: "__Host-auth_session", CookiePath: "/app"},
		"__Secure- in development":  {CookieName: "__Secure-auth_session", Development: true},
		"cookie name with a space":  {CookieName: "auth session"},
		"trusted origin with path":  {TrustedOrigins: []string{"https://example.com/app"}},
		"trusted origin null":       {TrustedOrigins: []string{"null"}},
		"trusted origin bare host":  {TrustedOrigins: []string{"example.com"}},
		"trusted origin v4-in-v6":   {TrustedOrigins: []string{"http://[::ffff:192.0.2.1]"}},
		"trusted origin bad IPv6":   {TrustedOrigins: []string{"http://[::1::2]"}},
		"negative active period":    {ActivePeriod: -time.Hour},
		"negative idle period":      {IdlePeriod: -time.Hour},
		"unknown SameSite constant": {CookieSameSite: 42},
	} {
		_, err := auth.New[profile](adapter, config)
		assert.Error(t, err, name)
	}
	_, err := auth.New[profile](nil, auth.Config{})
	assert.Error(t, err, "nil adapter")
	_, err = auth.New[profile](adapter, auth.Config{CookieName: "__Host-auth_session"})
	assert.NoError(t, err, "__Host- in production with the default path")
}

func TestSessionIDFromCookie(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), nil)
	good := strings.Repeat("a", auth.SessionIDLength)
	lucia := strings.Repeat("aB3", auth.SessionIDLength/3) + "x" // Lucia 1.x ids have capitals
	for _, tc := range []struct {
		name, header, want string
	}{
		{"None", "", ""},
		{"OtherCookies", "theme=dark; lang=en", ""},
		{"Good", "theme=dark; __Host-auth_session=" + good, good},
		{"LuciaJS", "__Host-auth_session=" + lucia, lucia},
		{"TooShort", "__Host-auth_session=abc", ""},
		{"BadCharacters", "__Host-auth_session=" + good[:39] + "-", ""},
		{"FirstWellFormedWins", "__Host-auth_session=bogus; __Host-auth_session=" + good, good},
		{"Quoted", `__Host-auth_session="` + good + `"`, good},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.header != "" {
				r.Header.Set("Cookie", tc.header)
			}
			got, ok := e.a.SessionID(r)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.want != "", ok)
		})
	}
}

func TestCheckOrigin(t *testing.T) {
	trusted := func(c *auth.Config) {
		c.TrustedOrigins = []string{"https://admin.example.com", "http://localhost:5173", "https://[2001:DB8::1]:8443", "HTTPS://Partner.Example:443"}
	}
	production := newEnv(t, newMemoryAdapter(), trusted)
	development := newEnv(t, newMemoryAdapter(), func(c *auth.Config) { trusted(c); c.Development = true })
	const (
		viaTLS   = "TLS here"       // TLS terminates in this process: r.TLS is set
		viaProxy = "TLS at a proxy" // plain HTTP to the app, r.TLS is nil
	)
	own := "https://" + testHost
	for _, tc := range []struct {
		env       *env
		transport string
		method    string
		host      string
		fetchSite string // Sec-Fetch-Site, "" for none
		origin    string // Origin, "" for none
		ok        bool
	}{
		// Safe methods pass whatever they carry.
		{production, viaTLS, http.MethodGet, testHost, "cross-site", "https://evil.example", true},
		{production, viaTLS, http.MethodHead, testHost, "", "https://evil.example", true},
		{production, viaTLS, http.MethodOptions, testHost, "cross-site", "https://evil.example", true},

		// Sec-Fetch-Site, sent by every current browser to HTTPS and
		// localhost, decides first: the browser compares scheme, host and
		// port itself.
		{production, viaTLS, http.MethodPost, testHost, "same-origin", own, true},
		{production, viaTLS, http.MethodPost, testHost, "none", "", true}, // the user's own navigation
		{production, viaTLS, http.MethodPost, testHost, "same-origin", "null", true},
		{production, viaProxy, http.MethodPost, testHost, "same-origin", "null", true},
		{production, viaTLS, http.MethodPost, testHost, "cross-site", "https://evil.example", false},
		{production, viaTLS, http.MethodPost, testHost, "same-site", "https://evil.example.com", false},
		{production, viaTLS, http.MethodPost, testHost, "same-site", "http://" + testHost, false}, // HTTP page of the same host
		{production, viaTLS, http.MethodPost, testHost, "cross-site", "null", false},
		{production, viaTLS, http.MethodPost, testHost, "cross-site", "", false},
		{production, viaTLS, http.MethodPost, testHost, "cross-site", "https://admin.example.com", true}, // trusted
		{production, viaTLS, http.MethodPost, testHost, "same-site", "https://partner.example", true},    // trusted, as browsers spell it
		{production, viaTLS, http.MethodPost, testHost, "cross-site", "http://admin.example.com", false},
		{production, viaTLS, http.MethodPost, testHost, "cross-site", "https://[2001:db8::1]:8443", true},

		// Without Sec-Fetch-Site (older browsers, plain-HTTP pages) the
		// Origin must name the request's Host (as browsers spell both) and,
		// when the scheme is known, its scheme.
		{production, viaTLS, http.MethodPost, testHost, "", own, true},
		{production, viaProxy, http.MethodPost, testHost, "", own, true},
		{production, viaTLS, http.MethodPost, testHost, "", "http://" + testHost, false},   // scheme differs
		{production, viaProxy, http.MethodPost, testHost, "", "http://" + testHost, false}, // Secure cookies: the site is HTTPS
		{development, viaProxy, http.MethodPost, testHost, "", "http://" + testHost, true}, // scheme unknown
		{development, viaProxy, http.MethodPost, testHost, "", own, true},
		{development, viaTLS, http.MethodPost, testHost, "", "http://" + testHost, false},
		{development, viaProxy, http.MethodPost, "[::1]:8080", "", "http://[::1]:8080", true},
		{production, viaTLS, http.MethodPost, testHost + ":8443", "", own + ":8443", true},
		{production, viaTLS, http.MethodPost, testHost + ":8443", "", own, false},
		{production, viaTLS, http.MethodPost, testHost, "", own + ":8443", false},
		{production, viaTLS, http.MethodPost, testHost, "", "null", false},
		{development, viaProxy, http.MethodPost, testHost, "", "null", false},
		{development, viaProxy, http.MethodPost, "", "", "null", false}, // no Host either
		{development, viaProxy, http.MethodPost, "", "", "http://", false},
		{production, viaTLS, http.MethodPost, testHost, "", "https://evil.example", false},
		{production, viaTLS, http.MethodPost, testHost, "", own + ".evil.example", false},
		// No browser sends these; only the host (and scheme) count.
		{production, viaTLS, http.MethodPost, testHost, "", own + "/path", true},
		{production, viaTLS, http.MethodPost, testHost, "", "https://user@" + testHost, true},
		{production, viaTLS, http.MethodPost, testHost, "", "https://APP.example.com", false},
		{production, viaTLS, http.MethodPost, testHost, "", own + ":443", false},
		{production, viaTLS, http.MethodPost, testHost, "", testHost, false},
		{production, viaTLS, http.MethodPost, testHost, "", "https://app.ex%61mple.com", false},
		{production, viaTLS, http.MethodPost, "", "", own, false},
		{production, viaTLS, http.MethodPost, testHost, "", "https://admin.example.com", true},
		{production, viaTLS, http.MethodPost, testHost, "", "http://admin.example.com", false},
		{production, viaTLS, http.MethodPost, testHost, "", "http://localhost:5173", true},
		{production, viaTLS, http.MethodPost, testHost, "", "http://localhost:5174", false},

		// Neither header: not a cross-site browser request (browsers send
		// Origin with every cross-origin POST), so a non-browser client.
		{production, viaTLS, http.MethodPost, testHost, "", "", true},
		{production, viaProxy, http.MethodPut, testHost, "", "", true},
		{production, viaTLS, http.MethodDelete, testHost, "", "", true},

		// Every method but GET, HEAD and OPTIONS is checked.
		{production, viaTLS, http.MethodPut, testHost, "cross-site", "https://evil.example", false},
		{production, viaTLS, http.MethodPatch, testHost, "", "https://evil.example", false},
		{production, viaTLS, http.MethodDelete, testHost, "cross-site", "https://evil.example", false},
		{production, viaTLS, http.MethodTrace, testHost, "", "https://evil.example", false},
		{production, viaTLS, "PROPFIND", testHost, "cross-site", "https://evil.example", false},
	} {
		target := "http://" + testHost + "/"
		if tc.transport == viaTLS {
			target = "https://" + testHost + "/"
		}
		r := httptest.NewRequest(tc.method, target, nil)
		r.Host = tc.host
		if tc.fetchSite != "" {
			r.Header.Set("Sec-Fetch-Site", tc.fetchSite)
		}
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		mode := "production"
		if tc.env == development {
			mode = "development"
		}
		what := fmt.Sprintf("%s, %s: %s Host %q Sec-Fetch-Site %q Origin %q", mode, tc.transport, tc.method, tc.host, tc.fetchSite, tc.origin)
		err := tc.env.a.CheckOrigin(r)
		if tc.ok {
			assert.NoError(t, err, what)
			continue
		}
		if !assert.ErrorIs(t, err, auth.ErrInvalidRequest, what) {
			continue
		}
		var oe *auth.OriginError
		require.ErrorAs(t, err, &oe, what)
		assert.Equal(t, tc.method, oe.Method, what)
		assert.Equal(t, tc.origin, oe.Origin, what)
		assert.NotEmpty(t, oe.Reason, what)
	}
}

// TestStdlibCheckIgnoresTheScheme shows why CheckOrigin adds a scheme
// check to net/http's CrossOriginProtection: without Sec-Fetch-Site, the
// standard library accepts a form from the plain-HTTP page of the same
// host (which anyone on the network path can write) even when the request
// itself came over TLS. If this test fails, Go has started checking the
// scheme and CheckOrigin's own check may go.
func TestStdlibCheckIgnoresTheScheme(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "https://"+testHost+"/", nil)
	require.NotNil(t, r.TLS)
	r.Header.Set("Origin", "http://"+testHost)
	assert.NoError(t, http.NewCrossOriginProtection().Check(r), "the standard library accepts it")

	e := newEnv(t, newMemoryAdapter(), nil)
	assert.ErrorIs(t, e.a.CheckOrigin(r), auth.ErrInvalidRequest, "CheckOrigin does not")
}

// recordingHandler records what Middleware passed on.
type recordingHandler struct {
	called  bool
	session auth.Session
	user    auth.User[profile]
	hasUser bool
}

func (h *recordingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.called = true
	h.session, _ = auth.SessionFromContext(r.Context())
	h.user, h.hasUser = auth.UserFromContext[profile](r.Context())
}

func serve(handler http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	return w
}

func TestMiddleware(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), nil)
	u := e.user("ann", "pw")
	s := e.session(u.ID)

	t.Run("NoCookie", func(t *testing.T) {
		h := &recordingHandler{}
		w := serve(e.a.Middleware(h), request(http.MethodGet, "", ""))
		assert.True(t, h.called)
		assert.False(t, h.hasUser)
		assert.Nil(t, sessionCookie(t, w))
	})
	t.Run("ValidSession", func(t *testing.T) {
		h := &recordingHandler{}
		w := serve(e.a.Middleware(h), request(http.MethodGet, s.Token, ""))
		require.True(t, h.hasUser)
		assert.Equal(t, u, h.user)
		assert.Equal(t, s.ID, h.session.ID)
		assert.Nil(t, sessionCookie(t, w), "an active session needs no new cookie")
	})
	t.Run("WrongAttributeType", func(t *testing.T) {
		var ok bool
		serve(e.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, ok = auth.UserFromContext[map[string]any](r.Context())
		})), request(http.MethodGet, s.Token, ""))
		assert.False(t, ok)
	})
	t.Run("PostFromOwnOrigin", func(t *testing.T) {
		h := &recordingHandler{}
		serve(e.a.Middleware(h), request(http.MethodPost, s.Token, "https://"+testHost))
		assert.True(t, h.hasUser)
	})
	t.Run("CrossOriginPostIsRefused", func(t *testing.T) {
		for _, origin := range []string{"https://evil.example", "null", "http://" + testHost} {
			h := &recordingHandler{}
			w := serve(e.a.Middleware(h), request(http.MethodPost, s.Token, origin))
			assert.False(t, h.called, "origin %q", origin)
			assert.Equal(t, http.StatusForbidden, w.Code)
			assert.Equal(t, "Forbidden\n", w.Body.String(), "no details go to the client")
		}
	})
	t.Run("UnknownSessionIsCleared", func(t *testing.T) {
		h := &recordingHandler{}
		w := serve(e.a.Middleware(h), request(http.MethodGet, strings.Repeat("z", auth.SessionIDLength), ""))
		assert.True(t, h.called)
		assert.False(t, h.hasUser)
		c := sessionCookie(t, w)
		require.NotNil(t, c)
		assert.Equal(t, -1, c.MaxAge)
	})
	t.Run("MalformedCookieIsClearedWithoutAdapterCall", func(t *testing.T) {
		before := e.counter.count()
		h := &recordingHandler{}
		w := serve(e.a.Middleware(h), request(http.MethodGet, "garbage", ""))
		assert.True(t, h.called)
		require.NotNil(t, sessionCookie(t, w))
		assert.Equal(t, before, e.counter.count())
	})
	t.Run("IdleSessionGetsNewCookie", func(t *testing.T) {
		e := newEnv(t, newMemoryAdapter(), nil)
		u := e.user("ann", "pw")
		s := e.session(u.ID)
		e.clock.Advance(2 * 24 * time.Hour)
		h := &recordingHandler{}
		w := serve(e.a.Middleware(h), request(http.MethodGet, s.Token, ""))
		require.True(t, h.hasUser)
		assert.Equal(t, s.ID, h.session.ID, "renewed in place")
		assert.True(t, h.session.Fresh)
		c := sessionCookie(t, w)
		require.NotNil(t, c)
		assert.Equal(t, h.session.Token, c.Value)
		assert.Equal(t, 15*24*3600, c.MaxAge, "the cookie lasts as long as the renewed session")
	})
	t.Run("DeadSessionIsCleared", func(t *testing.T) {
		e := newEnv(t, newMemoryAdapter(), nil)
		u := e.user("ann", "pw")
		s := e.session(u.ID)
		e.clock.Advance(16 * 24 * time.Hour)
		h := &recordingHandler{}
		w := serve(e.a.Middleware(h), request(http.MethodGet, s.Token, ""))
		assert.False(t, h.hasUser)
		require.NotNil(t, sessionCookie(t, w))
		assert.Equal(t, -1, sessionCookie(t, w).MaxAge)
	})
}

// failingAdapter fails every session read, as a database that is down.
type failingAdapter struct{ auth.Adapter }

var errDatabaseDown = errors.New("database down")

func (failingAdapter) GetSession(context.Context, string) (auth.SessionRecord, error) {
	return auth.SessionRecord{}, errDatabaseDown
}

func TestMiddlewareStorageFailure(t *testing.T) {
	var handled error
	a, err := auth.New[profile](failingAdapter{newMemoryAdapter()}, auth.Config{})
	require.NoError(t, err)
	h := &recordingHandler{}
	w := serve(a.Middleware(h), request(http.MethodGet, strings.Repeat("a", auth.SessionIDLength), ""))
	assert.False(t, h.called)
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Nil(t, sessionCookie(t, w), "a storage failure must not log the user out")

	a, err = auth.New[profile](failingAdapter{newMemoryAdapter()}, auth.Config{
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			handled = err
			w.WriteHeader(http.StatusServiceUnavailable)
		},
	})
	require.NoError(t, err)
	w = serve(a.Middleware(h), request(http.MethodGet, strings.Repeat("a", auth.SessionIDLength), ""))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.ErrorIs(t, handled, errDatabaseDown)
}

func TestRequireUser(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), nil)
	u := e.user("ann", "pw")
	s := e.session(u.ID)
	h := &recordingHandler{}
	protected := e.a.Middleware(e.a.RequireUser(h))

	w := serve(protected, request(http.MethodGet, "", ""))
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.False(t, h.called)

	w = serve(protected, request(http.MethodGet, s.Token, ""))
	assert.Equal(t, http.StatusOK, w.Code)
	assert.True(t, h.hasUser)
}

func TestLogIn(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), nil)
	u := e.user("ann", "pw")
	old := e.session(u.ID)

	t.Run("IssuesANewSessionAndDropsTheOld", func(t *testing.T) {
		w := httptest.NewRecorder()
		s, err := e.a.LogIn(w, request(http.MethodPost, old.Token, "https://"+testHost), "username", "ann", "pw")
		require.NoError(t, err)
		assert.NotEqual(t, old.ID, s.ID)
		assert.Equal(t, u.ID, s.UserID)
		c := sessionCookie(t, w)
		require.NotNil(t, c)
		assert.Equal(t, s.Token, c.Value)
		_, err = e.a.GetSession(e.ctx, old.Token)
		require.ErrorIs(t, err, auth.ErrInvalidSessionID, "the pre-login session is invalidated (no fixation)")
	})
	t.Run("WrongPassword", func(t *testing.T) {
		w := httptest.NewRecorder()
		_, err := e.a.LogIn(w, request(http.MethodPost, "", "https://"+testHost), "username", "ann", "wrong")
		require.ErrorIs(t, err, auth.ErrInvalidPassword)
		assert.Nil(t, sessionCookie(t, w))
	})
	t.Run("CrossOriginDoesNothing", func(t *testing.T) {
		before := e.counter.count()
		w := httptest.NewRecorder()
		_, err := e.a.LogIn(w, request(http.MethodPost, "", "https://evil.example"), "username", "ann", "pw")
		require.ErrorIs(t, err, auth.ErrInvalidRequest)
		assert.Nil(t, sessionCookie(t, w))
		assert.Equal(t, before, e.counter.count(), "no key is used")
	})
	t.Run("InsideMiddlewareAfterRenewal", func(t *testing.T) {
		e := newEnv(t, newMemoryAdapter(), nil)
		u := e.user("ann", "pw")
		s := e.session(u.ID)
		e.clock.Advance(2 * 24 * time.Hour)
		var renewed, fresh auth.Session
		w := serve(e.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			renewed, _ = auth.SessionFromContext(r.Context())
			var err error
			fresh, err = e.a.LogIn(w, r, "username", "ann", "pw")
			require.NoError(t, err)
		})), request(http.MethodPost, s.Token, "https://"+testHost))
		require.True(t, renewed.Fresh)
		for _, id := range []string{s.Token, renewed.Token} {
			_, err := e.a.GetSession(e.ctx, id)
			require.ErrorIs(t, err, auth.ErrInvalidSessionID)
		}
		assert.Equal(t, fresh.Token, sessionCookie(t, w).Value, "the last Set-Cookie is the login's")
	})
}

func TestLogOut(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), nil)
	u := e.user("ann", "pw")
	s := e.session(u.ID)

	w := httptest.NewRecorder()
	require.ErrorIs(t, e.a.LogOut(w, request(http.MethodPost, s.Token, "https://evil.example")), auth.ErrInvalidRequest)
	_, err := e.a.GetSession(e.ctx, s.Token)
	require.NoError(t, err, "a refused logout changes nothing")

	w = httptest.NewRecorder()
	require.NoError(t, e.a.LogOut(w, request(http.MethodPost, s.Token, "https://"+testHost)))
	_, err = e.a.GetSession(e.ctx, s.Token)
	require.ErrorIs(t, err, auth.ErrInvalidSessionID)
	assert.Equal(t, -1, sessionCookie(t, w).MaxAge)
}

func TestStartSession(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), nil)
	u, err := e.a.CreateUser(e.ctx, profile{Username: "ann"}, nil)
	require.NoError(t, err)
	w := httptest.NewRecorder()
	s, err := e.a.StartSession(w, request(http.MethodPost, "", "https://"+testHost), u.ID)
	require.NoError(t, err)
	assert.Equal(t, s.Token, sessionCookie(t, w).Value)
	_, err = e.a.StartSession(httptest.NewRecorder(), request(http.MethodPost, "", "https://"+testHost), "no-such-user")
	require.ErrorIs(t, err, auth.ErrInvalidUserID)
}
