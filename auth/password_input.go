package auth

import (
	"strings"
	"unicode/utf8"
)

// checkPassword refuses passwords that hashing cannot treat consistently:
// invalid UTF-8 (NFKC would replace the bad bytes, so different inputs
// could share a hash; Lucia, in JavaScript, could never have received them)
// and NUL (C-based tools and some databases cut strings at it). Every call
// that takes a password checks it before any hashing.
func checkPassword(password string) error {
	switch {
	case !utf8.ValidString(password):
		return &InputError{Field: "password", Reason: "not valid UTF-8"}
	case strings.IndexByte(password, 0) >= 0:
		return &InputError{Field: "password", Reason: "contains NUL"}
	}
	return nil
}
