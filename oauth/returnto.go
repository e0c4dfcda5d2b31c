package oauth

import (
	"net/url"
	"strings"
)

// maxReturnTo bounds the return path kept in the state cookie.
const maxReturnTo = 1024

// localPath returns p if it is a path on this site that a redirect may go
// to, else "/". A return path comes from the request that began the
// sign-in, which anyone can craft: "https://evil.example", or
// "//evil.example", "/\evil.example" and "/\t/evil.example", which
// browsers resolve to another host, would make the sign-in an open
// redirect, sending a freshly signed-in user to a look-alike page.
// Accepted: an absolute path (with query and fragment) with no backslash,
// no control character or space, and not starting with "//".
func localPath(p string) string {
	if p == "" || len(p) > maxReturnTo || p[0] != '/' || strings.HasPrefix(p, "//") {
		return "/"
	}
	for i := 0; i < len(p); i++ {
		// Browsers read '\' as '/' and drop tabs and newlines from URLs.
		if c := p[i]; c <= ' ' || c == '\\' || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return p
}
