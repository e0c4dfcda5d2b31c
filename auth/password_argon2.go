package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Argon2id is the default PasswordHasher.
//
// New hashes are argon2id (RFC 9106) in the PHC string format,
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in unpadded standard base64. The default parameters are
// OWASP's recommended minimum for argon2id (Password Storage Cheat Sheet):
// 19 MiB of memory (m=19456 KiB), 2 iterations and 1 degree of parallelism,
// with a 16-byte random salt and a 32-byte key. Every Hash and every Verify
// of such a hash allocates Memory KiB and takes tens of milliseconds of CPU;
// that cost is the point (it slows down guessing from a stolen database),
// so size login concurrency accordingly.
//
// Passwords are NFKC-normalized before hashing, so that one password typed
// with different input methods (full-width letters, composed or decomposed
// accents) gives one hash, as NIST SP 800-63B advises and as Lucia did for
// its scrypt hashes.
//
// Verify also accepts the hashes Lucia v1 stored, so that a database shared
// with or migrated from a Lucia application keeps working:
//
//   - "s2:<salt>:<hex>": scrypt, N=16384, r=16, p=1, 64-byte key, the
//     16-character salt used as its UTF-8 bytes, password NFKC-normalized;
//   - "<salt>:<hex>" (before "s2"): the same with r=8 and the password as
//     typed, not normalized;
//   - bcrypt hashes ("$2a$..." and the other "$2" variants) are reported as
//     ErrOutdatedPassword, as Lucia did: the user has to set a new password.
//
// NeedsRehash is true for every hash but an argon2id hash with exactly this
// hasher's parameters, so the first successful login after a migration or a
// parameter change stores a new hash. From then on a Lucia application can
// no longer verify that user's password; while one shares the database, set
// Config.LuciaV1, whose hasher is LuciaScrypt.
//
// The zero value uses the defaults. Hashes with parameters beyond the limits
// below are refused by Hash and reported as malformed by Verify, so that a
// corrupt stored hash cannot make a login allocate gigabytes: memory at most
// 2 GiB, at most 64 iterations, salt 8 to 256 bytes, key 16 to 256 bytes.
type Argon2id struct {
	// Memory in KiB; default 19456 (19 MiB).
	Memory uint32
	// Iterations (argon2's t); default 2.
	Iterations uint32
	// Parallelism (argon2's p, lanes and threads); default 1.
	Parallelism uint8
	// SaltLength in bytes; default 16.
	SaltLength uint32
	// KeyLength in bytes; default 32.
	KeyLength uint32
}

// InsecureFastHasher returns an argon2id hasher with the smallest
// parameters argon2 allows (8 KiB, one iteration): a hash takes
// microseconds. It is meant for tests and benchmarks that create many keys.
// NOT FOR PRODUCTION: its hashes are cheap to brute-force. (Verifying
// Lucia's scrypt hashes costs what it costs with any Argon2id.)
func InsecureFastHasher() *Argon2id {
	return &Argon2id{Memory: 8, Iterations: 1, Parallelism: 1}
}

type argon2Params struct {
	memory, iterations uint32
	parallelism        uint8
	saltLength         uint32
	keyLength          uint32
}

// Limits on argon2id parameters, for Hash and Verify alike.
const (
	maxArgon2Memory     = 2 << 20 // KiB: 2 GiB
	maxArgon2Iterations = 64
	minSaltLength       = 8
	maxSaltLength       = 256
	minKeyLength        = 16
	maxKeyLength        = 256
)

