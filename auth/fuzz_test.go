package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
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
		"", "__Host-auth_session=" + good, "a=b; __Host-auth_session=" + good + "; c=d",
		"__Host-auth_session=x; __Host-auth_session=" + good, `__Host-auth_session="` + good + `"`,
		"__Host-auth_session=" + good + "=", "__Host-auth_session", ";;;", "__Host-auth_session=%00", "\x00__Host-auth_session=" + good,
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

// FuzzCheckOrigin checks properties of CheckOrigin, net/http's
// CrossOriginProtection plus a scheme check, for any method, Host,
// Sec-Fetch-Site, Origin, transport and mode: every refusal is an
// *OriginError; it accepts nothing the standard library refuses, and
// refuses more only for the reasons it documents; a request the browser
// calls cross-site passes only from a trusted origin; without
// Sec-Fetch-Site, an accepted untrusted Origin names the request's Host
// and, when the request is HTTPS, the https scheme. Nothing panics.
func FuzzCheckOrigin(f *testing.F) {
	methods := []string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPost,
		http.MethodPut, http.MethodPatch, http.MethodDelete, "get", "PROPFIND"}
	for _, seed := range []struct {
		method                  uint8
		host, fetchSite, origin string
		tls, development        bool
	}{
		{3, "app.example.com", "", "https://app.example.com", true, false},
		{3, "app.example.com", "", "http://app.example.com", true, false},
		{3, "app.example.com", "", "http://app.example.com", false, false},
		{3, "app.example.com", "", "http://app.example.com", false, true},
		{3, "app.example.com", "same-origin", "null", false, false},
		{3, "app.example.com", "cross-site", "https://trusted.example", true, false},
		{3, "app.example.com", "cross-site", "https://trusted.EXAmple", true, false}, // browsers write it in lower case
		{3, "app.example.com", "same-site", "https://evil.example.com", true, false},
		{3, "app.example.com", "none", "", true, false},
		{3, "app.example.com", "", "", true, false},
		{3, "app.example.com", "", "null", false, true},
		{3, "", "", "null", false, true},
		{3, "[2001:db8::1]:8080", "", "http://[2001:db8::1]:8080", false, true},
		{3, "app.example.com", "", "http://[2001:db8::1]:8080", true, false},
		{4, "app.example.com", "", "https://app.example.com:443", true, false},
		{5, "0:", "", "A://0", false, false},
		{0, "app.example.com", "cross-site", "https://evil.example", true, false},
		{7, "app.example.com", "cross-site", "https://evil.example", true, false},
	} {
		f.Add(seed.method, seed.host, seed.fetchSite, seed.origin, seed.tls, seed.development)
	}
	// The trusted origins as configured, and as browsers write them.
	configured := []string{"https://trusted.EXAmple", "http://[2001:DB8:0::1]:8080"}
	browserWritten := []string{"https://trusted.example", "http://[2001:db8::1]:8080"}
	checker := map[bool]*auth.Auth[profile]{} // by Development
	for _, development := range []bool{false, true} {
		a, err := auth.New[profile](newMemoryAdapter(), auth.Config{TrustedOrigins: configured, Development: development})
		if err != nil {
			f.Fatal(err)
		}
		checker[development] = a
	}
	stdlib := http.NewCrossOriginProtection()
	for _, o := range browserWritten {
		if err := stdlib.AddTrustedOrigin(o); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, method uint8, host, fetchSite, origin string, tls, dev bool) {
		r := httptest.NewRequest(methods[int(method)%len(methods)], "http://app.example.com/", nil)
		if tls {
			r = httptest.NewRequest(r.Method, "https://app.example.com/", nil)
		}
		r.Host = host
		if fetchSite != "" {
			r.Header.Set("Sec-Fetch-Site", fetchSite)
		}
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		// What the checks read, after net/http's header canonicalization.
		fetchSite, origin = r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Origin")
		err := checker[dev].CheckOrigin(r)
		stdErr := stdlib.Check(r)
		if err != nil {
			var oe *auth.OriginError
			if !errors.As(err, &oe) || !errors.Is(err, auth.ErrInvalidRequest) || oe.Method != r.Method || oe.Origin != origin {
				t.Fatalf("error %T %v is not an *OriginError for %s from %q", err, err, r.Method, origin)
			}
		}
		if err == nil && stdErr != nil {
			t.Fatalf("accepted what net/http refuses (%v)", stdErr)
		}
		trusted := slices.Contains(browserWritten, origin)
		if err != nil && stdErr == nil && (fetchSite != "" || origin == "" || trusted) {
			t.Fatalf("refused what net/http accepts, outside the Origin-vs-Host fallback: %v", err)
		}
		if err != nil || r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			return
		}
		switch fetchSite {
		case "same-origin", "none":
		case "":
			if origin == "" || trusted {
				return
			}
			u, perr := url.Parse(origin)
			if perr != nil || u.Host == "" || u.Host != host {
				t.Fatalf("accepted Origin %q for Host %q", origin, host)
			}
			if (tls || !dev) && u.Scheme != "https" {
				t.Fatalf("accepted Origin %q on an HTTPS site", origin)
			}
		default:
			if !trusted {
				t.Fatalf("accepted a %q request from untrusted %q", fetchSite, origin)
			}
		}
	})
}
