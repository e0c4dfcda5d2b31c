package auth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/luciago/mongoauth/auth"
)

// FuzzSessionIDFromCookie: for any Cookie header, SessionID either finds
// nothing or returns a well-formed id that the header contains; it never
// panics.
func FuzzSessionIDFromCookie(f *testing.F) {
	good := strings.Repeat("a1", auth.SessionIDLength/2)
	for _, seed := range []string{
		"", "auth_session=" + good, "a=b; auth_session=" + good + "; c=d",
		"auth_session=x; auth_session=" + good, `auth_session="` + good + `"`,
		"auth_session=" + good + "=", "auth_session", ";;;", "auth_session=%00", "\x00auth_session=" + good,
	} {
		f.Add(seed)
	}
	a, err := auth.New[profile](newMemoryAdapter(), auth.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", header)
		id, ok := a.SessionID(r)
		if !ok {
			if id != "" {
				t.Fatalf("no id, but %q", id)
			}
			return
		}
		if len(id) != auth.SessionIDLength || strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
			t.Fatalf("malformed id %q", id)
		}
		if !strings.Contains(header, id) {
			t.Fatalf("id %q is not in the header", id)
		}
	})
}

// FuzzCheckOrigin: for any Origin and Host, a POST passes the check only
// if the Origin is a plain origin whose host and port are the request's
// (or a trusted origin), and every refusal is an *OriginError; nothing
// panics.
func FuzzCheckOrigin(f *testing.F) {
	for _, seed := range [][2]string{
		{"https://app.example.com", "app.example.com"},
		{"https://app.example.com:443", "app.example.com"},
		{"http://[::1]:8080", "[::1]:8080"},
		{"https://trusted.example", "app.example.com"},
		{"null", "app.example.com"},
		{"", "app.example.com"},
		{"https://app.example.com/", "app.example.com"},
		{"https://user@app.example.com", "app.example.com"},
		{"https://app.example.com:", "app.example.com"},
		{"app.example.com", "app.example.com"},
		{"https://[::1", "[::1"},
		{"https://%41", "A"},
	} {
		f.Add(seed[0], seed[1])
	}
	a, err := auth.New[profile](newMemoryAdapter(), auth.Config{TrustedOrigins: []string{"https://trusted.example"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, origin, host string) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Host = host
		r.Header.Set("Origin", origin)
		err := a.CheckOrigin(r)
		if err != nil {
			if oe, ok := err.(*auth.OriginError); !ok || oe.Method != http.MethodPost {
				t.Fatalf("error %T %v is not an *OriginError for POST", err, err)
			}
			return
		}
		if origin == "https://trusted.example" {
			return
		}
		// Accepted: origin must be scheme://<host> where <host> equals the
		// request's host up to case and a default port.
		scheme, rest, found := strings.Cut(origin, "://")
		if !found || scheme == "" || strings.ContainsAny(rest, "/?#@%") {
			t.Fatalf("accepted non-origin %q", origin)
		}
		norm := func(hostport, scheme string) string {
			hostport = strings.ToLower(hostport)
			for s, port := range map[string]string{"http": ":80", "https": ":443"} {
				if strings.EqualFold(scheme, s) {
					hostport = strings.TrimSuffix(hostport, port)
				}
			}
			return hostport
		}
		// An empty port in Host means the default port (RFC 3986).
		if norm(rest, scheme) != norm(strings.TrimSuffix(host, ":"), scheme) {
			t.Fatalf("accepted origin %q for host %q", origin, host)
		}
	})
}
