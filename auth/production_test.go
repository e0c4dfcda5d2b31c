package auth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// TestProductionDefaults is an httptest of production mode, the zero
// Config: the session cookie is __Host-auth_session (Secure, Path=/, no
// Domain: no sibling subdomain can plant or overwrite it), and every
// response through Middleware, refusals included, carries
// Strict-Transport-Security.
func TestProductionDefaults(t *testing.T) {
	a, err := auth.New[profile](newMemoryAdapter(), auth.Config{PasswordHasher: auth.InsecureFastHasher()})
	require.NoError(t, err)
	ctx := t.Context()
	u, err := a.CreateUser(ctx, profile{Username: "ann"}, nil)
	require.NoError(t, err)

	login := httptest.NewRecorder()
	s, err := a.StartSession(login, httptest.NewRequest(http.MethodPost, "https://"+testHost+"/login", nil), u.ID)
	require.NoError(t, err)
	cookies := login.Result().Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	assert.Equal(t, "__Host-auth_session", c.Name)
	assert.Equal(t, auth.HostCookieName, c.Name)
	assert.Equal(t, s.Token, c.Value)
	assert.True(t, c.Secure)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, "/", c.Path)
	assert.Empty(t, c.Domain)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(t, "__Host-auth_session="+s.Token+"; Path=/; Max-Age=1296000; HttpOnly; Secure; SameSite=Lax", login.Header().Get("Set-Cookie"))

	h := &recordingHandler{}
	page := httptest.NewRequest(http.MethodGet, "https://"+testHost+"/", nil)
	page.AddCookie(c)
	w := httptest.NewRecorder()
	a.Middleware(h).ServeHTTP(w, page)
	require.True(t, h.hasUser)
	assert.Equal(t, "max-age=31536000", w.Header().Get("Strict-Transport-Security"))

	refused := httptest.NewRequest(http.MethodPost, "https://"+testHost+"/", nil)
	refused.Header.Set("Origin", "https://evil.example")
	w = httptest.NewRecorder()
	a.Middleware(h).ServeHTTP(w, refused)
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, "max-age=31536000", w.Header().Get("Strict-Transport-Security"), "on a refusal too")
}

// TestCookieNameDefaults: __Host- only where its rules hold; Lucia's plain
// name in Development (browsers keep no __Host- cookie from plain HTTP),
// with a Domain or Path, and beside Lucia.
func TestCookieNameDefaults(t *testing.T) {
	for name, tc := range map[string]struct {
		config auth.Config
		want   string
		hsts   string
	}{
		"Production":  {auth.Config{}, "__Host-auth_session", "max-age=31536000"},
		"Development": {auth.Config{Development: true}, "auth_session", ""},
		"Domain":      {auth.Config{CookieDomain: "example.com"}, "auth_session", "max-age=31536000"},
		"Path":        {auth.Config{CookiePath: "/app"}, "auth_session", "max-age=31536000"},
		"LuciaV1":     {auth.Config{LuciaV1: true}, "auth_session", "max-age=31536000"},
		"Named":       {auth.Config{CookieName: "sid"}, "sid", "max-age=31536000"},
		"HSTSAge":     {auth.Config{HSTSMaxAge: 2 * 365 * 24 * time.Hour}, "__Host-auth_session", "max-age=63072000"},
		"HSTSOff":     {auth.Config{HSTSMaxAge: -1}, "__Host-auth_session", ""},
	} {
		t.Run(name, func(t *testing.T) {
			a, err := auth.New[profile](newMemoryAdapter(), tc.config)
			require.NoError(t, err)
			w := httptest.NewRecorder()
			a.ClearSessionCookie(w)
			c := w.Result().Cookies()
			require.Len(t, c, 1)
			assert.Equal(t, tc.want, c[0].Name)
			w = httptest.NewRecorder()
			a.Middleware(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://"+testHost+"/", nil))
			assert.Equal(t, tc.hsts, w.Header().Get("Strict-Transport-Security"))
		})
	}
}

// TestHSTSSetOutsideIsKept: an application that sends its own header
// (includeSubDomains, preload) keeps it.
func TestHSTSSetOutsideIsKept(t *testing.T) {
	a, err := auth.New[profile](newMemoryAdapter(), auth.Config{})
	require.NoError(t, err)
	own := "max-age=63072000; includeSubDomains; preload"
	h := a.Middleware(http.NotFoundHandler())
	w := httptest.NewRecorder()
	w.Header().Set("Strict-Transport-Security", own)
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://"+testHost+"/", nil))
	assert.Equal(t, own, w.Header().Get("Strict-Transport-Security"))
}
