package auth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
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

// CheckOrigin is the CSRF check Lucia v1 made. A request whose method may
// change state (anything but GET, HEAD and OPTIONS) must carry exactly one
// Origin header, naming the request's own host (scheme://host[:port], the
// host and port equal to the request's Host) or one of
// Config.TrustedOrigins. Otherwise CheckOrigin returns an *OriginError: a
// missing Origin, "null" (which browsers send from sandboxed frames, file:
// pages and some redirects), and anything that is not a plain origin are
// all refused.
//
// Browsers send Origin with every cross-origin request and with every
// same-origin request but GET and HEAD, and a page cannot forge it, so a
// forged form post or fetch from another site fails the check. Non-browser
// clients have to send the header themselves.
//
// GET, HEAD and OPTIONS are exempt: handlers must not change state on them
// (OPTIONS is the CORS preflight, which browsers send without cookies).
// TRACE is not exempt: there is nothing to gain from exempting it.
//
// The comparison uses the Host header as the server received it. Behind a
// reverse proxy that rewrites Host, list the public origin in
// Config.TrustedOrigins.
func (a *Auth[A]) CheckOrigin(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	refuse := func(origin, reason string) error {
		return &OriginError{Method: r.Method, Origin: origin, Reason: reason}
	}
	values := r.Header.Values("Origin")
	switch {
	case len(values) == 0:
		return refuse("", "no Origin header")
	case len(values) > 1:
		return refuse(values[0], "more than one Origin header")
	case values[0] == "null":
		return refuse("null", "opaque origin (null)")
	}
	o, err := parseOrigin(values[0])
	if err != nil {
		return refuse(values[0], err.Error())
	}
	if a.trustedOrigins[o.String()] || o.matchesHost(r.Host) {
		return nil
	}
	return refuse(values[0], "origin is neither the request's host nor trusted")
}

// origin is a parsed, normalized web origin: lower-case scheme and host,
// and the port only when it is not the scheme's default.
type origin struct {
	scheme, host, port string
}

func (o origin) String() string {
	host := o.host
	if strings.IndexByte(host, ':') >= 0 { // IPv6
		host = "[" + host + "]"
	}
	if o.port != "" {
		host += ":" + o.port
	}
	return o.scheme + "://" + host
}

// matchesHost reports whether the request's Host names o's host and port.
func (o origin) matchesHost(requestHost string) bool {
	if requestHost == "" {
		return false
	}
	u := url.URL{Host: requestHost}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == defaultPort(o.scheme) {
		port = ""
	}
	return host == o.host && port == o.port
}

func defaultPort(scheme string) string {
	switch scheme {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// parseOrigin parses an origin as the Origin header carries it:
// scheme://host[:port], nothing before the host and nothing after the port.
func parseOrigin(s string) (origin, error) {
	if strings.IndexByte(s, '%') >= 0 {
		// Browsers serialize origins without escapes (IDNs as punycode).
		return origin{}, errors.New("escaped characters in origin")
	}
	u, err := url.Parse(s)
	if err != nil {
		return origin{}, errors.New("malformed origin")
	}
	if u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.User != nil ||
		u.Path != "" || u.RawPath != "" || u.ForceQuery || u.RawQuery != "" || u.Fragment != "" {
		return origin{}, errors.New("not an origin (scheme://host[:port])")
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return origin{}, errors.New("origin without a host")
	}
	port := u.Port()
	if port == "" && strings.HasSuffix(u.Host, ":") {
		return origin{}, errors.New("origin with an empty port")
	}
	if port == defaultPort(u.Scheme) {
		port = ""
	}
	if strings.IndexByte(host, ':') >= 0 && net.ParseIP(host) == nil {
		return origin{}, errors.New("malformed IPv6 origin")
	}
	return origin{scheme: u.Scheme, host: host, port: port}, nil
}
