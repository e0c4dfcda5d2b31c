package auth

import (
	"crypto/subtle"
	"encoding/hex"
	"strings"

	"golang.org/x/crypto/scrypt"
	"golang.org/x/text/unicode/norm"
)

// Lucia v1's scrypt parameters. Only the block size differs between its
// two formats.
const (
	scryptN            = 16384
	scryptP            = 1
	scryptKeyLength    = 64
	scryptBlockSize    = 16 // "s2:<salt>:<hex>"
	scryptBlockSizeOld = 8  // "<salt>:<hex>"
)

// parseScrypt reads Lucia's "s2:<salt>:<hex>" and "<salt>:<hex>". The salt
// is kept as text: Lucia fed its UTF-8 bytes to scrypt.
func parseScrypt(hash string) (parsedHash, error) {
	parts := strings.Split(hash, ":")
	var p parsedHash
	var salt, keyHex string
	switch {
	case len(parts) == 2:
		p.format, salt, keyHex = formatLegacyScrypt, parts[0], parts[1]
	case len(parts) == 3 && parts[0] == "s2":
		p.format, salt, keyHex = formatScrypt, parts[1], parts[2]
	case len(parts) == 3:
		return parsedHash{}, &HashFormatError{Format: "scrypt", Reason: "unknown version"}
	default:
		return parsedHash{}, &HashFormatError{Reason: "unknown format"}
	}
	if salt == "" || len(salt) > maxSaltLength {
		return parsedHash{}, &HashFormatError{Format: "scrypt", Reason: "salt not 1 to 256 bytes"}
	}
	key, err := hex.DecodeString(keyHex)
	if err != nil || len(key) != scryptKeyLength {
		return parsedHash{}, &HashFormatError{Format: "scrypt", Reason: "key is not 128 hex digits"}
	}
	p.salt, p.key = []byte(salt), key
	return p, nil
}

// verifyScrypt checks password against a parsed Lucia scrypt hash.
//
// An "s2" hash was made from the NFKC form of the password, so the NFKC
// form is what is checked. (Lucia itself checked the password as typed, so
// that a password NFKC changes could never log in again; checking what was
// hashed fixes that and changes nothing for other passwords.) The older
// format never normalized, so the password is checked as typed.
func verifyScrypt(p parsedHash, password string) bool {
	if p.format == formatScrypt {
		password = norm.NFKC.String(password)
	}
	key, err := scryptKey(p.format, password, p.salt)
	return err == nil && subtle.ConstantTimeCompare(key, p.key) == 1
}

// scryptKey derives the key of one of Lucia's scrypt formats from a
// password exactly as given and a salt. It fails only for invalid
// parameters, and these are constants.
func scryptKey(format hashFormat, password string, salt []byte) ([]byte, error) {
	blockSize := scryptBlockSizeOld
	if format == formatScrypt {
		blockSize = scryptBlockSize
	}
	return scrypt.Key([]byte(password), salt, scryptN, blockSize, scryptP, scryptKeyLength)
}
