package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// OriginError reports a request refused by the CSRF check (CheckOrigin).
// It matches ErrInvalidRequest.
type OriginError struct {
	// Method is the request's method.
	Method string
	// Origin is the request's Origin header ("" when there was none).
	Origin string
	// Reason says why the request was refused.
	Reason string
}

func (e *OriginError) Error() string {
	if e.Origin == "" {
		return fmt.Sprintf("auth: %s request refused by the CSRF check: %s", e.Method, e.Reason)
	}
	return fmt.Sprintf("auth: %s request from origin %q refused by the CSRF check: %s", e.Method, e.Origin, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidRequest) true.
func (e *OriginError) Is(target error) bool { return target == ErrInvalidRequest }

// CheckOrigin is the CSRF check. It refuses, with an *OriginError, a
// request whose method may change state (anything but GET, HEAD and
// OPTIONS) when a browser says or shows that it comes from another
// origin. It is net/http's CrossOriginProtection, with
// Config.TrustedOrigins as its trusted origins, plus a scheme check that
// the standard library leaves out:
//
//  1. Sec-Fetch-Site, which every current browser sends to HTTPS and
//     localhost URLs, decides first. "same-origin" (the browser found
//     scheme, host and port equal) and "none" (the user's own navigation)
//     pass, whatever Origin says: a same-origin form under
//     Referrer-Policy: no-referrer, which browsers send with
//     "Origin: null", works. "same-site" and "cross-site" are refused
//     unless Origin is one of Config.TrustedOrigins: a sibling
//     subdomain is another origin.
//  2. Without Sec-Fetch-Site (browsers before 2023, plain-HTTP pages), the
//     Origin header must be a trusted origin, or name the request's Host
//     exactly as browsers write both (lower case, no default port), and,
//     when the request's scheme is known, have that scheme: https when
//     TLS terminates in this process (r.TLS is set) or when the cookie is
//     Secure (production mode, in which the site must be served over
//     HTTPS, by a proxy if not here); http or https in Development mode
//     over plain HTTP, where a TLS-terminating proxy cannot be told from
//     none. "null" is refused here, since nothing says where it comes
//     from.
//  3. A request with neither header passes: browsers send Origin with
//     every cross-origin request and with every same-origin request but
//     GET and HEAD, so this is a non-browser client (curl, a mobile app),
//     which carries no victim's cookies. Such clients need no header.
//
// A page cannot forge Sec-Fetch-Site or Origin. GET, HEAD and OPTIONS are
// exempt: handlers must not change state on them (OPTIONS is the CORS
// preflight, which browsers send without cookies).
//
// Behind a reverse proxy, step 1 needs nothing from the proxy, since the
// browser compared the origins itself; step 2 compares Origin with the
// Host header the app receives, so a proxy that rewrites Host refuses
// old browsers unless the public origin is in Config.TrustedOrigins.
func (a *Auth[A]) CheckOrigin(r *http.Request) error {
	refuse := func(reason string) error {
		return &OriginError{Method: r.Method, Origin: r.Header.Get("Origin"), Reason: reason}
	}
	if err := a.crossOrigin.Check(r); err != nil {
		return refuse(err.Error())
	}
	if reason := a.originSchemeMismatch(r); reason != "" {
		return refuse(reason)
	}
	return nil
}

// originSchemeMismatch adds to http.CrossOriginProtection.Check, for a
// request that passed it by matching its Origin's host with the Host
// header (no Sec-Fetch-Site, an untrusted Origin), what the standard
// library leaves out: the Origin names a host, and its scheme is the
// request's when that is known (see CheckOrigin). It returns why the
// request must be refused, or "".
func (a *Auth[A]) originSchemeMismatch(r *http.Request) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return ""
	}
	origin := r.Header.Get("Origin")
	if r.Header.Get("Sec-Fetch-Site") != "" || origin == "" || a.trustedOrigins[origin] {
		return ""
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return "Origin names no host"
	}
	if (r.TLS != nil || a.secureCookie) && u.Scheme != "https" {
		return fmt.Sprintf("Origin's scheme %q is not the request's (https)", u.Scheme)
	}
	return ""
}

// setUpOriginCheck validates Config.TrustedOrigins and sets up the
// standard library's check with them, written as browsers write origins.
func (a *Auth[A]) setUpOriginCheck(trusted []string) error {
	a.crossOrigin = http.NewCrossOriginProtection()
	a.trustedOrigins = make(map[string]bool, len(trusted))
	for _, o := range trusted {
		origin, err := normalizeOrigin(o)
		if err != nil {
			return fmt.Errorf("auth: trusted origin %q: %w", o, err)
		}
		if err := a.crossOrigin.AddTrustedOrigin(origin); err != nil {
			return fmt.Errorf("auth: trusted origin %q: %w", o, err)
		}
		a.trustedOrigins[origin] = true
	}
	return nil
}

// normalizeOrigin checks that s is an origin, scheme://host[:port] with
// nothing before the host and nothing after the port, and writes it as
// browsers send it in the Origin header: scheme and host in lower case,
// an IPv6 address in its shortest form, no default port. The standard
// library matches trusted origins byte for byte.
func normalizeOrigin(s string) (string, error) {
	if strings.IndexByte(s, '%') >= 0 {
		// Browsers serialize origins without escapes (IDNs as punycode).
		return "", errors.New("escaped characters in origin")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", errors.New("malformed origin")
	}
	if u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.User != nil ||
		u.Path != "" || u.RawPath != "" || u.ForceQuery || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("not an origin (scheme://host[:port])")
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", errors.New("origin without a host")
	}
	port := u.Port()
	if port == "" && strings.HasSuffix(u.Host, ":") {
		return "", errors.New("origin with an empty port")
	}
	if strings.IndexByte(host, ':') >= 0 {
		ip, err := netip.ParseAddr(host)
		switch {
		case err != nil:
			return "", errors.New("malformed IPv6 origin")
		case ip.Is4In6():
			// Browsers write these in hex (::ffff:a00:1); say it plainly.
			return "", errors.New("IPv4-mapped IPv6 origin; use the IPv4 address")
		}
		host = "[" + ip.String() + "]"
	}
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host, nil
}
