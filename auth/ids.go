package auth

import (
	"crypto/rand"
	"fmt"
	"io"
)

// Id lengths and alphabet, as in Lucia v1.
const (
	// UserIDLength is the length of generated user ids: 15 characters of
	// IDAlphabet, about 77 bits. User ids are not secrets; they only need
	// to be unique.
	UserIDLength = 15
	// SessionIDLength is the length of every session id: 40 characters of
	// IDAlphabet, about 206 bits from crypto/rand. A session id is a bearer
	// credential, so it has to be unguessable.
	SessionIDLength = 40
	// IDAlphabet is the alphabet of generated ids.
	IDAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// unbiasedLimit is the largest multiple of len(IDAlphabet) that fits in a
// byte (7 × 36 = 252). Random bytes at or above it are thrown away, so that
// every character is equally likely; taking b % 36 of every byte would make
// the first four characters 8/7 as likely as the rest.
const unbiasedLimit = 256 - 256%len(IDAlphabet)

// RandomID returns n characters drawn uniformly and independently from
// IDAlphabet, using crypto/rand.
func RandomID(n int) string {
	id, _ := randomIDFrom(rand.Reader, n) // crypto/rand.Reader never fails
	return id
}

// randomIDFrom draws from r by rejection sampling; see unbiasedLimit.
func randomIDFrom(r io.Reader, n int) (string, error) {
	return randomStringFrom(r, IDAlphabet, n)
}

// randomStringFrom draws n characters of alphabet (at most 256 ASCII
// characters) from r, rejecting bytes at or above the largest multiple of
// len(alphabet), as unbiasedLimit does for IDAlphabet.
func randomStringFrom(r io.Reader, alphabet string, n int) (string, error) {
	limit := 256 - 256%len(alphabet)
	id := make([]byte, 0, n)
	// 256/limit of n bytes are needed on average (256/252 for IDAlphabet,
	// 256/248 for Lucia's 62 characters); read a little more so that one
	// read is almost always enough.
	buf := make([]byte, n+n/8+4)
	for len(id) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("auth: reading random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			id = append(id, alphabet[int(b)%len(alphabet)])
			if len(id) == n {
				break
			}
		}
	}
	return string(id), nil
}

// wellFormedSessionID reports whether id can be a session id: exactly
// SessionIDLength ASCII letters and digits. Upper-case letters are accepted
// because Lucia 1.x itself drew session ids from a-z, A-Z and 0-9; a
// database shared with a Lucia application holds such ids.
func wellFormedSessionID(id string) bool {
	if len(id) != SessionIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
