package adaptertest

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// Tests of the optional interfaces that change records in place:
// auth.KeyPasswordReplacer, auth.SessionUpdater and
// auth.ExpiredSessionDeleter. Each test skips when the adapter does not
// implement its interface.

// raceRounds is how often the race tests repeat their race: each round is
// a fresh record, so a window that one round misses another may hit.
const raceRounds = 15

// replacer returns the adapter's KeyPasswordReplacer or skips the test,
// also when the adapter declares the swap unsupported on its database.
func (f *fixture) replacer() auth.KeyPasswordReplacer {
	r := f.replacerInterface()
	probe := f.key(f.user(nil).ID, false, ptr("probe-old"), nil)
	if err := r.ReplaceKeyPassword(f.ctx, probe.ID, "probe-old", "probe-new"); errors.Is(err, errors.ErrUnsupported) {
		f.t.Skipf("ReplaceKeyPassword is unsupported on this database: %v", err)
	} else {
		require.NoError(f.t, err, "ReplaceKeyPassword on a fresh key")
	}
	return r
}

// replacerInterface returns the adapter's KeyPasswordReplacer, supported
// on its database or not, or skips the test.
func (f *fixture) replacerInterface() auth.KeyPasswordReplacer {
	r, ok := f.a.(auth.KeyPasswordReplacer)
	if !ok {
		f.t.Skip("adapter does not implement auth.KeyPasswordReplacer (optional)")
	}
	return r
}

// requireHash asserts the key's stored hash (nil for none).
func (f *fixture) requireHash(keyID string, want *string, msgAndArgs ...any) {
	f.t.Helper()
	got, err := f.a.GetKey(f.ctx, keyID)
	require.NoError(f.t, err)
	require.Equal(f.t, want, got.HashedPassword, msgAndArgs...)
}

