package auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

type hashVector struct {
	Format        string `json:"format"`
	Note          string `json:"note"`
	Password      string `json:"password"`
	NFKC          string `json:"nfkc"`
	ChangedByNFKC bool   `json:"changedByNFKC"`
	Hash          string `json:"hash"`
}

func readVectors(t testing.TB, file string) []hashVector {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var f struct{ Vectors []hashVector }
	require.NoError(t, json.Unmarshal(data, &f))
	require.NotEmpty(t, f.Vectors)
	return f.Vectors
}

// TestLuciaScryptVectors checks hashes made by Node's scrypt in Lucia's
// two formats (testdata/scrypt_vectors.js), with both hashers: the default
// wants them replaced, LuciaScrypt keeps them.
func TestLuciaScryptVectors(t *testing.T) {
	ctx := context.Background()
	changed := 0
	for _, v := range readVectors(t, "testdata/scrypt_vectors.json") {
		if v.ChangedByNFKC {
			changed++
		}
		for _, hc := range []struct {
			h           auth.PasswordHasher
			needsRehash bool
		}{{&auth.Argon2id{}, true}, {auth.LuciaScrypt{}, false}} {
			t.Run(fmt.Sprintf("%T/%s/%s", hc.h, v.Format, v.Note), func(t *testing.T) {
				t.Parallel()
				h := hc.h
				ok, err := h.Verify(ctx, v.Hash, v.Password)
				require.NoError(t, err)
				assert.True(t, ok, "the password as typed")
				ok, err = h.Verify(ctx, v.Hash, v.Password+"x")
				require.NoError(t, err)
				assert.False(t, ok, "a wrong password")
				assert.Equal(t, hc.needsRehash, h.NeedsRehash(v.Hash), "NeedsRehash")
				if !v.ChangedByNFKC {
					return
				}
				ok, err = h.Verify(ctx, v.Hash, v.NFKC)
				require.NoError(t, err)
				// "s2" hashed the NFKC form, so both spellings match; the older
				// format hashed the password as typed, so only that matches.
				assert.Equal(t, v.Format == "s2", ok, "the NFKC form of the password")
			})
		}
	}
	assert.Equal(t, 2, changed, "the vectors include a password NFKC changes, in both formats")
}

// TestArgon2idVectors checks hashes made by the C reference implementation
// (testdata/argon2_vectors.py).
func TestArgon2idVectors(t *testing.T) {
	ctx := context.Background()
	vectors := readVectors(t, "testdata/argon2_vectors.json")
	for _, v := range vectors {
		t.Run(v.Note, func(t *testing.T) {
			for _, h := range []auth.PasswordHasher{&auth.Argon2id{}, auth.LuciaScrypt{}} {
				for _, password := range []string{v.Password, v.NFKC} {
					ok, err := h.Verify(ctx, v.Hash, password)
					require.NoError(t, err)
					assert.True(t, ok, "%T %q", h, password)
				}
				ok, err := h.Verify(ctx, v.Hash, "wrong")
				require.NoError(t, err)
				assert.False(t, ok, "%T", h)
			}
			assert.False(t, auth.LuciaScrypt{}.NeedsRehash(v.Hash), "LuciaScrypt never downgrades argon2id")
		})
	}
	assert.False(t, (&auth.Argon2id{}).NeedsRehash(vectors[0].Hash), "a hash with the default parameters is current")
	assert.True(t, (&auth.Argon2id{}).NeedsRehash(vectors[1].Hash), "other parameters are not")
	assert.True(t, auth.InsecureFastHasher().NeedsRehash(vectors[0].Hash))
}

