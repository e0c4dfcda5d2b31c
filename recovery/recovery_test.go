package recovery_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/recovery"
)

type profile struct {
	Username string `auth:"username"`
}

// clock is the auth core's clock in the tests: it moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is an auth core and the recovery flows over one adapter, with a
// development sender.
type fixture struct {
	t     testing.TB
	ctx   context.Context
	clock *clock
	a     *auth.Auth[profile]
	flow  *recovery.Flow[profile]
	mail  *recovery.DevSender
}

func newFixture(t testing.TB, adapter auth.Adapter, configure ...func(*recovery.Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: &clock{now: time.Now().Truncate(time.Second)}, mail: &recovery.DevSender{Keep: 1000, Logger: slog.New(slog.DiscardHandler)}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	f.ctx = ctx
	var err error
	f.a, err = auth.New[profile](adapter, auth.Config{Now: f.clock.Now, PasswordHasher: auth.InsecureFastHasher()})
	require.NoError(t, err)
	config := recovery.Config{
		Sender: f.mail,
		Link: func(p recovery.Purpose, token string) string {
			return "https://app.test/" + string(p) + "?token=" + token
		},
		PasswordProvider: "username",
	}
	for _, c := range configure {
		c(&config)
	}
	f.flow, err = recovery.New(f.a, config)
	require.NoError(t, err)
	// The flow's hold is checked by TestForgotPasswordTakesTheSameTime;
	// elsewhere it is not waited for.
	recovery.SetClock(f.flow, time.Now, func(context.Context, time.Duration) {})
	return f
}

// user creates a user with a username key holding "old password" and an
// e-mail key for address; it returns the user's id.
func (f *fixture) user(username, address string) string {
	f.t.Helper()
	u, err := f.a.CreateUser(f.ctx, profile{Username: username},
		&auth.KeyParams{ProviderID: "username", ProviderUserID: username, Password: "old password"})
	require.NoError(f.t, err)
	_, err = f.a.CreateKey(f.ctx, u.ID, auth.KeyParams{ProviderID: "email", ProviderUserID: address})
	require.NoError(f.t, err)
	return u.ID
}

// forgot posts the "forgot password" form for address, from client.
func (f *fixture) forgot(address, client string) error {
	r := httptestPost(f, "/forgot")
	r.RemoteAddr = client + ":1234"
	return f.flow.ForgotPassword(r, address)
}

func httptestPost(f *fixture, path string) *http.Request {
	return httptest.NewRequestWithContext(f.ctx, http.MethodPost, path, nil)
}

var tokenInLink = regexp.MustCompile(`https://app\.test/([a-z-]+)\?token=([A-Za-z0-9_-]+)`)

// mailTo returns the messages sent to address, oldest first, once every
// delivery in the background has ended.
func (f *fixture) mailTo(address string) []recovery.SentMessage {
	f.flow.Wait()
	var out []recovery.SentMessage
	for _, m := range f.mail.Messages() {
		if m.To == address {
			out = append([]recovery.SentMessage{m}, out...)
		}
	}
	return out
}

// token returns the token of the newest message to address, which must
// link to purpose.
func (f *fixture) token(address string, purpose recovery.Purpose) string {
	f.t.Helper()
	sent := f.mailTo(address)
	require.NotEmpty(f.t, sent, "no message to %s", address)
	m := tokenInLink.FindStringSubmatch(sent[len(sent)-1].Text)
	require.NotNil(f.t, m, "no link in %q", sent[len(sent)-1].Text)
	require.Equal(f.t, string(purpose), m[1])
	return m[2]
}

// resetToken asks for a reset link for address and returns its token.
func (f *fixture) resetToken(address string) string {
	f.t.Helper()
	require.NoError(f.t, f.forgot(address, "192.0.2.1"))
	return f.token(address, recovery.PurposeReset)
}

// verifyToken sends the user a confirmation link for address, the user's
// address, and returns its token.
func (f *fixture) verifyToken(userID, address string) string {
	f.t.Helper()
	_, err := f.flow.SendVerification(f.ctx, userID)
	require.NoError(f.t, err)
	return f.token(address, recovery.PurposeVerify)
}

// logIn reports how a login with password goes.
func (f *fixture) logIn(username, password string) error {
	_, err := f.a.UseKey(f.ctx, "username", username, password)
	return err
}

// TestFlows runs the flows end to end on every storage, with the
// development sender.
func TestFlows(t *testing.T) {
	for _, s := range storages() {
		t.Run(s.Name, func(t *testing.T) {
			adapter := s.Open(t)
			for _, tc := range flowTests {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, adapter) })
			}
		})
	}
}