var keyPasswordReplacerTests = []test{
	{"ReplacesTheExpectedHash", func(f *fixture) {
		r := f.replacer()
		u := f.user(nil)
		k := f.key(u.ID, true, ptr("old-hash"), nil)
		single := f.key(u.ID, false, ptr("old-hash"), ptr(int64(1<<53+1)))
		require.NoError(f.t, r.ReplaceKeyPassword(f.ctx, k.ID, "old-hash", "new-hash"))
		got, err := f.a.GetKey(f.ctx, k.ID)
		require.NoError(f.t, err)
		k.HashedPassword = ptr("new-hash")
		assert.Equal(f.t, k, got, "only the hash changes")

		require.NoError(f.t, r.ReplaceKeyPassword(f.ctx, single.ID, "old-hash", "other-hash"))
		got, err = f.a.GetKey(f.ctx, single.ID)
		require.NoError(f.t, err)
		single.HashedPassword = ptr("other-hash")
		assert.Equal(f.t, single, got, "a single-use key keeps its expiry")
	}},
	{"SameHashIsReplaced", func(f *fixture) {
		// MySQL counts a row whose values do not change as unaffected; the
		// call must still report success.
		r := f.replacer()
		k := f.key(f.user(nil).ID, false, ptr("same"), nil)
		require.NoError(f.t, r.ReplaceKeyPassword(f.ctx, k.ID, "same", "same"))
		f.requireHash(k.ID, ptr("same"))
	}},
	{"OtherHashIsNotFound", func(f *fixture) {
		r := f.replacer()
		k := f.key(f.user(nil).ID, false, ptr("current"), nil)
		for _, stale := range []string{"stale", "curren", "current ", "CURRENT"} {
			require.ErrorIs(f.t, r.ReplaceKeyPassword(f.ctx, k.ID, stale, "new"), auth.ErrNotFound, "old hash %q", stale)
		}
		f.requireHash(k.ID, ptr("current"), "a failed swap writes nothing")
	}},
	{"NullHashIsNotFound", func(f *fixture) {
		r := f.replacer()
		k := f.key(f.user(nil).ID, false, nil, nil)
		require.ErrorIs(f.t, r.ReplaceKeyPassword(f.ctx, k.ID, "old", "new"), auth.ErrNotFound)
		f.requireHash(k.ID, nil, "a key without a password gets none")
	}},
	{"MissingIsNotFound", func(f *fixture) {
		r := f.replacer()
		require.ErrorIs(f.t, r.ReplaceKeyPassword(f.ctx, id("key"), "old", "new"), auth.ErrNotFound)
		u := f.user(nil)
		k := f.key(u.ID, false, ptr("old"), nil)
		require.NoError(f.t, f.a.DeleteUser(f.ctx, u.ID))
		require.ErrorIs(f.t, r.ReplaceKeyPassword(f.ctx, k.ID, "old", "new"), auth.ErrNotFound, "a deleted key")
		_, err := f.a.GetKey(f.ctx, k.ID)
		require.ErrorIs(f.t, err, auth.ErrNotFound, "a swap never creates a key")
	}},
	{"OnlyTarget", func(f *fixture) {
		r := f.replacer()
		u := f.user(nil)
		k, other := f.key(u.ID, false, ptr("h"), nil), f.key(u.ID, false, ptr("h"), nil)
		require.NoError(f.t, r.ReplaceKeyPassword(f.ctx, k.ID, "h", "h2"))
		f.requireHash(other.ID, ptr("h"))
	}},
	{"BadInput", func(f *fixture) {
		// Refused before anything else, on every database.
		r := f.replacerInterface()
		k := f.key(f.user(nil).ID, false, ptr("h"), nil)
		for name, args := range map[string][3]string{
			"empty key id":   {"", "h", "n"},
			"bad key id":     {"a\x00b", "h", "n"},
			"empty old hash": {k.ID, "", "n"},
			"empty new hash": {k.ID, "h", ""},
		} {
			err := r.ReplaceKeyPassword(f.ctx, args[0], args[1], args[2])
			require.ErrorIs(f.t, err, auth.ErrInvalidInput, name)
		}
		f.requireHash(k.ID, ptr("h"))
	}},
	{"ExactlyOneWinsUnderRace", func(f *fixture) {
		// Logins that verified the same hash race to store their upgrades:
		// exactly one may succeed, and its hash is the one stored.
		r := f.replacer()
		u := f.user(nil)
		for round := range raceRounds {
			k := f.key(u.ID, false, ptr("old"), nil)
			const racers = 8
			errs := make([]error, racers)
			var wg sync.WaitGroup
			for i := range racers {
				wg.Go(func() { errs[i] = r.ReplaceKeyPassword(f.ctx, k.ID, "old", fmt.Sprintf("new-%d", i)) })
			}
			wg.Wait()
			winner := -1
			for i, err := range errs {
				if err == nil {
					require.Equal(f.t, -1, winner, "round %d: racers %d and %d both replaced the hash", round, winner, i)
					winner = i
					continue
				}
				require.ErrorIs(f.t, err, auth.ErrNotFound, "round %d", round)
			}
			require.NotEqual(f.t, -1, winner, "round %d: nobody replaced the hash", round)
			f.requireHash(k.ID, ptr(fmt.Sprintf("new-%d", winner)), "round %d", round)
		}
	}},
	{"NeverUndoesUpdateKeyPassword", func(f *fixture) {
		// A password change races with a swap of the old hash. Whichever
		// runs first, the changed password must be what is stored after
		// both: the swap either ran before the change (and was
		// overwritten) or found the old hash gone.
		r := f.replacer()
		u := f.user(nil)
		for round := range raceRounds {
			k := f.key(u.ID, false, ptr("old"), nil)
			var wg sync.WaitGroup
			var swapErr, changeErr error
			wg.Go(func() { swapErr = r.ReplaceKeyPassword(f.ctx, k.ID, "old", "upgraded-old") })
			wg.Go(func() { _, changeErr = f.a.UpdateKeyPassword(f.ctx, k.ID, ptr("changed")) })
			wg.Wait()
			require.NoError(f.t, changeErr, "round %d", round)
			if swapErr != nil {
				require.ErrorIs(f.t, swapErr, auth.ErrNotFound, "round %d", round)
			}
			f.requireHash(k.ID, ptr("changed"), "round %d: the swap undid the password change", round)
		}
	}},
}

// updater returns the adapter's SessionUpdater or skips the test.
func (f *fixture) updater() auth.SessionUpdater {
	u, ok := f.a.(auth.SessionUpdater)
	if !ok {
		f.t.Skip("adapter does not implement auth.SessionUpdater (optional)")
	}
	return u
}

