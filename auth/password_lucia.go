package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"golang.org/x/text/unicode/norm"
)

// isLuciaScrypt reports whether h is LuciaScrypt, which implies
// Config.LuciaV1.
func isLuciaScrypt(h PasswordHasher) bool {
	switch h.(type) {
	case LuciaScrypt, *LuciaScrypt:
		return true
	}
	return false
}

// LuciaScrypt is the PasswordHasher for an application that shares its
// database with a Lucia v1 JavaScript application, which Config.LuciaV1
// sets (and which, set as the PasswordHasher, implies Config.LuciaV1):
//
//	auth.Config{LuciaV1: true}
//
// Its policy in one line: it writes only hashes Lucia v1 can verify, and it
// never replaces a stored hash.
//
// New hashes are in the format lucia-auth 1.x writes,
//
//	s2:<salt>:<key>
//
// the salt 16 characters drawn uniformly from a-z, A-Z and 0-9 with
// crypto/rand, fed to scrypt as its UTF-8 bytes; the key
// scrypt(NFKC(password), salt, N=16384, r=16, p=1), 64 bytes in lower-case
// hex. Each Hash and Verify takes 32 MiB of memory and tens of milliseconds
// of CPU. That is a quarter of the memory OWASP recommends for scrypt
// (N=2^17, r=8); it is the price of Lucia being able to verify the hash.
//
// Verify accepts what Argon2id.Verify accepts: argon2id with any
// parameters, both Lucia scrypt formats, and bcrypt as ErrOutdatedPassword.
//
// NeedsRehash is false for every hash, so a login changes no stored hash:
//
//   - a hash Lucia wrote ("s2", or the older "<salt>:<hex>") stays, and the
//     user keeps logging in from both applications;
//   - an argon2id hash, written before the database was shared, is never
//     downgraded to scrypt. Lucia cannot verify it (it answers
//     AUTH_INVALID_PASSWORD), so that user logs in from Go only, until a
//     new password is set with UpdateKeyPassword, which writes "s2".
//
// Normalization: passwords are hashed in their NFKC form, as Lucia does.
// Lucia verifies the password as typed, not normalized, so a password that
// NFKC changes (full-width letters, ligatures, decomposed accents) can log
// in from Go only, whichever side hashed it; Go verifies the NFKC form, as
// Argon2id does.
//
// When no Lucia application uses the database any more, switch back to the
// default, Argon2id: every login then replaces the user's hash with
// argon2id.
type LuciaScrypt struct{}

// luciaAlphabet is the alphabet of Lucia 1.x's random strings (its salts,
// user and session ids): a-z, A-Z and 0-9.
const luciaAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// luciaSaltLength is the length of Lucia's scrypt salts, in characters.
const luciaSaltLength = 16

// Hash returns an "s2" scrypt hash of the NFKC form of password.
func (LuciaScrypt) Hash(ctx context.Context, password string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	salt, err := randomStringFrom(rand.Reader, luciaAlphabet, luciaSaltLength)
	if err != nil {
		return "", err
	}
	key, err := scryptKey(formatScrypt, norm.NFKC.String(password), []byte(salt))
	if err != nil {
		return "", fmt.Errorf("auth: scrypt: %w", err)
	}
	return "s2:" + salt + ":" + hex.EncodeToString(key), nil
}

// Verify checks password against a hash in any format Argon2id verifies.
func (LuciaScrypt) Verify(ctx context.Context, hash, password string) (bool, error) {
	return verifyPassword(ctx, hash, password)
}

// NeedsRehash is always false: LuciaScrypt replaces no stored hash.
func (LuciaScrypt) NeedsRehash(string) bool { return false }