var flowTests = []struct {
	name string
	run  func(t *testing.T, adapter auth.Adapter)
}{
	{"ResetEndsSessions", testResetEndsSessions},
	{"TokenUsedTwice", testTokenUsedTwice},
	{"ConcurrentUses", testConcurrentUses},
	{"Expired", testExpired},
	{"NewerLinkReplacesOlder", testNewerLinkReplacesOlder},
	{"ForgedTokens", testForgedTokens},
	{"SameAnswerForUnknownAddress", testSameAnswerForUnknownAddress},
	{"SameTimeForUnknownAddress", testSameTimeForUnknownAddress},
	{"ThrottledPerAddress", testThrottledPerAddress},
	{"ThrottledPerClient", testThrottledPerClient},
	{"UnusablePasswordKeepsToken", testUnusablePasswordKeepsToken},
	{"DeletedUser", testDeletedUser},
	{"NoPasswordKey", testNoPasswordKey},
	{"Verification", testVerification},
	{"VerificationAfterAddressChange", testVerificationAfterAddressChange},
	{"VerificationExpired", testVerificationExpired},
	{"VerificationThrottled", testVerificationThrottled},
}

func testResetEndsSessions(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter)
	id := f.user("ann", "ann@example.com")
	for range 2 {
		_, err := f.a.CreateSession(f.ctx, id)
		require.NoError(t, err)
	}
	require.NoError(t, f.forgot(" ANN@example.com ", "192.0.2.1"))
	token := f.token("ann@example.com", recovery.PurposeReset)
	sent := f.mailTo("ann@example.com")
	require.Len(t, sent, 1)
	assert.Equal(t, "Reset your password", sent[0].Subject)
	require.NoError(t, f.flow.CheckResetToken(f.ctx, token), "a GET of the link does not use the token")

	userID, err := f.flow.ResetPassword(f.ctx, token, "new password")
	require.NoError(t, err)
	assert.Equal(t, id, userID)
	require.NoError(t, f.logIn("ann", "new password"))
	require.ErrorIs(t, f.logIn("ann", "old password"), auth.ErrInvalidPassword)
	sessions, err := f.a.UserSessions(f.ctx, id)
	require.NoError(t, err)
	assert.Empty(t, sessions, "a reset ends every session")
	keys, err := f.a.UserKeys(f.ctx, id)
	require.NoError(t, err)
	assert.Len(t, keys, 2, "username and e-mail keys, no token left")
}

func testTokenUsedTwice(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter)
	f.user("bob", "bob@example.com")
	token := f.resetToken("bob@example.com")
	_, err := f.flow.ResetPassword(f.ctx, token, "first new password")
	require.NoError(t, err)
	_, err = f.flow.ResetPassword(f.ctx, token, "attacker's password")
	require.ErrorIs(t, err, recovery.ErrInvalidToken)
	require.ErrorIs(t, f.flow.CheckResetToken(f.ctx, token), recovery.ErrInvalidToken)
	require.NoError(t, f.logIn("bob", "first new password"))
}

func testConcurrentUses(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter)
	f.user("cat", "cat@example.com")
	token := f.resetToken("cat@example.com")
	exactlyOne(t, func() error {
		_, err := f.flow.ResetPassword(f.ctx, token, "a new password")
		return err
	})

	// The same for a verification token, which holds its address as a
	// key password: a first login has the core measure its hashes, so
	// that the concurrent uses do not wait for that (ErrBusy).
	require.ErrorIs(t, f.logIn("cat", "not the password"), auth.ErrInvalidPassword)
	vtoken := f.verifyToken(mustUserID(t, f, "cat"), "cat@example.com")
	exactlyOne(t, func() error {
		_, _, err := f.flow.VerifyEmail(f.ctx, vtoken)
		return err
	})
}