var sessionUpdaterTests = []test{
	{"UpdatesExpiries", func(f *fixture) {
		up := f.updater()
		s := f.session(f.user(nil).ID)
		want := s
		want.ActiveExpires, want.IdleExpires = s.ActiveExpires+1000, 1<<63-1
		require.NoError(f.t, up.UpdateSession(f.ctx, s.ID, auth.SessionUpdate{ActiveExpires: want.ActiveExpires, IdleExpires: want.IdleExpires}))
		f.requireSession(want)
		all, err := f.a.GetSessionsByUserID(f.ctx, s.UserID)
		require.NoError(f.t, err)
		assert.Equal(f.t, []auth.SessionRecord{want}, all, "updated in place: still one session")
	}},
	{"ZeroFieldsAreKept", func(f *fixture) {
		up := f.updater()
		s := f.session(f.user(nil).ID)
		require.NoError(f.t, up.UpdateSession(f.ctx, s.ID, auth.SessionUpdate{IdleExpires: s.IdleExpires + 5}))
		s.IdleExpires += 5
		f.requireSession(s)
		require.NoError(f.t, up.UpdateSession(f.ctx, s.ID, auth.SessionUpdate{ActiveExpires: s.ActiveExpires + 7}))
		s.ActiveExpires += 7
		f.requireSession(s)
		require.NoError(f.t, up.UpdateSession(f.ctx, s.ID, auth.SessionUpdate{}), "an empty update of an existing session")
		f.requireSession(s)
	}},
	{"SetsIssuedAt", func(f *fixture) {
		// The core stores the creation time of a session that has none.
		up := f.updater()
		u := f.user(nil)
		s := auth.SessionRecord{ID: id("session"), UserID: u.ID, ActiveExpires: time.Now().UnixMilli() + 1000, IdleExpires: time.Now().UnixMilli() + 2000}
		require.NoError(f.t, f.a.SetSession(f.ctx, s))
		s.IssuedAt = time.Now().UnixMilli()
		require.NoError(f.t, up.UpdateSession(f.ctx, s.ID, auth.SessionUpdate{IssuedAt: s.IssuedAt}))
		f.requireSession(s, "IssuedAt alone")
		require.NoError(f.t, up.UpdateSession(f.ctx, s.ID, auth.SessionUpdate{IdleExpires: s.IdleExpires + 1}))
		s.IdleExpires++
		f.requireSession(s, "a zero IssuedAt keeps it")
	}},
	{"SameValuesSucceed", func(f *fixture) {
		// MySQL counts a row whose values do not change as unaffected.
		up := f.updater()
		s := f.session(f.user(nil).ID)
		require.NoError(f.t, up.UpdateSession(f.ctx, s.ID, auth.SessionUpdate{ActiveExpires: s.ActiveExpires, IdleExpires: s.IdleExpires}))
	}},
	{"MissingIsNotFound", func(f *fixture) {
		up := f.updater()
		u := f.user(nil)
		missing := id("session")
		for _, update := range []auth.SessionUpdate{{ActiveExpires: 1, IdleExpires: 2}, {IdleExpires: 2}, {}} {
			require.ErrorIs(f.t, up.UpdateSession(f.ctx, missing, update), auth.ErrNotFound, "%+v", update)
		}
		_, err := f.a.GetSession(f.ctx, missing)
		require.ErrorIs(f.t, err, auth.ErrNotFound, "an update never creates a session")

		s := f.session(u.ID)
		require.NoError(f.t, f.a.DeleteSession(f.ctx, s.ID))
		require.ErrorIs(f.t, up.UpdateSession(f.ctx, s.ID, auth.SessionUpdate{ActiveExpires: 1, IdleExpires: 2}), auth.ErrNotFound)
		gone := f.session(u.ID)
		require.NoError(f.t, f.a.DeleteUser(f.ctx, u.ID))
		require.ErrorIs(f.t, up.UpdateSession(f.ctx, gone.ID, auth.SessionUpdate{ActiveExpires: 1, IdleExpires: 2}), auth.ErrNotFound)
		f.requireUserGone(u.ID)
	}},
	{"OnlyTarget", func(f *fixture) {
		up := f.updater()
		u := f.user(nil)
		s, other := f.session(u.ID), f.session(u.ID)
		require.NoError(f.t, up.UpdateSession(f.ctx, s.ID, auth.SessionUpdate{ActiveExpires: 1, IdleExpires: 2}))
		f.requireSession(other)
	}},
	{"BadIDs", func(f *fixture) {
		up := f.updater()
		for reason, bad := range badIDs {
			require.ErrorIs(f.t, up.UpdateSession(f.ctx, bad, auth.SessionUpdate{ActiveExpires: 1, IdleExpires: 2}), auth.ErrInvalidInput, reason)
		}
	}},
	{"ConcurrentUpdatesKeepOneSession", func(f *fixture) {
		// Concurrent renewals of one session: every one succeeds, one of
		// them is what is stored, and the session is still one record.
		up := f.updater()
		u := f.user(nil)
		s := f.session(u.ID)
		const racers = 10
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				update := auth.SessionUpdate{ActiveExpires: int64(1000 + i), IdleExpires: int64(2000 + i)}
				if err := up.UpdateSession(f.ctx, s.ID, update); err != nil {
					f.t.Errorf("UpdateSession: %v", err)
				}
			})
		}
		wg.Wait()
		all, err := f.a.GetSessionsByUserID(f.ctx, u.ID)
		require.NoError(f.t, err)
		require.Len(f.t, all, 1)
		got := all[0]
		assert.Equal(f.t, s.ID, got.ID)
		assert.GreaterOrEqual(f.t, got.ActiveExpires, int64(1000))
		assert.Equal(f.t, got.ActiveExpires+1000, got.IdleExpires, "both fields come from one update")
	}},
}

