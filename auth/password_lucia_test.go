package auth_test

import (
	"context"
	"encoding/hex"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/scrypt"

	"github.com/luciago/mongoauth/auth"
)

// TestLuciaScryptHash checks a new hash against Lucia v1's format, computed
// here from its definition: "s2:<salt>:<hex>", the salt 16 characters of
// a-z, A-Z and 0-9, the key scrypt(NFKC(password), salt, N=16384, r=16,
// p=1, 64 bytes). (That real Lucia verifies it is checked by the interop
// tests, package interop.)
func TestLuciaScryptHash(t *testing.T) {
	ctx := context.Background()
	h := auth.LuciaScrypt{}
	hash, err := h.Hash(ctx, "ｐａｓｓ\u2460")
	require.NoError(t, err)
	m := regexp.MustCompile(`^s2:([a-zA-Z0-9]{16}):([0-9a-f]{128})$`).FindStringSubmatch(hash)
	require.NotNil(t, m, "not in Lucia's s2 format: %q", hash)
	want, err := scrypt.Key([]byte("pass1"), []byte(m[1]), 16384, 16, 1, 64)
	require.NoError(t, err)
	assert.Equal(t, hex.EncodeToString(want), m[2], "the key is scrypt of the NFKC form")

	for _, password := range []string{"ｐａｓｓ\u2460", "pass1"} {
		ok, err := h.Verify(ctx, hash, password)
		require.NoError(t, err)
		assert.True(t, ok, "%q", password)
		ok, err = (&auth.Argon2id{}).Verify(ctx, hash, password)
		require.NoError(t, err)
		assert.True(t, ok, "the default hasher verifies it too: %q", password)
	}
	ok, err := h.Verify(ctx, hash, "pass2")
	require.NoError(t, err)
	assert.False(t, ok)
	assert.False(t, h.NeedsRehash(hash))

	again, err := h.Hash(ctx, "pass1")
	require.NoError(t, err)
	assert.NotEqual(t, hash[3:19], again[3:19], "every hash has its own salt")

	requireCanceledContextStops(t, h, hash)
}

// TestLuciaScryptKeepsStoredHashes is the shared-database policy through
// the core: new keys get s2 hashes, and a login replaces no stored hash.
func TestLuciaScryptKeepsStoredHashes(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), func(c *auth.Config) { c.PasswordHasher = auth.LuciaScrypt{} })
	u, err := e.a.CreateUser(e.ctx, profile{Username: "ann"}, &auth.KeyParams{ProviderID: "username", ProviderUserID: "ann", Password: "pw"})
	require.NoError(t, err)
	rec, err := e.a.Adapter().GetKey(e.ctx, "username:ann")
	require.NoError(t, err)
	assert.Regexp(t, `^s2:[a-zA-Z0-9]{16}:[0-9a-f]{128}$`, *rec.HashedPassword, "sign-up")
	_, err = e.a.UpdateKeyPassword(e.ctx, "username", "ann", "new")
	require.NoError(t, err)
	rec, err = e.a.Adapter().GetKey(e.ctx, "username:ann")
	require.NoError(t, err)
	assert.Regexp(t, `^s2:`, *rec.HashedPassword, "password change")

	fast, err := auth.InsecureFastHasher().Hash(e.ctx, "fast")
	require.NoError(t, err)
	stored := append(everyVerifiableVector(t), hashVector{Format: "argon2id", Note: "weak parameters", Password: "fast", Hash: fast})
	for i, v := range stored {
		id := string(rune('a' + i))
		storeKey(t, e, u.ID, "email:"+id, v.Hash)
		_, err := e.a.UseKey(e.ctx, "email", id, v.Password)
		require.NoError(t, err, "%s/%s", v.Format, v.Note)
		rec, err := e.a.Adapter().GetKey(e.ctx, "email:"+id)
		require.NoError(t, err)
		assert.Equal(t, v.Hash, *rec.HashedPassword, "%s/%s: the login kept the hash", v.Format, v.Note)
	}
}

// everyVerifiableVector returns the scrypt and argon2id test vectors.
func everyVerifiableVector(t *testing.T) []hashVector {
	vectors := readVectors(t, "testdata/scrypt_vectors.json")
	for _, v := range readVectors(t, "testdata/argon2_vectors.json") {
		v.Format = "argon2id"
		vectors = append(vectors, v)
	}
	return vectors
}