// exactlyOne runs use 8 times at once and checks that exactly one call
// succeeds and the others get ErrInvalidToken.
func exactlyOne(t *testing.T, use func() error) {
	t.Helper()
	const n = 8
	errs := make(chan error, n)
	var start sync.WaitGroup
	start.Add(1)
	for range n {
		go func() {
			start.Wait()
			errs <- use()
		}()
	}
	start.Done()
	won := 0
	for range n {
		if err := <-errs; err == nil {
			won++
		} else {
			require.ErrorIs(t, err, recovery.ErrInvalidToken)
		}
	}
	assert.Equal(t, 1, won, "of concurrent uses of one token exactly one succeeds")
}

func mustUserID(t *testing.T, f *fixture, username string) string {
	k, err := f.a.GetKey(f.ctx, "username", username)
	require.NoError(t, err)
	return k.UserID
}

func testExpired(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter)
	f.user("dan", "dan@example.com")
	token := f.resetToken("dan@example.com")
	f.clock.Advance(59 * time.Minute)
	require.NoError(t, f.flow.CheckResetToken(f.ctx, token))
	f.clock.Advance(time.Minute)
	require.ErrorIs(t, f.flow.CheckResetToken(f.ctx, token), recovery.ErrExpiredToken)
	_, err := f.flow.ResetPassword(f.ctx, token, "too late password")
	require.ErrorIs(t, err, recovery.ErrExpiredToken)
	_, err = f.flow.ResetPassword(f.ctx, token, "too late password")
	require.ErrorIs(t, err, recovery.ErrInvalidToken, "an expired token is used up")
	require.NoError(t, f.logIn("dan", "old password"))
}

func testNewerLinkReplacesOlder(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter)
	f.user("eve", "eve@example.com")
	first := f.resetToken("eve@example.com")
	second := f.resetToken("eve@example.com")
	require.NotEqual(t, first, second)
	_, err := f.flow.ResetPassword(f.ctx, first, "new password")
	require.ErrorIs(t, err, recovery.ErrInvalidToken)
	_, err = f.flow.ResetPassword(f.ctx, second, "new password")
	require.NoError(t, err)
}

func testForgedTokens(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter)
	id := f.user("fay", "fay@example.com")
	verify := f.verifyToken(id, "fay@example.com")
	for name, token := range map[string]string{
		"well-formed but unknown": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"empty":                   "",
		"padded":                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"short":                   "AAAA",
		"not base64url":           "+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"a verification token":    verify,
	} {
		_, err := f.flow.ResetPassword(f.ctx, token, "attacker's password")
		require.ErrorIs(t, err, recovery.ErrInvalidToken, name)
		require.ErrorIs(t, f.flow.CheckResetToken(f.ctx, token), recovery.ErrInvalidToken, name)
	}
	require.NoError(t, f.logIn("fay", "old password"))
	_, _, err := f.flow.VerifyEmail(f.ctx, verify)
	require.NoError(t, err, "the verification token was not used up by the reset attempts")
}

// testSameAnswerForUnknownAddress: a known and an unknown address get the
// same answer; only the known one gets mail.
func testSameAnswerForUnknownAddress(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter)
	f.user("gil", "gil@example.com")
	require.NoError(t, f.forgot("gil@example.com", "192.0.2.1"))
	require.NoError(t, f.forgot("nobody@example.com", "192.0.2.1"))
	assert.Len(t, f.mailTo("gil@example.com"), 1)
	assert.Empty(t, f.mailTo("nobody@example.com"))

	var input *auth.InputError
	require.ErrorAs(t, f.forgot("not an address", "192.0.2.1"), &input)
	require.ErrorAs(t, f.forgot("Gil <gil@example.com>", "192.0.2.1"), &input)
}

func requireThrottled(t *testing.T, err error, msg string) {
	t.Helper()
	var limit *auth.LimitError
	require.ErrorAs(t, err, &limit, msg)
	require.ErrorIs(t, err, auth.ErrThrottled, msg)
	assert.Greater(t, limit.RetryAfter, time.Duration(0))
}