func TestArgon2idHash(t *testing.T) {
	ctx := context.Background()
	h := &auth.Argon2id{}
	hash, err := h.Hash(ctx, "ｐａｓｓ")
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`), hash)
	ok, err := h.Verify(ctx, hash, "pass")
	require.NoError(t, err)
	assert.True(t, ok, "passwords are NFKC-normalized")
	assert.False(t, h.NeedsRehash(hash))
	again, err := h.Hash(ctx, "ｐａｓｓ")
	require.NoError(t, err)
	assert.NotEqual(t, hash, again, "every hash has its own salt")

	fast, err := auth.InsecureFastHasher().Hash(ctx, "pw")
	require.NoError(t, err)
	assert.Regexp(t, `^\$argon2id\$v=19\$m=8,t=1,p=1\$`, fast)
	assert.True(t, h.NeedsRehash(fast))

	_, err = (&auth.Argon2id{Memory: 4 << 20}).Hash(ctx, "pw")
	var hfe *auth.HashFormatError
	require.ErrorAs(t, err, &hfe, "parameters beyond the limits are refused")

	requireCanceledContextStops(t, h, hash)
}

// requireCanceledContextStops checks that Hash and Verify give up on a
// cancelled context.
func requireCanceledContextStops(t *testing.T, h auth.PasswordHasher, hash string) {
	t.Helper()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.Hash(canceled, "pw")
	require.ErrorIs(t, err, context.Canceled)
	_, err = h.Verify(canceled, hash, "pw")
	require.ErrorIs(t, err, context.Canceled)
}

func TestVerifyRefusesWhatItCannotCheck(t *testing.T) {
	ctx := context.Background()
	for _, h := range []auth.PasswordHasher{auth.InsecureFastHasher(), auth.LuciaScrypt{}} {
		for _, bcrypt := range []string{
			"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
			"$2b$12$abcdefghijklmnopqrstuu",
			"$2y$04$whatever",
		} {
			_, err := h.Verify(ctx, bcrypt, "pw")
			require.ErrorIs(t, err, auth.ErrOutdatedPassword, "%T %s", h, bcrypt)
		}
		for _, malformed := range []string{
			"", "plain", "a:b:c:d", "s3:salt:00", "s2::" + hex128, "s2:salt:abc",
			"$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
			"$argon2id$v=16$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
			"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
			"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA",
		} {
			_, err := h.Verify(ctx, malformed, "pw")
			var hfe *auth.HashFormatError
			require.ErrorAs(t, err, &hfe, "%T %q", h, malformed)
			assert.NotContains(t, err.Error(), "c2FsdHNhbHQ", "the hash is not quoted in the error")
		}
	}
}

const hex128 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// storeKey writes a key record with a given hash straight to the adapter,
// as a Lucia application would have.
func storeKey(t *testing.T, e *env, userID, keyID, hash string) {
	t.Helper()
	require.NoError(t, e.a.Adapter().SetKey(e.ctx, auth.KeyRecord{ID: keyID, UserID: userID, HashedPassword: &hash}))
}

func TestLoginUpgradesLuciaHashes(t *testing.T) {
	for _, v := range readVectors(t, "testdata/scrypt_vectors.json") {
		t.Run(v.Format+"/"+v.Note, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, newMemoryAdapter(), nil)
			u, err := e.a.CreateUser(e.ctx, profile{Username: "ann"}, nil)
			require.NoError(t, err)
			storeKey(t, e, u.ID, "email:ann@example.com", v.Hash)

			_, err = e.a.UseKey(e.ctx, "email", "ann@example.com", "wrong")
			require.ErrorIs(t, err, auth.ErrInvalidPassword)
			rec, err := e.a.Adapter().GetKey(e.ctx, "email:ann@example.com")
			require.NoError(t, err)
			assert.Equal(t, v.Hash, *rec.HashedPassword, "a failed login changes nothing")

			_, err = e.a.UseKey(e.ctx, "email", "ann@example.com", v.Password)
			require.NoError(t, err)
			rec, err = e.a.Adapter().GetKey(e.ctx, "email:ann@example.com")
			require.NoError(t, err)
			assert.Regexp(t, `^\$argon2id\$v=19\$m=8,t=1,p=1\$`, *rec.HashedPassword, "the hash is upgraded to the configured hasher")
			_, err = e.a.UseKey(e.ctx, "email", "ann@example.com", v.Password)
			require.NoError(t, err, "the new hash works")
		})
	}
}

func TestLoginWithStoredHashProblems(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), nil)
	u, err := e.a.CreateUser(e.ctx, profile{Username: "ann"}, nil)
	require.NoError(t, err)
	storeKey(t, e, u.ID, "username:bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy")
	_, err = e.a.UseKey(e.ctx, "username", "bcrypt", "any")
	require.ErrorIs(t, err, auth.ErrOutdatedPassword)

	storeKey(t, e, u.ID, "username:garbage", "not a hash")
	_, err = e.a.UseKey(e.ctx, "username", "garbage", "any")
	var hfe *auth.HashFormatError
	require.ErrorAs(t, err, &hfe, "a corrupt hash is a server problem, not a wrong password")
	assert.NotErrorIs(t, err, auth.ErrInvalidPassword)
}

// countingHasher counts the hashes and verifications of the hasher it
// wraps.
type countingHasher struct {
	auth.PasswordHasher
	hashes, verifies atomic.Int64
}

func (c *countingHasher) Hash(ctx context.Context, password string) (string, error) {
	c.hashes.Add(1)
	return c.PasswordHasher.Hash(ctx, password)
}

func (c *countingHasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	c.verifies.Add(1)
	return c.PasswordHasher.Verify(ctx, hash, password)
}

// TestLoginTimingIsEqualized checks the mechanism that makes every failed
// login cost one verification, like a wrong password: an unknown key, a
// password for a key without one and a bcrypt hash (refused at once)
// verify the dummy hash. The first login with a password makes the dummy
// hash and measures each kind of hash once (timing.go). (The times
// themselves are measured by BenchmarkFailedLoginTiming, not asserted.)
func TestLoginTimingIsEqualized(t *testing.T) {
	hasher := &countingHasher{PasswordHasher: auth.InsecureFastHasher()}
	e := newEnv(t, newMemoryAdapter(), func(c *auth.Config) { c.PasswordHasher = hasher })
	auth.SetLoginTiming(e.a, time.Now, func(context.Context, time.Duration) {}, true)
	u := e.user("ann", "pw")
	_, err := e.a.CreateKey(e.ctx, u.ID, auth.KeyParams{ProviderID: "github", ProviderUserID: "4711"})
	require.NoError(t, err)
	storeKey(t, e, u.ID, "username:bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy")

	hashes := hasher.hashes.Load()
	_, err = e.a.UseKey(e.ctx, "username", "ann", "wrong")
	require.ErrorIs(t, err, auth.ErrInvalidPassword)
	assert.Equal(t, int64(1), hasher.hashes.Load()-hashes, "the first login makes the dummy hash")
	assert.Equal(t, int64(4), hasher.verifies.Load(), "and verifies it and one hash of each Lucia format, then the key's")

	for _, tc := range []struct {
		name                           string
		providerID, providerUserID, pw string
		want                           error
		verifies                       int64
	}{
		{"WrongPassword", "username", "ann", "wrong", auth.ErrInvalidPassword, 1},
		{"UnknownKey", "username", "nobody", "wrong", auth.ErrInvalidKeyID, 1},
		{"PasswordForPasswordlessKey", "github", "4711", "wrong", auth.ErrInvalidPassword, 1},
		{"BcryptHash", "username", "bcrypt", "wrong", auth.ErrOutdatedPassword, 2}, // refused, then the dummy
		{"UnknownKeyWithoutPassword", "username", "nobody", "", auth.ErrInvalidKeyID, 0},
		{"RightPassword", "username", "ann", "pw", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := hasher.verifies.Load()
			_, err := e.a.UseKey(e.ctx, tc.providerID, tc.providerUserID, tc.pw)
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.want)
			}
			assert.Equal(t, tc.verifies, hasher.verifies.Load()-before, "verifications")
		})
	}
	assert.Equal(t, int64(1), hasher.hashes.Load()-hashes, "the dummy hash is made once")
}