// expiredDeleter returns the adapter's ExpiredSessionDeleter or skips the
// test.
func (f *fixture) expiredDeleter() auth.ExpiredSessionDeleter {
	d, ok := f.a.(auth.ExpiredSessionDeleter)
	if !ok {
		f.t.Skip("adapter does not implement auth.ExpiredSessionDeleter (optional)")
	}
	return d
}

// sessionExpiring stores a session of the user whose idle expiry is
// idleExpires.
func (f *fixture) sessionExpiring(userID string, idleExpires int64) auth.SessionRecord {
	f.t.Helper()
	s := auth.SessionRecord{ID: id("session"), UserID: userID, ActiveExpires: idleExpires - 10, IdleExpires: idleExpires}
	require.NoError(f.t, f.a.SetSession(f.ctx, s))
	return s
}

var expiredSessionDeleterTests = []test{
	{"DeletesOnlyTheUsersDeadSessions", func(f *fixture) {
		d := f.expiredDeleter()
		const now = int64(1_700_000_000_000)
		u, other := f.user(nil), f.user(nil)
		f.sessionExpiring(u.ID, now-86_400_000)
		f.sessionExpiring(u.ID, now-1)
		f.sessionExpiring(u.ID, now) // dead: valid only while now < idle expiry
		live := []auth.SessionRecord{f.sessionExpiring(u.ID, now+1), f.sessionExpiring(u.ID, 1<<63-1)}
		othersDead := f.sessionExpiring(other.ID, now-1)
		require.NoError(f.t, d.DeleteExpiredSessions(f.ctx, u.ID, now))
		got, err := f.a.GetSessionsByUserID(f.ctx, u.ID)
		require.NoError(f.t, err)
		assert.ElementsMatch(f.t, sessionIDs(live), sessionIDs(got))
		got, err = f.a.GetSessionsByUserID(f.ctx, other.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, []auth.SessionRecord{othersDead}, got, "another user's dead session is not this call's business")
	}},
	{"NothingToDeleteIsNoError", func(f *fixture) {
		d := f.expiredDeleter()
		u := f.user(nil)
		s := f.session(u.ID)
		require.NoError(f.t, d.DeleteExpiredSessions(f.ctx, u.ID, 0))
		require.NoError(f.t, d.DeleteExpiredSessions(f.ctx, id("user"), 1<<62), "an unknown user")
		got, err := f.a.GetSessionsByUserID(f.ctx, u.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, []auth.SessionRecord{s}, got)
	}},
	{"BadIDs", func(f *fixture) {
		d := f.expiredDeleter()
		for reason, bad := range badIDs {
			require.ErrorIs(f.t, d.DeleteExpiredSessions(f.ctx, bad, 1), auth.ErrInvalidInput, reason)
		}
	}},
}
