package auth

import (
	"context"
	"crypto/subtle"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// PasswordHasher hashes key passwords and verifies them against stored
// hashes. Implementations must be safe for concurrent use.
//
// The default is &Argon2id{}. An application with its own scheme
// implements this interface; tests and benchmarks that create many keys can
// use InsecureFastHasher.
type PasswordHasher interface {
	// Hash returns a hash of password to store. It is called with a
	// non-empty password.
	Hash(ctx context.Context, password string) (string, error)

	// Verify reports whether password matches hash. It returns an error,
	// rather than false, for a hash it cannot verify: ErrOutdatedPassword
	// for a format that is known but no longer supported, a
	// *HashFormatError for one it does not understand.
	Verify(ctx context.Context, hash, password string) (bool, error)

	// NeedsRehash reports whether hash, which has just been verified,
	// should be replaced by a fresh Hash of the same password: it is in an
	// older format or uses other parameters than Hash does now. Auth does
	// so after a successful login with a persistent key.
	NeedsRehash(hash string) bool
}

// HashFormatError reports a stored password hash that cannot be parsed.
// The hash itself is not part of the error.
type HashFormatError struct {
	// Format is the format the hash appears to be in ("argon2id",
	// "scrypt"), or "" when it matches none.
	Format string
	// Reason says what is wrong, in a few words.
	Reason string
}

func (e *HashFormatError) Error() string {
	if e.Format == "" {
		return "auth: malformed password hash: " + e.Reason
	}
	return "auth: malformed " + e.Format + " password hash: " + e.Reason
}

// hashFormat names the password hash formats Argon2id knows.
type hashFormat int

const (
	formatArgon2id     hashFormat = iota + 1
	formatScrypt                  // Lucia v1: "s2:<salt>:<hex>", r=16, NFKC password
	formatLegacyScrypt            // Lucia before "s2": "<salt>:<hex>", r=8, password as typed
	formatBcrypt                  // "$2a$...": reported as outdated, as Lucia v1 did
)

// parsedHash is a stored password hash taken apart. Every format's salt
// and key are kept as bytes; for the scrypt formats the salt is the salt
// string's UTF-8 bytes, as Lucia used it.
type parsedHash struct {
	format hashFormat
	argon2 argon2Params
	salt   []byte
	key    []byte
}

// parsePasswordHash recognises a stored hash by its shape. It never panics
// and, for any input, returns either a hash whose fields are within the
// limits its verifier accepts or a *HashFormatError.
func parsePasswordHash(hash string) (parsedHash, error) {
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		return parseArgon2id(hash)
	case strings.HasPrefix(hash, "$2"):
		// Every bcrypt variant: $2$, $2a$, $2b$, $2x$, $2y$.
		return parsedHash{format: formatBcrypt}, nil
	case strings.HasPrefix(hash, "$"):
		return parsedHash{}, &HashFormatError{Reason: "unknown PHC algorithm"}
	}
	return parseScrypt(hash)
}

// verifyPassword checks password against a stored hash in any format the
// built-in hashers know: argon2id (with the hash's own parameters), Lucia's
// two scrypt formats, and bcrypt, which gives ErrOutdatedPassword.
func verifyPassword(ctx context.Context, hash, password string) (bool, error) {
	parsed, err := parsePasswordHash(hash)
	if err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	switch parsed.format {
	case formatArgon2id:
		p := parsed.argon2
		key := argon2.IDKey([]byte(norm.NFKC.String(password)), parsed.salt, p.iterations, p.memory, p.parallelism, p.keyLength)
		return subtle.ConstantTimeCompare(key, parsed.key) == 1, nil
	case formatScrypt, formatLegacyScrypt:
		return verifyScrypt(parsed, password), nil
	default: // formatBcrypt
		return false, ErrOutdatedPassword
	}
}