func (p argon2Params) check() error {
	switch {
	case p.parallelism == 0:
		return &HashFormatError{Format: "argon2id", Reason: "parallelism 0"}
	case p.memory < 8*uint32(p.parallelism):
		return &HashFormatError{Format: "argon2id", Reason: "memory below 8 KiB per lane"}
	case p.memory > maxArgon2Memory:
		return &HashFormatError{Format: "argon2id", Reason: "memory above 2 GiB"}
	case p.iterations == 0 || p.iterations > maxArgon2Iterations:
		return &HashFormatError{Format: "argon2id", Reason: "iterations not in 1..64"}
	case p.saltLength < minSaltLength || p.saltLength > maxSaltLength:
		return &HashFormatError{Format: "argon2id", Reason: "salt not 8 to 256 bytes"}
	case p.keyLength < minKeyLength || p.keyLength > maxKeyLength:
		return &HashFormatError{Format: "argon2id", Reason: "key not 16 to 256 bytes"}
	}
	return nil
}

func (h *Argon2id) params() argon2Params {
	p := argon2Params{h.Memory, h.Iterations, h.Parallelism, h.SaltLength, h.KeyLength}
	if p.memory == 0 {
		p.memory = 19456
	}
	if p.iterations == 0 {
		p.iterations = 2
	}
	if p.parallelism == 0 {
		p.parallelism = 1
	}
	if p.saltLength == 0 {
		p.saltLength = 16
	}
	if p.keyLength == 0 {
		p.keyLength = 32
	}
	return p
}

// Hash returns an argon2id hash of the NFKC form of password.
func (h *Argon2id) Hash(ctx context.Context, password string) (string, error) {
	p := h.params()
	if err := p.check(); err != nil {
		return "", fmt.Errorf("auth: Argon2id parameters: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	salt := make([]byte, p.saltLength)
	rand.Read(salt) // never fails
	key := argon2.IDKey([]byte(norm.NFKC.String(password)), salt, p.iterations, p.memory, p.parallelism, p.keyLength)
	return encodeArgon2id(p, salt, key), nil
}

// Verify checks password against an argon2id hash or one of Lucia's
// formats; see Argon2id.
func (h *Argon2id) Verify(ctx context.Context, hash, password string) (bool, error) {
	return verifyPassword(ctx, hash, password)
}

// NeedsRehash is true unless hash is argon2id with h's parameters.
func (h *Argon2id) NeedsRehash(hash string) bool {
	parsed, err := parsePasswordHash(hash)
	return err != nil || parsed.format != formatArgon2id || parsed.argon2 != h.params()
}

var b64 = base64.RawStdEncoding.Strict()

func encodeArgon2id(p argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.iterations, p.parallelism, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// parseArgon2id reads "$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<key>". Only
// version 19 (0x13, the RFC 9106 version) exists in x/crypto, so only it is
// accepted; PHC's optional keyid and data parameters are refused.
func parseArgon2id(hash string) (parsedHash, error) {
	malformed := func(reason string) (parsedHash, error) {
		return parsedHash{}, &HashFormatError{Format: "argon2id", Reason: reason}
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 {
		return malformed("not 5 $-separated fields")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return malformed("version is not v=19")
	}
	settings := strings.Split(parts[3], ",")
	if len(settings) != 3 {
		return malformed("parameters are not m=,t=,p=")
	}
	var values [3]uint64
	for i, name := range [3]string{"m=", "t=", "p="} {
		digits, ok := strings.CutPrefix(settings[i], name)
		if !ok {
			return malformed("parameters are not m=,t=,p=")
		}
		v, err := strconv.ParseUint(digits, 10, 32)
		if err != nil {
			return malformed("parameter " + name + " is not a 32-bit number")
		}
		values[i] = v
	}
	if values[2] > 255 {
		return malformed("parallelism above 255")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return malformed("salt is not unpadded base64")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return malformed("key is not unpadded base64")
	}
	p := argon2Params{
		memory: uint32(values[0]), iterations: uint32(values[1]), parallelism: uint8(values[2]),
		saltLength: uint32(len(salt)), keyLength: uint32(len(key)),
	}
	if err := p.check(); err != nil {
		return parsedHash{}, err
	}
	return parsedHash{format: formatArgon2id, argon2: p, salt: salt, key: key}, nil
}
