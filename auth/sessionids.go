package auth

import (
	"crypto/sha256"
	"encoding/hex"
)

// Session tokens and the ids they are stored under.
//
// A session token is what the client holds, in its cookie: SessionIDLength
// random letters and digits, a bearer credential. By default the store
// never sees it: a session is stored under the SHA-256 of its token, in
// lower-case hex (as Lucia v3 and the Copenhagen Book do), so that anyone
// who can read the sessions (a backup, a read-only account, a leaked
// dump) learns ids that cannot be sent back as a cookie, since a token is
// looked up by its hash. A random 206-bit token needs no salt or slow
// hash: nothing about it can be guessed, so its hash cannot be inverted
// by search. Config.LuciaV1 stores the token itself, because a Lucia v1
// application reads the same sessions by the token.

// sessionDigestLength is the length of a session's stored id when ids are
// hashed (the default): 64 lower-case hex digits of SHA-256.
const sessionDigestLength = 2 * sha256.Size

// hashSessionToken is the id a session with token is stored under when ids
// are hashed.
func hashSessionToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// storedID is the id the session of token is stored under.
func (a *Auth[A]) storedID(token string) string {
	if a.luciaV1 {
		return token
	}
	return hashSessionToken(token)
}

// storedIDOf returns the stored id that idOrToken names: a Session.ID as
// given, or a token (what a cookie holds), which it hashes where ids are
// hashed; false for a string that is neither. A token and a hash cannot
// be taken for one another: a token is SessionIDLength letters and
// digits, a hash sessionDigestLength hex digits.
func (a *Auth[A]) storedIDOf(idOrToken string) (string, bool) {
	switch {
	case wellFormedSessionID(idOrToken):
		return a.storedID(idOrToken), true
	case !a.luciaV1 && isSessionDigest(idOrToken):
		return idOrToken, true
	}
	return "", false
}

// isSessionDigest reports whether id is a hashed session id:
// sessionDigestLength lower-case hex digits. A stored session whose id is
// not one was stored unhashed (by Lucia v1, or before ids were hashed);
// where ids are hashed no token leads to it.
func isSessionDigest(id string) bool {
	if len(id) != sessionDigestLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
