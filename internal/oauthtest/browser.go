package oauthtest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Browser is one browser: a cookie jar and a client that follows
// redirects one by one, as a browser does, across the app and the
// provider.
type Browser struct {
	t      testing.TB
	Jar    *cookiejar.Jar
	client *http.Client
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser(t testing.TB) *Browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &Browser{t: t, Jar: jar, client: &http.Client{
		Jar:           jar,
		Timeout:       time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Page is where a navigation ended.
type Page struct {
	Status int
	URL    *url.URL
	Body   string
	// Visited are the URLs requested, in order, redirects included.
	Visited []*url.URL
}

// Post submits a form to target as a same-origin page of its site does
// (with an Origin header), and follows the redirects.
func (b *Browser) Post(target string, form url.Values) Page {
	return b.PostUntil(target, form, nil)
}

// PostUntil is Post that stops before requesting a URL for which stop
// returns true: Page.URL is that URL, and Page.Status 0.
func (b *Browser) PostUntil(target string, form url.Values, stop func(*url.URL) bool) Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
	return b.follow(req, stop)
}

// Get navigates to target and follows the redirects.
func (b *Browser) Get(target string) Page { return b.GetUntil(target, nil) }

// GetUntil is Get that stops as PostUntil does.
func (b *Browser) GetUntil(target string, stop func(*url.URL) bool) Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	require.NoError(b.t, err)
	return b.follow(req, stop)
}

// Do sends req and follows the redirects.
func (b *Browser) Do(req *http.Request) Page {
	b.t.Helper()
	return b.follow(req, nil)
}

func (b *Browser) follow(req *http.Request, stop func(*url.URL) bool) Page {
	b.t.Helper()
	var p Page
	for range 20 {
		if stop != nil && stop(req.URL) {
			p.URL = req.URL
			return p
		}
		p.Visited = append(p.Visited, req.URL)
		res, err := b.client.Do(req)
		require.NoError(b.t, err, "%s %s", req.Method, req.URL)
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(b.t, err)
		location := res.Header.Get("Location")
		if res.StatusCode < 300 || res.StatusCode > 399 || location == "" {
			p.Status, p.URL, p.Body = res.StatusCode, req.URL, string(body)
			return p
		}
		next, err := req.URL.Parse(location)
		require.NoError(b.t, err)
		req, err = http.NewRequest(http.MethodGet, next.String(), nil)
		require.NoError(b.t, err)
	}
	b.t.Fatalf("more than 20 redirects from %s", p.Visited[0])
	return p
}

// Cookie returns the browser's cookie name for site, or nil.
func (b *Browser) Cookie(site, name string) *http.Cookie {
	b.t.Helper()
	u, err := url.Parse(site)
	require.NoError(b.t, err)
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// SetCookie stores a cookie for site, as a page or a script of the
// browser's owner could.
func (b *Browser) SetCookie(site string, c *http.Cookie) {
	b.t.Helper()
	u, err := url.Parse(site)
	require.NoError(b.t, err)
	if c.Path == "" {
		c.Path = "/"
	}
	b.Jar.SetCookies(u, []*http.Cookie{c})
}

// IsCallback reports whether u is a callback of the App.
func IsCallback(u *url.URL) bool { return strings.HasPrefix(u.Path, "/callback/") }
