package auth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// allBackends are the backends the core tests run on.
func allBackends() []backend {
	return append(memoryBackends[:len(memoryBackends):len(memoryBackends)], mongoBackend, sqliteBackend)
}

// TestPasswordsMustBeUTF8WithoutNUL: NFKC and Lucia's scrypt cannot treat
// such passwords consistently, so every call that takes a password refuses
// them with an *InputError, before hashing and before writing anything.
func TestPasswordsMustBeUTF8WithoutNUL(t *testing.T) {
	for _, b := range allBackends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			hasher := &countingHasher{PasswordHasher: auth.InsecureFastHasher()}
			e := newEnv(t, b.newAdapter(t), func(c *auth.Config) { c.PasswordHasher = hasher })
			u := e.user("ann", "right")
			for _, bad := range []string{"caf\xe9", "pass\x00word", "\x00"} {
				hashes, verifies := hasher.hashes.Load(), hasher.verifies.Load()
				requirePasswordRefused := func(err error, call string) {
					t.Helper()
					var ie *auth.InputError
					require.ErrorAs(t, err, &ie, "%s with %q", call, bad)
					assert.ErrorIs(t, err, auth.ErrInvalidInput)
					assert.Equal(t, "password", ie.Field)
				}

				_, err := e.a.CreateUser(e.ctx, profile{Username: "bob"},
					&auth.KeyParams{ProviderID: "username", ProviderUserID: "bob", Password: bad})
				requirePasswordRefused(err, "CreateUser")
				_, err = e.a.GetKey(e.ctx, "username", "bob")
				require.ErrorIs(t, err, auth.ErrInvalidKeyID, "no key was written")

				_, err = e.a.CreateKey(e.ctx, u.ID, auth.KeyParams{ProviderID: "email", ProviderUserID: "ann@example.com", Password: bad})
				requirePasswordRefused(err, "CreateKey")
				_, err = e.a.GetKey(e.ctx, "email", "ann@example.com")
				require.ErrorIs(t, err, auth.ErrInvalidKeyID, "no key was written")

				_, err = e.a.UseKey(e.ctx, "username", "ann", bad)
				requirePasswordRefused(err, "UseKey")
				_, err = e.a.UseKey(e.ctx, "username", "nobody", bad)
				requirePasswordRefused(err, "UseKey of an unknown key")

				_, err = e.a.UpdateKeyPassword(e.ctx, "username", "ann", bad)
				requirePasswordRefused(err, "UpdateKeyPassword")

				w := httptest.NewRecorder()
				_, err = e.a.LogIn(w, request(http.MethodPost, "", "https://"+testHost), "username", "ann", bad)
				requirePasswordRefused(err, "LogIn")
				assert.Nil(t, sessionCookie(t, w))

				assert.Equal(t, hashes, hasher.hashes.Load(), "nothing was hashed")
				assert.Equal(t, verifies, hasher.verifies.Load(), "nothing was verified")
			}
			_, err := e.a.UseKey(e.ctx, "username", "ann", "right")
			require.NoError(t, err, "the password is unchanged")
		})
	}
}
