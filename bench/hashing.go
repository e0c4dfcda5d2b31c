package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/scrypt"
)

// Password hashing parameters compared by the hashing cases.
const (
	// Lucia v1's "s2" hashes: scrypt N=16384, r=16, p=1, 64-byte key. Its
	// working memory is 128·N·r bytes = 32 MiB.
	scryptN, scryptR, scryptP, scryptKeyLen = 16384, 16, 1, 64
	// OWASP's argon2id recommendation (Password Storage Cheat Sheet):
	// m=19 MiB, t=2, p=1; 32-byte key.
	argonMemoryKiB, argonTime, argonThreads, argonKeyLen = 19456, 2, 1, 32
)

// Name of the hashing case the other is compared with.
const HashScrypt = "hash-scrypt-s2"

// HashSessionToken is the case of the hash a session token is stored
// under (auth's default): SHA-256 of the 40-character token, in hex, as
// the core computes it once per validation. authbench compares it with a
// validation (core-validate-session-user).
const HashSessionToken = "hash-session-token-sha256"

// Hashes returns the password hashing cases. They send no commands; their
// B/op is the memory one hash holds at its peak (see the package
// documentation).
func Hashes() []Case {
	return []Case{
		{Name: HashScrypt, Prepare: hashCase(func(password, salt []byte) ([]byte, error) {
			return scrypt.Key(password, salt, scryptN, scryptR, scryptP, scryptKeyLen)
		})},
		{Name: "hash-argon2id-owasp", Baseline: HashScrypt, Prepare: hashCase(func(password, salt []byte) ([]byte, error) {
			return argon2.IDKey(password, salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen), nil
		})},
		{Name: HashSessionToken, Prepare: hashSessionToken},
	}
}

// hashSessionToken hashes a session token as the core does before every
// lookup.
func hashSessionToken(context.Context, *Env) (*Steps, error) {
	token := makeID("token", 0, sessionIDLength)
	return &Steps{Op: func(context.Context, int) error {
		sum := sha256.Sum256([]byte(token))
		if len(hex.EncodeToString(sum[:])) != 2*sha256.Size {
			return errors.New("bench: short digest")
		}
		return nil
	}}, nil
}

func hashCase(hash func(password, salt []byte) ([]byte, error)) func(context.Context, *Env) (*Steps, error) {
	return func(context.Context, *Env) (*Steps, error) {
		// Lucia's salt is 16 characters used as their bytes.
		password, salt := []byte("correct horse battery staple"), []byte("0123456789abcdef")
		return &Steps{Op: func(context.Context, int) error {
			key, err := hash(password, salt)
			if err == nil && len(key) == 0 {
				err = errors.New("empty key")
			}
			return err
		}}, nil
	}
}
