package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

// TestRandomIDIsUnbiased feeds every byte value once: with rejection
// sampling each of the 36 characters comes out exactly 7 times (252 bytes
// used, 4 rejected). Taking b % 36 of every byte would give the first four
// characters 8 times.
func TestRandomIDIsUnbiased(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	// Rejected padding, in case the function reads ahead.
	src := append(all, bytes.Repeat([]byte{255}, 256)...)
	id, err := randomIDFrom(bytes.NewReader(src), unbiasedLimit)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range IDAlphabet {
		if n := strings.Count(id, string(c)); n != 7 {
			t.Errorf("%q appears %d times, want 7", c, n)
		}
	}
	if unbiasedLimit != 252 {
		t.Errorf("unbiasedLimit = %d, want 252", unbiasedLimit)
	}
}

func TestRandomIDSkipsRejectedBytes(t *testing.T) {
	// Only bytes >= 252 at first: nothing may come of them.
	src := append(bytes.Repeat([]byte{252, 253, 254, 255}, 30), bytes.Repeat([]byte{0, 37}, 30)...)
	id, err := randomIDFrom(bytes.NewReader(src), 10)
	if err != nil {
		t.Fatal(err)
	}
	if id != "abababababab"[:10] {
		t.Errorf("id = %q", id)
	}
	_, err = randomIDFrom(iotest.ErrReader(errors.New("no entropy")), 10)
	if err == nil {
		t.Error("a failing reader must fail")
	}
}

func TestRandomIDLengths(t *testing.T) {
	for _, n := range []int{1, UserIDLength, SessionIDLength, 200} {
		id := RandomID(n)
		if len(id) != n || strings.Trim(id, IDAlphabet) != "" {
			t.Errorf("RandomID(%d) = %q", n, id)
		}
	}
	if a, b := RandomID(SessionIDLength), RandomID(SessionIDLength); a == b {
		t.Error("two session ids are equal")
	}
}

func TestParsePasswordHash(t *testing.T) {
	for _, tc := range []struct {
		hash   string
		format hashFormat
		ok     bool
	}{
		{"$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0", formatArgon2id, true},
		{"s2:iFEhQnTgHmbNANHM:" + strings.Repeat("ab", 64), formatScrypt, true},
		{"iFEhQnTgHmbNANHM:" + strings.Repeat("AB", 64), formatLegacyScrypt, true},
		{"$2a$10$whatever", formatBcrypt, true},
		{"$2b$", formatBcrypt, true},
		{"", 0, false},
		{"s2:salt:" + strings.Repeat("ab", 63), 0, false},
		{"s2:salt:" + strings.Repeat("zz", 64), 0, false},
		{":" + strings.Repeat("ab", 64), 0, false},
		{"s1:salt:" + strings.Repeat("ab", 64), 0, false},
		{"$argon2id$v=19$m=19456,t=2$MDEy$gy5S", 0, false},
		{"$argon2id$v=19$t=2,m=19456,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0", 0, false},
		{"$argon2id$v=19$m=19456,t=2,p=0$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0", 0, false},
		{"$argon2id$v=19$m=19456,t=2,p=256$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0", 0, false},
		{"$argon2id$v=19$m=19456,t=65,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0", 0, false},
		{"$argon2id$v=19$m=7,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0", 0, false},
		{"$argon2id$v=19$m=19456,t=2,p=1$MDEy$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0", 0, false},
		{"$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5S", 0, false},
		{"$argon2id$v=19$m=+19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0", 0, false},
		{"$scrypt$ln=14", 0, false},
	} {
		p, err := parsePasswordHash(tc.hash)
		if tc.ok != (err == nil) || (tc.ok && p.format != tc.format) {
			t.Errorf("parsePasswordHash(%q) = format %d, %v", tc.hash, p.format, err)
		}
		var hfe *HashFormatError
		if err != nil && !errors.As(err, &hfe) {
			t.Errorf("parsePasswordHash(%q): error %T is not a *HashFormatError", tc.hash, err)
		}
	}
}