func testThrottledPerAddress(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter, func(c *recovery.Config) {
		c.AddressThrottle = auth.ThrottlePolicy{FreeFailures: 2, MaxDelay: time.Minute}
	})
	f.user("hal", "hal@example.com")
	for _, address := range []string{"hal@example.com", "nobody@example.com"} {
		for i := range 2 {
			require.NoError(t, f.forgot(address, "192.0.2."+string(rune('1'+i))))
		}
		requireThrottled(t, f.forgot(address, "192.0.2.9"), address+" from another client")
	}
	assert.Len(t, f.mailTo("hal@example.com"), 2, "nothing sent once throttled")
	require.NoError(t, f.forgot("other@example.com", "192.0.2.1"), "other addresses go on")
	f.clock.Advance(time.Minute)
	require.NoError(t, f.forgot("hal@example.com", "192.0.2.1"), "the record heals")
}

func testThrottledPerClient(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter, func(c *recovery.Config) {
		c.ClientThrottle = auth.ThrottlePolicy{FreeFailures: 2, MaxDelay: time.Minute}
	})
	f.user("ivy", "ivy@example.com")
	require.NoError(t, f.forgot("a@example.com", "192.0.2.1"))
	require.NoError(t, f.forgot("b@example.com", "192.0.2.1"))
	requireThrottled(t, f.forgot("ivy@example.com", "192.0.2.1"), "third address from one client")
	assert.Empty(t, f.mailTo("ivy@example.com"))
	require.NoError(t, f.forgot("ivy@example.com", "198.51.100.7"), "another client")
	assert.Len(t, f.mailTo("ivy@example.com"), 1)
}

func testUnusablePasswordKeepsToken(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter)
	f.user("jan", "jan@example.com")
	token := f.resetToken("jan@example.com")
	var input *auth.InputError
	for _, bad := range []string{"", "nul\x00inside", "bad \xff utf-8"} {
		_, err := f.flow.ResetPassword(f.ctx, token, bad)
		require.ErrorAs(t, err, &input, "%q", bad)
	}
	_, err := f.flow.ResetPassword(f.ctx, token, "a good password")
	require.NoError(t, err, "refused passwords did not use the token up")
}

func testDeletedUser(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter)
	id := f.user("kim", "kim@example.com")
	token := f.resetToken("kim@example.com")
	require.NoError(t, f.a.DeleteUser(f.ctx, id))
	_, err := f.flow.ResetPassword(f.ctx, token, "new password")
	require.ErrorIs(t, err, recovery.ErrInvalidToken)
}

func testNoPasswordKey(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter)
	u, err := f.a.CreateUser(f.ctx, profile{}, &auth.KeyParams{ProviderID: "oidc", ProviderUserID: "sub-lee"})
	require.NoError(t, err)
	_, err = f.a.CreateKey(f.ctx, u.ID, auth.KeyParams{ProviderID: "email", ProviderUserID: "lee@example.com"})
	require.NoError(t, err)
	token := f.resetToken("lee@example.com")
	_, err = f.flow.ResetPassword(f.ctx, token, "new password")
	require.ErrorIs(t, err, recovery.ErrNoPasswordKey)
}

func testVerification(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter)
	id := f.user("max", "max@example.com")
	address, verified, err := f.flow.Address(f.ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "max@example.com", address)
	assert.False(t, verified)

	sentTo, err := f.flow.SendVerification(f.ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "max@example.com", sentTo)
	token := f.token("max@example.com", recovery.PurposeVerify)
	userID, address, err := f.flow.VerifyEmail(f.ctx, token)
	require.NoError(t, err)
	assert.Equal(t, id, userID)
	assert.Equal(t, "max@example.com", address)
	_, verified, err = f.flow.Address(f.ctx, id)
	require.NoError(t, err)
	assert.True(t, verified)
	rec, err := adapter.GetUser(f.ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "max@example.com", rec.Attributes["email_verified"])

	_, _, err = f.flow.VerifyEmail(f.ctx, token)
	require.ErrorIs(t, err, recovery.ErrInvalidToken, "used twice")
	_, err = f.flow.ResetPassword(f.ctx, token, "attacker's password")
	require.ErrorIs(t, err, recovery.ErrInvalidToken, "a verification token is no reset token")

	u, err := f.a.CreateUser(f.ctx, profile{Username: "nan"}, nil)
	require.NoError(t, err)
	_, err = f.flow.SendVerification(f.ctx, u.ID)
	require.ErrorIs(t, err, recovery.ErrNoAddress)
}

