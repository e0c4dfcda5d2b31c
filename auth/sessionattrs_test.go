package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// device is a session attribute type, as an application writes one.
type device struct {
	Browser  string    `auth:"browser"`
	Created  time.Time `auth:"created_at"`
	LastSeen time.Time `auth:"last_seen,omitempty"`
	Logins   int       `auth:"logins,omitempty"`
}

// lastSeen configures the last-seen attribute of device, every 10 minutes.
func lastSeen(c *auth.Config) {
	c.LastSeenAttribute = "last_seen"
	c.LastSeenInterval = 10 * time.Minute
}

// storedSession reads the session straight from the adapter.
func (e *env) storedSession(id string) auth.SessionRecord {
	e.t.Helper()
	rec, err := e.a.Adapter().GetSession(e.ctx, id)
	require.NoError(e.t, err)
	return rec
}

// deviceOf decodes a session's attributes as device.
func deviceOf(t *testing.T, s auth.Session) device {
	t.Helper()
	d, err := auth.SessionAttributes[device](s)
	require.NoError(t, err)
	return d
}

// TestSessionAttributes: typed session attributes go in with
// CreateSessionWithAttributes and come back, typed, from every read.
func TestSessionAttributes(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.newAdapter(t), nil)
		u := e.user("ann", "pw")
		created := e.clock.Now()
		want := device{Browser: "Firefox on Linux", Created: created}
		s, err := e.a.CreateSessionWithAttributes(e.ctx, u.ID, want)
		require.NoError(t, err)
		assert.Equal(t, want, deviceOf(t, s), "returned")
		assert.Equal(t, map[string]any{"browser": "Firefox on Linux", "created_at": created}, e.storedSession(s.ID).Attributes, "stored, omitempty fields left out")

		got, err := e.a.ValidateSession(e.ctx, s.Token)
		require.NoError(t, err)
		assert.Equal(t, want, deviceOf(t, got), "ValidateSession")
		got, _, err = e.a.ValidateSessionUser(e.ctx, s.Token)
		require.NoError(t, err)
		assert.Equal(t, want, deviceOf(t, got), "ValidateSessionUser")
		all, err := e.a.UserSessions(e.ctx, u.ID)
		require.NoError(t, err)
		require.Len(t, all, 1)
		assert.Equal(t, want, deviceOf(t, all[0]), "UserSessions")

		raw, err := auth.SessionAttributes[map[string]any](got)
		require.NoError(t, err)
		raw["browser"] = "changed"
		assert.Equal(t, want, deviceOf(t, got), "the raw map is a copy")

		plain := e.session(u.ID)
		assert.Nil(t, plain.Attributes, "CreateSession stores none")
		assert.Nil(t, e.storedSession(plain.ID).Attributes)
		assert.Equal(t, device{}, deviceOf(t, plain))
	})
}

func TestSessionAttributesRefused(t *testing.T) {
	type reserved struct {
		User string `auth:"user_id"`
	}
	type badValue struct {
		C chan int `auth:"c"`
	}
	e := newEnv(t, newMemoryAdapter(), nil)
	u := e.user("ann", "pw")
	for name, attrs := range map[string]any{
		"reserved field name":    reserved{User: "x"},
		"reserved map key":       map[string]any{"idle_expires": int64(1)},
		"dotted map key":         map[string]any{"a.b": 1},
		"unsupported type":       badValue{},
		"neither struct nor map": 42,
	} {
		before := e.counter.count()
		_, err := e.a.CreateSessionWithAttributes(e.ctx, u.ID, attrs)
		var ie *auth.InputError
		require.ErrorAs(t, err, &ie, name)
		assert.Equal(t, before, e.counter.count(), "%s: refused before any adapter call", name)
	}
	sessions, err := e.a.UserSessions(e.ctx, u.ID)
	require.NoError(t, err)
	assert.Empty(t, sessions)

	for _, v := range []any{nil, (*device)(nil), map[string]any{}} {
		s, err := e.a.CreateSessionWithAttributes(e.ctx, u.ID, v)
		require.NoError(t, err, "%#v", v)
		assert.Nil(t, e.storedSession(s.ID).Attributes, "%#v: no attributes", v)
	}
	_, err = auth.SessionAttributes[int](auth.Session{})
	require.Error(t, err, "an attribute type that is neither a struct nor a map")
}

