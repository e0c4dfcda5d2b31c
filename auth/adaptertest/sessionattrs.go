package adaptertest

import (
	"maps"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// Tests of session attributes (auth.SessionRecord.Attributes): round
// trips through every read, updates that set some and keep the others,
// the names no adapter may take, and sessions without any.

// sampleSessionAttributes hold one value of each type the contract
// allows, as adapters read them back. The time has whole milliseconds,
// which every store keeps.
func sampleSessionAttributes() map[string]any {
	return map[string]any{
		"browser":    "Firefox",
		"os":         "Linux",
		"created_at": time.Date(2024, 5, 1, 12, 0, 0, 123_000_000, time.UTC),
		"logins":     int64(3),
		"trusted":    true,
		"score":      0.5,
		"note":       nil,
		"tags":       []any{"a", int64(1)},
		"place":      map[string]any{"city": "Oslo"},
		"digest":     []byte{1, 2, 3},
	}
}

// sessionWith stores a session of the user with attributes, issued now
// (so that every read checks IssuedAt too).
func (f *fixture) sessionWith(userID string, attributes map[string]any) auth.SessionRecord {
	f.t.Helper()
	now := time.Now().UnixMilli()
	s := auth.SessionRecord{ID: id("session"), UserID: userID, ActiveExpires: now + 3_600_000, IdleExpires: now + 7_200_000, IssuedAt: now, Attributes: attributes}
	require.NoError(f.t, f.a.SetSession(f.ctx, s))
	return s
}

// requireSessionAttributes skips the test when the store has no place for
// session attributes.
func (f *fixture) requireSessionAttributes() {
	if f.opts.NoSessionAttributes {
		f.t.Skip("the store has no place for session attributes (Options.NoSessionAttributes); RefusedWithoutPlace covers it")
	}
}

// requireSession asserts the stored session.
func (f *fixture) requireSession(want auth.SessionRecord, msgAndArgs ...any) {
	f.t.Helper()
	got, err := f.a.GetSession(f.ctx, want.ID)
	require.NoError(f.t, err)
	require.Equal(f.t, want, got, msgAndArgs...)
}

// requireInputError asserts that err is an *auth.InputError, which
// matches auth.ErrInvalidInput.
func (f *fixture) requireInputError(err error, msgAndArgs ...any) {
	f.t.Helper()
	require.ErrorIs(f.t, err, auth.ErrInvalidInput, msgAndArgs...)
	var ie *auth.InputError
	require.ErrorAs(f.t, err, &ie, msgAndArgs...)
}

// badSessionAttributes are the attribute maps every adapter must refuse
// for sessions: those refused for users, and the session's own fields.
func badSessionAttributes() map[string]map[string]any {
	bad := maps.Clone(badAttributes)
	for _, name := range []string{"user_id", "active_expires", "idle_expires", "issued_at", "expires_at", "__user"} {
		bad[name] = map[string]any{name: int64(1)}
	}
	return bad
}

var sessionAttributeTests = []test{
	{"RoundTrip", func(f *fixture) {
		f.requireSessionAttributes()
		u := f.user(sampleAttributes)
		s := f.sessionWith(u.ID, sampleSessionAttributes())
		plain := f.session(u.ID)
		f.requireSession(s)
		all, err := f.a.GetSessionsByUserID(f.ctx, u.ID)
		require.NoError(f.t, err)
		assert.ElementsMatch(f.t, []auth.SessionRecord{s, plain}, all)
		if g, ok := f.a.(auth.SessionAndUserGetter); ok {
			gotS, gotU, err := g.GetSessionAndUser(f.ctx, s.ID)
			require.NoError(f.t, err)
			assert.Equal(f.t, s, gotS)
			f.assertUser(u, gotU)
		}
	}},
	{"NoneReadNil", func(f *fixture) {
		// Sessions without attributes, like those Lucia v1 writes, read
		// back with none: nil, never an empty map or an error.
		u := f.user(nil)
		for _, attrs := range []map[string]any{nil, {}} {
			s := f.sessionWith(u.ID, attrs)
			got, err := f.a.GetSession(f.ctx, s.ID)
			require.NoError(f.t, err)
			assert.Nil(f.t, got.Attributes, "stored with %#v", attrs)
		}
	}},
	{"BadNames", func(f *fixture) {
		u := f.user(nil)
		for reason, attrs := range badSessionAttributes() {
			s := auth.SessionRecord{ID: id("session"), UserID: u.ID, ActiveExpires: 1, IdleExpires: 2, Attributes: attrs}
			f.requireInputError(f.a.SetSession(f.ctx, s), reason)
			_, err := f.a.GetSession(f.ctx, s.ID)
			require.ErrorIs(f.t, err, auth.ErrNotFound, "%s: nothing may be stored", reason)
		}
	}},
	{"UpdateSetsAndKeeps", func(f *fixture) {
		f.requireSessionAttributes()
		up := f.updater()
		u := f.user(nil)
		s := f.sessionWith(u.ID, map[string]any{"browser": "Firefox", "last_seen": time.UnixMilli(1_700_000_000_000).UTC()})
		other := f.sessionWith(u.ID, map[string]any{"browser": "Safari"})
		seen := time.UnixMilli(1_700_000_360_000).UTC()
		require.NoError(f.t, up.UpdateSession(f.ctx, s.ID, auth.SessionUpdate{Attributes: map[string]any{"last_seen": seen, "trusted": true}}))
		s.Attributes = map[string]any{"browser": "Firefox", "last_seen": seen, "trusted": true}
		f.requireSession(s, "set the given names, keep the rest and the expiry times")
		f.requireSession(other, "another session is untouched")
	}},
	{"UpdateExpiriesKeepsAttributes", func(f *fixture) {
		f.requireSessionAttributes()
		up := f.updater()
		s := f.sessionWith(f.user(nil).ID, sampleSessionAttributes())
		s.ActiveExpires, s.IdleExpires = s.ActiveExpires+1000, s.IdleExpires+2000
		require.NoError(f.t, up.UpdateSession(f.ctx, s.ID, auth.SessionUpdate{ActiveExpires: s.ActiveExpires, IdleExpires: s.IdleExpires}))
		f.requireSession(s, "a renewal keeps the attributes")
	}},
	{"UpdateExpiriesAndAttributesTogether", func(f *fixture) {
		f.requireSessionAttributes()
		up := f.updater()
		s := f.sessionWith(f.user(nil).ID, map[string]any{"browser": "Firefox"})
		s.ActiveExpires, s.IdleExpires = s.ActiveExpires+1000, s.IdleExpires+2000
		require.NoError(f.t, up.UpdateSession(f.ctx, s.ID, auth.SessionUpdate{
			ActiveExpires: s.ActiveExpires, IdleExpires: s.IdleExpires, Attributes: map[string]any{"browser": "Chrome", "logins": int64(2)},
		}))
		s.Attributes = map[string]any{"browser": "Chrome", "logins": int64(2)}
		f.requireSession(s)
	}},
	{"UpdateAddsToSessionWithout", func(f *fixture) {
		f.requireSessionAttributes()
		up := f.updater()
		s := f.session(f.user(nil).ID)
		require.NoError(f.t, up.UpdateSession(f.ctx, s.ID, auth.SessionUpdate{Attributes: map[string]any{"browser": "Edge"}}))
		s.Attributes = map[string]any{"browser": "Edge"}
		f.requireSession(s)
	}},
	{"UpdateMissingIsNotFound", func(f *fixture) {
		f.requireSessionAttributes()
		up := f.updater()
		missing := id("session")
		require.ErrorIs(f.t, up.UpdateSession(f.ctx, missing, auth.SessionUpdate{Attributes: map[string]any{"browser": "Edge"}}), auth.ErrNotFound)
		_, err := f.a.GetSession(f.ctx, missing)
		require.ErrorIs(f.t, err, auth.ErrNotFound, "an update never creates a session")
	}},
	{"UpdateBadNamesChangeNothing", func(f *fixture) {
		up := f.updater()
		var attrs map[string]any
		if !f.opts.NoSessionAttributes {
			attrs = map[string]any{"browser": "Firefox"}
		}
		s := f.sessionWith(f.user(nil).ID, attrs)
		for reason, bad := range badSessionAttributes() {
			err := up.UpdateSession(f.ctx, s.ID, auth.SessionUpdate{ActiveExpires: 1, IdleExpires: 2, Attributes: bad})
			require.ErrorIs(f.t, err, auth.ErrInvalidInput, reason)
		}
		f.requireSession(s, "a refused update changes nothing, expiry times included")
	}},
	{"RefusedWithoutPlace", func(f *fixture) {
		if !f.opts.NoSessionAttributes {
			f.t.Skip("the store keeps session attributes; RoundTrip covers it")
		}
		u := f.user(nil)
		s := auth.SessionRecord{ID: id("session"), UserID: u.ID, ActiveExpires: 1, IdleExpires: 2, Attributes: map[string]any{"browser": "Firefox"}}
		f.requireInputError(f.a.SetSession(f.ctx, s))
		_, err := f.a.GetSession(f.ctx, s.ID)
		require.ErrorIs(f.t, err, auth.ErrNotFound, "nothing may be stored")

		plain := f.session(u.ID)
		if up, ok := f.a.(auth.SessionUpdater); ok {
			err := up.UpdateSession(f.ctx, plain.ID, auth.SessionUpdate{IdleExpires: plain.IdleExpires + 5, Attributes: map[string]any{"browser": "Firefox"}})
			require.ErrorIs(f.t, err, auth.ErrInvalidInput)
			f.requireSession(plain, "a refused update changes nothing, expiry times included")
		}
	}},
}