// FuzzParsePasswordHash: any string either parses into a hash within the
// verifier's limits (and an argon2id hash re-encodes to a string that
// parses to the same thing) or gives a *HashFormatError; nothing panics.
func FuzzParsePasswordHash(f *testing.F) {
	for _, seed := range []string{
		"$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0",
		"$argon2id$v=19$m=64,t=1,p=2$c2FsdHNhbHRzYWx0$j7IkKhdP8/MvUCEX+xeNWQ",
		"s2:iFEhQnTgHmbNANHM:d9de6ca0da4ff79c51130e772c0839f422e99f15f2c1f042d586c6dd4e271798eae6846236e051cec8a2a51d09f5779c5d68dfb2410f1058e3bac78968bcff0f",
		"TYzSwszlVZMDrlTG:ee906dc64121bfbc5f7f53eb3bed7da2e1059905d21bdc266fbe2a365810d629b8d815c349c789347a2ad6948faa4b1a42fd366d57ece3e61803cb64fec09a5f",
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"", ":", "::", "s2::", "$", "$argon2id$", "$argon2id$v=19$m=4294967295,t=4294967295,p=255$$",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, hash string) {
		p, err := parsePasswordHash(hash)
		if err != nil {
			var hfe *HashFormatError
			if !errors.As(err, &hfe) {
				t.Fatalf("error %T is not a *HashFormatError", err)
			}
			return
		}
		switch p.format {
		case formatArgon2id:
			if err := p.argon2.check(); err != nil {
				t.Fatalf("parsed parameters out of limits: %v", err)
			}
			if int(p.argon2.saltLength) != len(p.salt) || int(p.argon2.keyLength) != len(p.key) {
				t.Fatal("lengths disagree")
			}
			again, err := parsePasswordHash(encodeArgon2id(p.argon2, p.salt, p.key))
			if err != nil || again.argon2 != p.argon2 || !bytes.Equal(again.salt, p.salt) || !bytes.Equal(again.key, p.key) {
				t.Fatalf("re-encoded hash parses differently: %v", err)
			}
		case formatScrypt, formatLegacyScrypt:
			if len(p.key) != scryptKeyLength || len(p.salt) == 0 || len(p.salt) > maxSaltLength {
				t.Fatalf("scrypt hash with salt %d bytes, key %d bytes", len(p.salt), len(p.key))
			}
		case formatBcrypt:
			if !strings.HasPrefix(hash, "$2") {
				t.Fatal("bcrypt without $2")
			}
		default:
			t.Fatalf("unknown format %d", p.format)
		}
	})
}

// TestLuciaSaltIsUnbiased: with every byte value once, each of Lucia's 62
// characters comes out exactly 4 times, and the 8 bytes from 248 up, which
// would favour the first 8 characters, are rejected.
func TestLuciaSaltIsUnbiased(t *testing.T) {
	if len(luciaAlphabet) != 62 {
		t.Fatalf("luciaAlphabet has %d characters", len(luciaAlphabet))
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	// Rejected padding, in case the function reads ahead.
	salt, err := randomStringFrom(bytes.NewReader(append(all, bytes.Repeat([]byte{255}, 256)...)), luciaAlphabet, 248)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range luciaAlphabet {
		if n := strings.Count(salt, string(c)); n != 4 {
			t.Errorf("%q appears %d times, want 4", c, n)
		}
	}
	rejected := append(all[248:], bytes.Repeat([]byte{5}, 64)...)
	salt, err = randomStringFrom(bytes.NewReader(rejected), luciaAlphabet, 16)
	if err != nil {
		t.Fatal(err)
	}
	if salt != strings.Repeat("f", 16) {
		t.Errorf("salt = %q, want only characters of byte 5", salt)
	}
}