// TestRenewalKeepsSessionAttributes: an idle session keeps its attributes
// when renewed, in place and (without auth.SessionUpdater) as a new
// session.
func TestRenewalKeepsSessionAttributes(t *testing.T) {
	for _, b := range []backend{memoryBackends[0], {"WithoutSessionUpdater", func(*testing.T) auth.Adapter { return withoutGetter{newMemoryAdapter()} }}} {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.newAdapter(t), nil)
			u := e.user("ann", "pw")
			want := device{Browser: "Safari on iOS", Created: e.clock.Now(), Logins: 3}
			s, err := e.a.CreateSessionWithAttributes(e.ctx, u.ID, want)
			require.NoError(t, err)
			e.clock.Advance(25 * time.Hour) // idle
			renewed, err := e.a.ValidateSession(e.ctx, s.Token)
			require.NoError(t, err)
			require.True(t, renewed.Fresh)
			assert.Equal(t, b.name != "WithoutSessionUpdater", renewed.ID == s.ID, "in place only with SessionUpdater")
			assert.Equal(t, want, deviceOf(t, renewed), "returned")
			assert.Equal(t, e.storedSession(s.ID).Attributes, e.storedSession(renewed.ID).Attributes, "stored")
		})
	}
}

// TestLastSeen: a validation writes the last-seen attribute only when it
// is due, in the same write as a renewal; otherwise validation costs what
// it costs without the attribute.
func TestLastSeen(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		adapter := b.newAdapter(t)
		if _, ok := adapter.(auth.SessionUpdater); !ok {
			t.Skip("needs auth.SessionUpdater; Config.LastSeenAttribute documents it")
		}
		plain := newEnv(t, b.newAdapter(t), nil)
		e := newEnv(t, adapter, lastSeen)
		u, pu := e.user("ann", "pw"), plain.user("ann", "pw")
		s, ps := e.session(u.ID), plain.session(pu.ID)
		start := e.clock.Now()
		assert.Equal(t, map[string]any{"last_seen": start}, s.Attributes, "set at creation")
		assert.Equal(t, s.Attributes, e.storedSession(s.ID).Attributes)

		// validate runs both validations and returns the adapter calls of
		// the one with the attribute beyond those of the one without.
		validate := func(advance time.Duration) (auth.Session, int64) {
			t.Helper()
			e.clock.Advance(advance)
			plain.clock.Advance(advance)
			before, plainBefore := e.counter.count(), plain.counter.count()
			got, _, err := e.a.ValidateSessionUser(e.ctx, s.Token)
			require.NoError(t, err)
			_, _, err = plain.a.ValidateSessionUser(plain.ctx, ps.Token)
			require.NoError(t, err)
			return got, (e.counter.count() - before) - (plain.counter.count() - plainBefore)
		}
		got, extra := validate(9 * time.Minute)
		assert.Zero(t, extra, "not due: no write")
		assert.Equal(t, start, got.Attributes["last_seen"])

		got, extra = validate(time.Minute)
		assert.Equal(t, int64(1), extra, "due: one write")
		now := e.clock.Now()
		assert.Equal(t, now, got.Attributes["last_seen"], "returned")
		assert.Equal(t, map[string]any{"last_seen": now}, e.storedSession(s.ID).Attributes, "stored")

		_, extra = validate(time.Second)
		assert.Zero(t, extra, "written a second ago: not due")

		got, extra = validate(24 * time.Hour) // idle, and due
		assert.Zero(t, extra, "the renewal's write carries it")
		require.True(t, got.Fresh)
		assert.Equal(t, e.clock.Now(), got.Attributes["last_seen"])
		stored := e.storedSession(s.ID)
		assert.Equal(t, map[string]any{"last_seen": e.clock.Now()}, stored.Attributes)
		assert.Equal(t, e.clock.Now().Add(24*time.Hour).UnixMilli(), stored.ActiveExpires, "renewed in the same write")

		for _, given := range []any{nil, time.Time{}} {
			withZero, err := e.a.CreateSessionWithAttributes(e.ctx, u.ID, map[string]any{"last_seen": given})
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"last_seen": e.clock.Now()}, e.storedSession(withZero.ID).Attributes, "%#v given: set at creation", given)
		}

		_, err := e.a.GetSession(e.ctx, s.Token)
		require.NoError(t, err)
		e.clock.Advance(time.Hour)
		_, err = e.a.GetSession(e.ctx, s.Token)
		require.NoError(t, err)
		assert.Equal(t, stored.Attributes, e.storedSession(s.ID).Attributes, "GetSession never writes")
	})
}

// TestLastSeenWithoutSessionUpdater: an adapter that cannot update
// sessions gets the attribute at creation and at renewal, never another
// write.
func TestLastSeenWithoutSessionUpdater(t *testing.T) {
	e := newEnv(t, withoutGetter{newMemoryAdapter()}, lastSeen)
	u := e.user("ann", "pw")
	s := e.session(u.ID)
	e.clock.Advance(time.Hour)
	before := e.counter.count()
	got, err := e.a.ValidateSession(e.ctx, s.Token)
	require.NoError(t, err)
	assert.Equal(t, int64(2), e.counter.count()-before, "the session and its user read, no write")
	assert.Equal(t, s.Attributes, got.Attributes)
	e.clock.Advance(24 * time.Hour)
	renewed, err := e.a.ValidateSession(e.ctx, s.Token)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"last_seen": e.clock.Now()}, e.storedSession(renewed.ID).Attributes)
}

