package clientip_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/auth/clientip"
)

// req is a request from peer carrying the given header values.
func req(peer, header string, values ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "https://app.example.com/login", nil)
	r.RemoteAddr = peer
	for _, v := range values {
		r.Header.Add(header, v)
	}
	return r
}

func TestTrustedProxies(t *testing.T) {
	key, err := clientip.TrustedProxies("X-Forwarded-For", "10.0.0.0/8", "192.0.2.7", "2001:db8:ffff::/48")
	require.NoError(t, err)
	const xff = "X-Forwarded-For"
	for _, tc := range []struct {
		name string
		r    *http.Request
		want string
	}{
		{"direct client, no header", req("203.0.113.9:4711", xff), "203.0.113.9"},
		{"direct client with a spoofed header", req("203.0.113.9:4711", xff, "198.51.100.1"), "203.0.113.9"},
		{"direct client claiming to be a proxy", req("203.0.113.9:4711", xff, "198.51.100.1, 10.0.0.5"), "203.0.113.9"},
		{"through one proxy", req("10.0.0.5:80", xff, "198.51.100.7"), "198.51.100.7"},
		{"through two proxies", req("10.1.2.3:80", xff, "198.51.100.7, 192.0.2.7"), "198.51.100.7"},
		{"a forged entry left of the client's", req("10.0.0.5:80", xff, "1.1.1.1, 198.51.100.7"), "198.51.100.7"},
		{"several header lines", req("10.0.0.5:80", xff, "1.1.1.1", "198.51.100.7"), "198.51.100.7"},
		{"IPv6 client, by /64", req("10.0.0.5:80", xff, "2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64"},
		{"IPv6 proxy", req("[2001:db8:ffff::1]:443", xff, "198.51.100.7"), "198.51.100.7"},
		{"a request of the proxies themselves", req("10.0.0.5:80", xff, "10.0.0.6"), "10.0.0.5"},
		{"a trusted peer without the header", req("10.0.0.5:80", xff), "10.0.0.5"},
		{"garbage where the client's address should be", req("10.0.0.5:80", xff, "198.51.100.7, not-an-ip"), "10.0.0.5"},
	} {
		assert.Equal(t, tc.want, key(tc.r), tc.name)
	}

	fwd, err := clientip.TrustedProxies("Forwarded", "10.0.0.0/8")
	require.NoError(t, err)
	assert.Equal(t, "198.51.100.7", fwd(req("10.0.0.5:80", "Forwarded", `for=1.1.1.1, for=198.51.100.7;proto=https`)))
	assert.Equal(t, "2001:db8:1:2::/64", fwd(req("10.0.0.5:80", "Forwarded", `for="[2001:db8:1:2::9]:4711"`)))
	assert.Equal(t, "203.0.113.9", fwd(req("203.0.113.9:1", "Forwarded", `for=198.51.100.7`)), "spoofed by a direct client")

	for _, bad := range [][]string{{"X-Forwarded-For"}, {"X-Forwarded-For", "10.0.0.0/33"}, {"X-Forwarded-For", "proxy.internal"}, {"X-Real-IP", "10.0.0.0/8"}} {
		_, err := clientip.TrustedProxies(bad[0], bad[1:]...)
		assert.Error(t, err, "%q", bad)
	}
}

func TestTrustedHops(t *testing.T) {
	key, err := clientip.TrustedHops("X-Forwarded-For", 2)
	require.NoError(t, err)
	assert.Equal(t, "198.51.100.7", key(req("10.0.0.5:80", "X-Forwarded-For", "1.1.1.1, 198.51.100.7, 10.9.9.9")))
	assert.Equal(t, "10.0.0.5", key(req("10.0.0.5:80", "X-Forwarded-For", "198.51.100.7")), "fewer addresses than hops: the peer")
	_, err = clientip.TrustedHops("X-Forwarded-For", 0)
	assert.Error(t, err)
}

func TestParse(t *testing.T) {
	key, err := clientip.Parse("X-Forwarded-For", "")
	require.NoError(t, err)
	assert.Equal(t, "10.0.0.5", key(req("10.0.0.5:80", "X-Forwarded-For", "198.51.100.7")), "no proxy: the connection's address")
	key, err = clientip.Parse("X-Forwarded-For", " 10.0.0.0/8, 127.0.0.1 ")
	require.NoError(t, err)
	assert.Equal(t, "198.51.100.7", key(req("127.0.0.1:80", "X-Forwarded-For", "198.51.100.7")))
	key, err = clientip.Parse("X-Forwarded-For", "hops:1")
	require.NoError(t, err)
	assert.Equal(t, "198.51.100.7", key(req("127.0.0.1:80", "X-Forwarded-For", "1.1.1.1, 198.51.100.7")))
	for _, bad := range []string{"hops:x", "hops:0", "10.0.0.0/8, nonsense"} {
		_, err := clientip.Parse("X-Forwarded-For", bad)
		assert.Error(t, err, bad)
	}
}

// ownFormatOnly verifies only the fast hasher's own hashes, so that the
// first login does not measure Lucia's (slow) scrypt formats.
type ownFormatOnly struct{ *auth.Argon2id }

func (h ownFormatOnly) Verify(ctx context.Context, hash, password string) (bool, error) {
	if !strings.HasPrefix(hash, "$argon2id$") {
		return false, &auth.HashFormatError{Reason: "not argon2id"}
	}
	return h.Argon2id.Verify(ctx, hash, password)
}

// noKeys is an adapter that knows no key, all the throttle needs.
type noKeys struct{ auth.Adapter }

func (noKeys) GetKey(context.Context, string) (auth.KeyRecord, error) {
	return auth.KeyRecord{}, auth.ErrNotFound
}

// TestSpoofedHeaderChangesNothing: behind a trusted proxy, each client
// has its own throttle record; an attacker who reaches the application
// directly and sends a new X-Forwarded-For with every attempt is still
// throttled by its own address, and spends no one else's allowance.
func TestSpoofedHeaderChangesNothing(t *testing.T) {
	key, err := clientip.TrustedProxies("X-Forwarded-For", "10.0.0.0/8")
	require.NoError(t, err)
	a, err := auth.New[map[string]any](noKeys{}, auth.Config{
		PasswordHasher: ownFormatOnly{auth.InsecureFastHasher()},
		ClientThrottle: auth.ThrottlePolicy{FreeFailures: 3, MaxDelay: time.Hour},
		KeyThrottle:    auth.ThrottlePolicy{Disabled: true},
		ClientKey:      key,
	})
	require.NoError(t, err)
	login := func(r *http.Request) error {
		r.Header.Set("Origin", "https://app.example.com")
		_, err := a.LogIn(httptest.NewRecorder(), r, "username", "nobody", "guess")
		return err
	}
	throttled := 0
	for i := range 10 {
		err := login(req("203.0.113.9:4711", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)))
		if errors.Is(err, auth.ErrThrottled) {
			throttled++
		} else {
			require.ErrorIs(t, err, auth.ErrInvalidKeyID)
		}
	}
	assert.Equal(t, 7, throttled, "3 free failures for the attacker's own address, whatever it claims")
	for i := range 3 {
		err := login(req("10.0.0.5:80", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)))
		require.ErrorIs(t, err, auth.ErrInvalidKeyID, "the addresses the attacker claimed are untouched")
	}
	err = login(req("10.0.0.5:80", "X-Forwarded-For", "203.0.113.9"))
	require.ErrorIs(t, err, auth.ErrThrottled, "the attacker's own address, through the proxy")
}