// testVerificationAfterAddressChange: a link sent to an address the user
// has given up does not verify the one they have now.
func testVerificationAfterAddressChange(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter)
	id := f.user("ned", "ned@example.com")
	token := f.verifyToken(id, "ned@example.com")
	require.NoError(t, f.a.DeleteKey(f.ctx, "email", "ned@example.com"))
	_, err := f.a.CreateKey(f.ctx, id, auth.KeyParams{ProviderID: "email", ProviderUserID: "someone-else@example.com"})
	require.NoError(t, err)
	_, _, err = f.flow.VerifyEmail(f.ctx, token)
	require.ErrorIs(t, err, recovery.ErrInvalidToken)
	_, verified, err := f.flow.Address(f.ctx, id)
	require.NoError(t, err)
	assert.False(t, verified)
}

func testVerificationExpired(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter)
	id := f.user("oli", "oli@example.com")
	token := f.verifyToken(id, "oli@example.com")
	f.clock.Advance(24 * time.Hour)
	_, _, err := f.flow.VerifyEmail(f.ctx, token)
	require.ErrorIs(t, err, recovery.ErrExpiredToken)
	_, _, err = f.flow.VerifyEmail(f.ctx, token)
	require.ErrorIs(t, err, recovery.ErrInvalidToken)
}

// holdClock watches the flow's hold: each call's first reading of the
// clock is its start, and the wait it asks for ends it.
type holdClock struct {
	mu          sync.Mutex
	first, last time.Time
	slept       time.Duration
}

func (c *holdClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := time.Now()
	if c.first.IsZero() {
		c.first = t
	}
	c.last = t
	return t
}

func (c *holdClock) sleep(_ context.Context, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept += d
}

// took is how long the watched call took, waiting included.
func (c *holdClock) took() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last.Add(c.slept).Sub(c.first)
}

// testSameTimeForUnknownAddress: every answer, known address, unknown
// address or throttled, ends at the same time after its start: the
// configured floor (here above the core's failed-login floor, which is
// zero before any login).
func testSameTimeForUnknownAddress(t *testing.T, adapter auth.Adapter) {
	const floor = 2 * time.Second // far above the work, even under the race detector
	f := newFixture(t, adapter, func(c *recovery.Config) {
		c.MinResponseTime = floor
		c.AddressThrottle = auth.ThrottlePolicy{FreeFailures: 1, MaxDelay: time.Minute}
	})
	f.user("pam", "pam@example.com")
	for _, tc := range []struct{ name, address string }{
		{"known", "pam@example.com"},
		{"unknown", "nobody@example.com"},
		{"known, throttled", "pam@example.com"},
		{"unknown, throttled", "nobody@example.com"},
	} {
		c := &holdClock{}
		recovery.SetClock(f.flow, c.now, c.sleep)
		err := f.forgot(tc.address, "192.0.2.1")
		if strings.HasSuffix(tc.name, "throttled") {
			require.ErrorIs(t, err, auth.ErrThrottled, tc.name)
		} else {
			require.NoError(t, err, tc.name)
		}
		assert.Equal(t, floor, c.took(), tc.name)
	}
	assert.Len(t, f.mailTo("pam@example.com"), 1)
}

// testVerificationThrottled: confirmation links to one address are
// throttled, in records apart from the reset's.
func testVerificationThrottled(t *testing.T, adapter auth.Adapter) {
	f := newFixture(t, adapter, func(c *recovery.Config) {
		c.AddressThrottle = auth.ThrottlePolicy{FreeFailures: 2, MaxDelay: time.Minute}
	})
	id := f.user("rex", "rex@example.com")
	for range 2 {
		_, err := f.flow.SendVerification(f.ctx, id)
		require.NoError(t, err)
	}
	_, err := f.flow.SendVerification(f.ctx, id)
	requireThrottled(t, err, "third link")
	assert.Len(t, f.mailTo("rex@example.com"), 2)
	require.NoError(t, f.forgot("rex@example.com", "192.0.2.1"), "the reset's records are apart")
}