func TestUpdateSessionAttributes(t *testing.T) {
	e := newEnv(t, newMemoryAdapter(), nil)
	u := e.user("ann", "pw")
	created := e.clock.Now()
	s, err := e.a.CreateSessionWithAttributes(e.ctx, u.ID, device{Browser: "Firefox", Created: created})
	require.NoError(t, err)

	before := e.counter.count()
	require.NoError(t, e.a.UpdateSessionAttributes(e.ctx, s.ID, map[string]any{"logins": 2}))
	assert.Equal(t, int64(1), e.counter.count()-before, "one adapter write")
	assert.Equal(t, map[string]any{"browser": "Firefox", "created_at": created, "logins": int64(2)}, e.storedSession(s.ID).Attributes, "set one, kept the others")
	require.NoError(t, e.a.UpdateSessionAttributes(e.ctx, s.ID, struct {
		Browser string `auth:"browser"`
	}{"Chrome"}))
	assert.Equal(t, "Chrome", e.storedSession(s.ID).Attributes["browser"])

	before = e.counter.count()
	require.ErrorIs(t, e.a.UpdateSessionAttributes(e.ctx, "malformed", map[string]any{"logins": 3}), auth.ErrInvalidSessionID)
	assert.Equal(t, before, e.counter.count(), "a malformed id costs no call")
	require.ErrorIs(t, e.a.UpdateSessionAttributes(e.ctx, auth.RandomID(auth.SessionIDLength), map[string]any{"logins": 3}), auth.ErrInvalidSessionID)
	var ie *auth.InputError
	require.ErrorAs(t, e.a.UpdateSessionAttributes(e.ctx, s.ID, map[string]any{"user_id": "x"}), &ie)

	without := newEnv(t, withoutGetter{newMemoryAdapter()}, nil)
	wu := without.user("ann", "pw")
	ws := without.session(wu.ID)
	require.ErrorIs(t, without.a.UpdateSessionAttributes(without.ctx, ws.ID, map[string]any{"logins": 3}), errors.ErrUnsupported)
}

// TestLoginFillsSessionAttributes: LogIn and StartSession store what
// Config.SessionAttributes makes of the request, and nothing without it.
func TestLoginFillsSessionAttributes(t *testing.T) {
	fromRequest := func(c *auth.Config) {
		c.SessionAttributes = func(r *http.Request) any {
			return device{Browser: r.UserAgent(), Created: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
		}
	}
	post := func(userAgent string) *http.Request {
		r := request(http.MethodPost, "", "https://"+testHost)
		r.Header.Set("User-Agent", userAgent)
		return r
	}
	e := newEnv(t, newMemoryAdapter(), fromRequest)
	u := e.user("ann", "pw")
	s, err := e.a.LogIn(httptest.NewRecorder(), post("Firefox"), "username", "ann", "pw")
	require.NoError(t, err)
	assert.Equal(t, "Firefox", deviceOf(t, s).Browser)
	assert.Equal(t, "Firefox", e.storedSession(s.ID).Attributes["browser"])
	s, err = e.a.StartSession(httptest.NewRecorder(), post("Safari"), u.ID)
	require.NoError(t, err)
	assert.Equal(t, "Safari", e.storedSession(s.ID).Attributes["browser"])

	plain := newEnv(t, newMemoryAdapter(), nil)
	plain.user("ann", "pw")
	s, err = plain.a.LogIn(httptest.NewRecorder(), post("Firefox"), "username", "ann", "pw")
	require.NoError(t, err)
	assert.Nil(t, plain.storedSession(s.ID).Attributes, "nothing about the request is stored unless the app asks")

	bad := newEnv(t, newMemoryAdapter(), func(c *auth.Config) {
		c.SessionAttributes = func(*http.Request) any { return map[string]any{"$where": 1} }
	})
	bu := bad.user("ann", "pw")
	old := bad.session(bu.ID)
	_, err = bad.a.LogIn(httptest.NewRecorder(), request(http.MethodPost, old.Token, "https://"+testHost), "username", "ann", "pw")
	var ie *auth.InputError
	require.ErrorAs(t, err, &ie)
	_, err = bad.a.GetSession(bad.ctx, old.Token)
	require.NoError(t, err, "refused before the request's session was ended")
}

func TestSessionAttributeConfig(t *testing.T) {
	for name, config := range map[string]auth.Config{
		"reserved last seen":  {LastSeenAttribute: "idle_expires"},
		"malformed last seen": {LastSeenAttribute: "a.b"},
		"negative interval":   {LastSeenAttribute: "seen", LastSeenInterval: -time.Second},
	} {
		_, err := auth.New[profile](newMemoryAdapter(), config)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "auth: ", name)
	}
}
