// Package adaptertest is the conformance suite for auth adapters. Every
// adapter in this module runs it unchanged; an adapter outside the module
// can run it too:
//
//	func TestConformance(t *testing.T) {
//		adaptertest.Run(t, func(t *testing.T) auth.Adapter {
//			return newEmptyAdapter(t) // a fresh, empty store for each subtest
//		})
//	}
//
// The suite covers Lucia v1's own adapter tests and adds what a store with
// integrity must guarantee: cascading deletes, user-and-key atomicity, no
// orphan sessions or keys under concurrent deletion, rejection of malformed
// ids and attribute names, session attributes (round trips, their absence,
// updates; or, with Options.NoSessionAttributes, their refusal), unicode
// and long ids, and cancelled contexts.
//
// Optional checks need the store's help: an adapter whose store can make a
// user attribute unique proves that it reports a clash there as
// auth.ErrDuplicateValue when the NewAdapter function returns a value that
// also implements UniqueAttributes (usually a small test type embedding the
// adapter); see that interface. Likewise, one that implements
// UserRecordRemover lets the suite leave orphan sessions behind the
// adapter's back and check that the auth core refuses and deletes them.
package adaptertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// NewAdapter returns an adapter over an empty store, private to t; it is
// called once per subtest, possibly from parallel subtests.
type NewAdapter func(t *testing.T) auth.Adapter

// Run runs the conformance suite against adapters made by newAdapter. Its
// subtests run in parallel, each with its own adapter.
func Run(t *testing.T, newAdapter NewAdapter) { RunWith(t, newAdapter, Options{}) }

// RunWith is Run for a store whose schema narrows what the contract
// allows, as opts describe.
func RunWith(t *testing.T, newAdapter NewAdapter, opts Options) {
	for _, group := range []struct {
		name  string
		tests []test
	}{
		{"User", userTests},
		{"Key", keyTests},
		{"Session", sessionTests},
		{"SessionAttributes", sessionAttributeTests},
		{"SessionAndUser", sessionAndUserTests},
		{"KeyConsumer", keyConsumerTests},
		{"KeyPasswordReplacer", keyPasswordReplacerTests}, {"SessionUpdater", sessionUpdaterTests}, {"ExpiredSessionDeleter", expiredSessionDeleterTests},
		{"Integrity", integrityTests},
		{"Input", inputTests},
		{"DuplicateValue", duplicateValueTests},
		{"OrphanSessions", orphanTests},
	} {
		t.Run(group.name, func(t *testing.T) {
			for _, tc := range group.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					f := &fixture{t: t, a: newAdapter(t), opts: opts}
					f.ctx, f.cancel = context.WithTimeout(context.Background(), 2*time.Minute)
					t.Cleanup(f.cancel)
					tc.run(f)
				})
			}
		})
	}
}

type test struct {
	name string
	run  func(f *fixture)
}

// fixture is one subtest's adapter plus helpers that create records.
type fixture struct {
	t      *testing.T
	a      auth.Adapter
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc
}

// id returns a fresh random id with a readable prefix.
func id(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func ptr[T any](v T) *T { return &v }

var sampleAttributes = map[string]any{
	"username": "alice",
	"age":      int64(42),
	"admin":    true,
	"score":    1.5,
	"nickname": nil,
}

func (f *fixture) user(attributes map[string]any) auth.UserRecord {
	f.t.Helper()
	u := auth.UserRecord{ID: id("user"), Attributes: attributes}
	require.NoError(f.t, f.a.SetUser(f.ctx, u, nil))
	return u
}

func (f *fixture) key(userID string, primary bool, password *string, expires *int64) auth.KeyRecord {
	f.t.Helper()
	k := auth.KeyRecord{ID: id("email") + ":" + id("x"), UserID: userID, HashedPassword: password, PrimaryKey: primary, Expires: expires}
	require.NoError(f.t, f.a.SetKey(f.ctx, k))
	return k
}

func (f *fixture) session(userID string) auth.SessionRecord {
	f.t.Helper()
	return f.sessionWith(userID, nil)
}

// requireUserGone asserts that nothing of the user is left.
func (f *fixture) requireUserGone(userID string) {
	f.t.Helper()
	_, err := f.a.GetUser(f.ctx, userID)
	require.ErrorIs(f.t, err, auth.ErrNotFound, "user %s still exists", userID)
	sessions, err := f.a.GetSessionsByUserID(f.ctx, userID)
	require.NoError(f.t, err)
	require.Empty(f.t, sessions, "sessions of deleted user %s", userID)
	keys, err := f.a.GetKeysByUserID(f.ctx, userID)
	require.NoError(f.t, err)
	require.Empty(f.t, keys, "keys of deleted user %s", userID)
}

// sessionIDs and keyIDs make list comparisons independent of order.
func sessionIDs(ss []auth.SessionRecord) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}

func keyIDs(ks []auth.KeyRecord) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.ID
	}
	return out
}

var userTests = []test{
	{"GetFound", func(f *fixture) {
		u := f.user(sampleAttributes)
		got, err := f.a.GetUser(f.ctx, u.ID)
		require.NoError(f.t, err)
		f.assertUser(u, got)
	}},
	{"GetUnknownIsNotFound", func(f *fixture) {
		f.user(nil)
		_, err := f.a.GetUser(f.ctx, id("user"))
		require.ErrorIs(f.t, err, auth.ErrNotFound)
	}},
	{"SetWithoutKey", func(f *fixture) {
		u := f.user(map[string]any{"username": "bob"})
		keys, err := f.a.GetKeysByUserID(f.ctx, u.ID)
		require.NoError(f.t, err)
		assert.Empty(f.t, keys)
	}},
	{"SetWithoutAttributes", func(f *fixture) {
		u := f.user(nil)
		got, err := f.a.GetUser(f.ctx, u.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, u.ID, got.ID)
		if f.opts.AttributeColumns {
			f.assertUser(auth.UserRecord{ID: u.ID}, got)
		} else {
			assert.Empty(f.t, got.Attributes)
		}
	}},
	{"SetWithPrimaryKey", func(f *fixture) {
		u := auth.UserRecord{ID: id("user"), Attributes: map[string]any{"username": "carol"}}
		k := auth.KeyRecord{ID: "username:carol", UserID: u.ID, HashedPassword: ptr("s2:salt:hash"), PrimaryKey: true}
		require.NoError(f.t, f.a.SetUser(f.ctx, u, &k))
		gotUser, err := f.a.GetUser(f.ctx, u.ID)
		require.NoError(f.t, err)
		f.assertUser(u, gotUser)
		gotKey, err := f.a.GetKey(f.ctx, k.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, k, gotKey)
	}},
	{"SetWithTakenKeyLeavesNoUser", func(f *fixture) {
		owner := f.user(nil)
		taken := f.key(owner.ID, true, ptr("hash-of-owner"), nil)
		u := auth.UserRecord{ID: id("user"), Attributes: map[string]any{"username": "mallory"}}
		k := auth.KeyRecord{ID: taken.ID, UserID: u.ID, HashedPassword: ptr("other"), PrimaryKey: true}
		err := f.a.SetUser(f.ctx, u, &k)
		require.ErrorIs(f.t, err, auth.ErrDuplicateKeyID)
		f.requireUserGone(u.ID)
		stillThere, err := f.a.GetKey(f.ctx, taken.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, taken, stillThere, "the existing key must be untouched")
	}},
	{"SetTakenIDIsDuplicate", func(f *fixture) {
		u := f.user(map[string]any{"username": "first"})
		err := f.a.SetUser(f.ctx, auth.UserRecord{ID: u.ID, Attributes: map[string]any{"username": "second"}}, nil)
		require.ErrorIs(f.t, err, auth.ErrDuplicateUserID)
		got, err := f.a.GetUser(f.ctx, u.ID)
		require.NoError(f.t, err)
		f.assertUser(u, got, "the existing user must be untouched")
	}},
	{"SetTakenIDWithKeyKeepsExistingUser", func(f *fixture) {
		u := f.user(map[string]any{"username": "first"})
		k := auth.KeyRecord{ID: id("username"), UserID: u.ID, PrimaryKey: true}
		err := f.a.SetUser(f.ctx, auth.UserRecord{ID: u.ID}, &k)
		require.ErrorIs(f.t, err, auth.ErrDuplicateUserID)
		got, err := f.a.GetUser(f.ctx, u.ID)
		require.NoError(f.t, err, "a failed SetUser must not delete someone else's user")
		f.assertUser(u, got)
		_, err = f.a.GetKey(f.ctx, k.ID)
		require.ErrorIs(f.t, err, auth.ErrNotFound)
	}},
	{"DeleteOnlyTarget", func(f *fixture) {
		u1, u2 := f.user(nil), f.user(sampleAttributes)
		require.NoError(f.t, f.a.DeleteUser(f.ctx, u1.ID))
		f.requireUserGone(u1.ID)
		got, err := f.a.GetUser(f.ctx, u2.ID)
		require.NoError(f.t, err)
		f.assertUser(u2, got)
	}},
	{"DeleteMissingIsNoError", func(f *fixture) {
		require.NoError(f.t, f.a.DeleteUser(f.ctx, id("user")))
	}},
	{"DeleteThenRecreate", func(f *fixture) {
		u := f.user(nil)
		f.session(u.ID)
		f.key(u.ID, true, nil, nil)
		require.NoError(f.t, f.a.DeleteUser(f.ctx, u.ID))
		require.NoError(f.t, f.a.SetUser(f.ctx, u, nil))
		sessions, err := f.a.GetSessionsByUserID(f.ctx, u.ID)
		require.NoError(f.t, err)
		assert.Empty(f.t, sessions, "a recreated user must not inherit sessions")
	}},
	{"UpdateStoredAndReturned", func(f *fixture) {
		u := f.user(map[string]any{"username": "dave", "age": int64(30)})
		got, err := f.a.UpdateUser(f.ctx, u.ID, map[string]any{"age": int64(31), "city": "Oslo"})
		require.NoError(f.t, err)
		want := auth.UserRecord{ID: u.ID, Attributes: map[string]any{"username": "dave", "age": int64(31), "city": "Oslo"}}
		f.assertUser(want, got, "returned")
		stored, err := f.a.GetUser(f.ctx, u.ID)
		require.NoError(f.t, err)
		f.assertUser(want, stored, "stored")
	}},
	{"UpdateNothingReturnsUser", func(f *fixture) {
		u := f.user(map[string]any{"username": "erin"})
		got, err := f.a.UpdateUser(f.ctx, u.ID, nil)
		require.NoError(f.t, err)
		f.assertUser(u, got)
	}},
	{"UpdateUnknownIsInvalidUserID", func(f *fixture) {
		_, err := f.a.UpdateUser(f.ctx, id("user"), map[string]any{"username": "nobody"})
		require.ErrorIs(f.t, err, auth.ErrInvalidUserID)
		_, err = f.a.UpdateUser(f.ctx, id("user"), nil)
		require.ErrorIs(f.t, err, auth.ErrInvalidUserID)
	}},
}

var keyTests = []test{
	{"GetPersistent", func(f *fixture) {
		u := f.user(nil)
		k := f.key(u.ID, false, ptr("hash"), nil)
		got, err := f.a.GetKey(f.ctx, k.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, k, got)
	}},
	{"GetSingleUse", func(f *fixture) {
		u := f.user(nil)
		k := f.key(u.ID, false, nil, ptr(time.Now().Add(time.Hour).UnixMilli()))
		got, err := f.a.GetKey(f.ctx, k.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, k, got)
	}},
	{"GetUnknownIsNotFound", func(f *fixture) {
		_, err := f.a.GetKey(f.ctx, id("key"))
		require.ErrorIs(f.t, err, auth.ErrNotFound)
	}},
	{"SetNullPassword", func(f *fixture) {
		u := f.user(nil)
		k := f.key(u.ID, false, nil, nil)
		got, err := f.a.GetKey(f.ctx, k.ID)
		require.NoError(f.t, err)
		assert.Nil(f.t, got.HashedPassword)
		assert.Nil(f.t, got.Expires)
	}},
	{"SetPrimary", func(f *fixture) {
		u := f.user(nil)
		k := f.key(u.ID, true, ptr("hash"), nil)
		got, err := f.a.GetKey(f.ctx, k.ID)
		require.NoError(f.t, err)
		assert.True(f.t, got.PrimaryKey)
	}},
	{"SetExtremeExpiry", func(f *fixture) {
		u := f.user(nil)
		for _, ms := range []int64{0, 1<<53 + 1, 1<<63 - 1} {
			k := f.key(u.ID, false, nil, ptr(ms))
			got, err := f.a.GetKey(f.ctx, k.ID)
			require.NoError(f.t, err)
			require.NotNil(f.t, got.Expires)
			assert.Equal(f.t, ms, *got.Expires, "64-bit milliseconds must survive exactly")
		}
	}},
	{"SetUnknownUserIsInvalidUserID", func(f *fixture) {
		k := auth.KeyRecord{ID: id("key"), UserID: id("user")}
		require.ErrorIs(f.t, f.a.SetKey(f.ctx, k), auth.ErrInvalidUserID)
		_, err := f.a.GetKey(f.ctx, k.ID)
		require.ErrorIs(f.t, err, auth.ErrNotFound, "a rejected key must not be stored")
	}},
	{"SetTakenIDIsDuplicate", func(f *fixture) {
		u1, u2 := f.user(nil), f.user(nil)
		k := f.key(u1.ID, false, ptr("first"), nil)
		err := f.a.SetKey(f.ctx, auth.KeyRecord{ID: k.ID, UserID: u2.ID, HashedPassword: ptr("second")})
		require.ErrorIs(f.t, err, auth.ErrDuplicateKeyID)
		got, err := f.a.GetKey(f.ctx, k.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, k, got, "the existing key must be untouched")
	}},
	{"GetByUserOnlyThatUser", func(f *fixture) {
		u1, u2 := f.user(nil), f.user(nil)
		a := f.key(u1.ID, true, ptr("h"), nil)
		b := f.key(u1.ID, false, nil, ptr(int64(5)))
		f.key(u2.ID, true, nil, nil)
		got, err := f.a.GetKeysByUserID(f.ctx, u1.ID)
		require.NoError(f.t, err)
		assert.ElementsMatch(f.t, []auth.KeyRecord{a, b}, got)
	}},
	{"GetByUnknownUserIsEmpty", func(f *fixture) {
		got, err := f.a.GetKeysByUserID(f.ctx, id("user"))
		require.NoError(f.t, err)
		assert.Empty(f.t, got)
	}},
	{"UpdatePasswordStoredAndReturned", func(f *fixture) {
		u := f.user(nil)
		k := f.key(u.ID, true, ptr("old"), nil)
		got, err := f.a.UpdateKeyPassword(f.ctx, k.ID, ptr("new"))
		require.NoError(f.t, err)
		k.HashedPassword = ptr("new")
		assert.Equal(f.t, k, got, "returned")
		stored, err := f.a.GetKey(f.ctx, k.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, k, stored, "stored")
	}},
	{"UpdatePasswordToNull", func(f *fixture) {
		u := f.user(nil)
		k := f.key(u.ID, true, ptr("old"), nil)
		got, err := f.a.UpdateKeyPassword(f.ctx, k.ID, nil)
		require.NoError(f.t, err)
		assert.Nil(f.t, got.HashedPassword)
		stored, err := f.a.GetKey(f.ctx, k.ID)
		require.NoError(f.t, err)
		assert.Nil(f.t, stored.HashedPassword)
	}},
	{"UpdatePasswordUnknownIsInvalidKeyID", func(f *fixture) {
		_, err := f.a.UpdateKeyPassword(f.ctx, id("key"), ptr("x"))
		require.ErrorIs(f.t, err, auth.ErrInvalidKeyID)
	}},
	{"DeleteNonPrimaryOnlyTarget", func(f *fixture) {
		u := f.user(nil)
		a := f.key(u.ID, false, nil, nil)
		b := f.key(u.ID, false, nil, nil)
		require.NoError(f.t, f.a.DeleteNonPrimaryKey(f.ctx, a.ID))
		got, err := f.a.GetKeysByUserID(f.ctx, u.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, []string{b.ID}, keyIDs(got))
	}},
	{"DeleteNonPrimaryKeepsPrimary", func(f *fixture) {
		u := f.user(nil)
		k := f.key(u.ID, true, nil, nil)
		require.NoError(f.t, f.a.DeleteNonPrimaryKey(f.ctx, k.ID))
		_, err := f.a.GetKey(f.ctx, k.ID)
		require.NoError(f.t, err, "a primary key must survive DeleteNonPrimaryKey")
	}},
	{"DeleteNonPrimaryMissingIsNoError", func(f *fixture) {
		require.NoError(f.t, f.a.DeleteNonPrimaryKey(f.ctx, id("key")))
	}},
	{"DeleteByUserOnlyThatUser", func(f *fixture) {
		u1, u2 := f.user(nil), f.user(nil)
		f.key(u1.ID, true, nil, nil)
		f.key(u1.ID, false, nil, nil)
		other := f.key(u2.ID, true, nil, nil)
		require.NoError(f.t, f.a.DeleteKeysByUserID(f.ctx, u1.ID))
		got, err := f.a.GetKeysByUserID(f.ctx, u1.ID)
		require.NoError(f.t, err)
		assert.Empty(f.t, got, "primary keys are deleted too")
		got, err = f.a.GetKeysByUserID(f.ctx, u2.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, []auth.KeyRecord{other}, got)
	}},
}

var sessionTests = []test{
	{"GetFound", func(f *fixture) {
		u := f.user(nil)
		s := f.session(u.ID)
		got, err := f.a.GetSession(f.ctx, s.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, s, got)
	}},
	{"GetUnknownIsNotFound", func(f *fixture) {
		_, err := f.a.GetSession(f.ctx, id("session"))
		require.ErrorIs(f.t, err, auth.ErrNotFound)
	}},
	{"WithoutIssuedAt", func(f *fixture) {
		// As Lucia v1 and earlier versions of this module store them.
		u := f.user(nil)
		now := time.Now().UnixMilli()
		s := auth.SessionRecord{ID: id("session"), UserID: u.ID, ActiveExpires: now + 1000, IdleExpires: now + 2000}
		require.NoError(f.t, f.a.SetSession(f.ctx, s))
		got, err := f.a.GetSession(f.ctx, s.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, s, got, "IssuedAt reads as 0")
		all, err := f.a.GetSessionsByUserID(f.ctx, u.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, []auth.SessionRecord{s}, all)
	}},
	{"GetExpiredIsReturned", func(f *fixture) {
		u := f.user(nil)
		s := auth.SessionRecord{ID: id("session"), UserID: u.ID, ActiveExpires: 1, IdleExpires: 2}
		require.NoError(f.t, f.a.SetSession(f.ctx, s))
		got, err := f.a.GetSession(f.ctx, s.ID)
		require.NoError(f.t, err, "expiry is the core's business, not the adapter's")
		assert.Equal(f.t, s, got)
	}},
	{"GetByUserOnlyThatUser", func(f *fixture) {
		u1, u2 := f.user(nil), f.user(nil)
		a, b := f.session(u1.ID), f.session(u1.ID)
		f.session(u2.ID)
		got, err := f.a.GetSessionsByUserID(f.ctx, u1.ID)
		require.NoError(f.t, err)
		assert.ElementsMatch(f.t, []auth.SessionRecord{a, b}, got)
	}},
	{"GetByUnknownUserIsEmpty", func(f *fixture) {
		got, err := f.a.GetSessionsByUserID(f.ctx, id("user"))
		require.NoError(f.t, err)
		assert.Empty(f.t, got)
	}},
	{"SetExtremeExpiry", func(f *fixture) {
		u := f.user(nil)
		s := auth.SessionRecord{ID: id("session"), UserID: u.ID, ActiveExpires: 1<<53 + 1, IdleExpires: 1<<63 - 1}
		require.NoError(f.t, f.a.SetSession(f.ctx, s))
		got, err := f.a.GetSession(f.ctx, s.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, s, got)
	}},
	{"SetUnknownUserIsInvalidUserID", func(f *fixture) {
		s := auth.SessionRecord{ID: id("session"), UserID: id("user"), ActiveExpires: 1, IdleExpires: 2}
		require.ErrorIs(f.t, f.a.SetSession(f.ctx, s), auth.ErrInvalidUserID)
		_, err := f.a.GetSession(f.ctx, s.ID)
		require.ErrorIs(f.t, err, auth.ErrNotFound, "a rejected session must not be stored")
	}},
	{"SetTakenIDIsDuplicate", func(f *fixture) {
		u1, u2 := f.user(nil), f.user(nil)
		s := f.session(u1.ID)
		err := f.a.SetSession(f.ctx, auth.SessionRecord{ID: s.ID, UserID: u2.ID, ActiveExpires: 9, IdleExpires: 9})
		require.ErrorIs(f.t, err, auth.ErrDuplicateSessionID)
		got, err := f.a.GetSession(f.ctx, s.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, s, got, "the existing session must be untouched")
	}},
	{"DeleteOnlyTarget", func(f *fixture) {
		u := f.user(nil)
		a, b := f.session(u.ID), f.session(u.ID)
		require.NoError(f.t, f.a.DeleteSession(f.ctx, a.ID))
		_, err := f.a.GetSession(f.ctx, a.ID)
		require.ErrorIs(f.t, err, auth.ErrNotFound)
		got, err := f.a.GetSessionsByUserID(f.ctx, u.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, []string{b.ID}, sessionIDs(got))
	}},
	{"DeleteMissingIsNoError", func(f *fixture) {
		require.NoError(f.t, f.a.DeleteSession(f.ctx, id("session")))
	}},
	{"DeleteByUserOnlyThatUser", func(f *fixture) {
		u1, u2 := f.user(nil), f.user(nil)
		f.session(u1.ID)
		f.session(u1.ID)
		other := f.session(u2.ID)
		require.NoError(f.t, f.a.DeleteSessionsByUserID(f.ctx, u1.ID))
		got, err := f.a.GetSessionsByUserID(f.ctx, u1.ID)
		require.NoError(f.t, err)
		assert.Empty(f.t, got)
		got, err = f.a.GetSessionsByUserID(f.ctx, u2.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, []auth.SessionRecord{other}, got)
	}},
}

// getter returns the adapter's SessionAndUserGetter or skips the test.
func (f *fixture) getter() auth.SessionAndUserGetter {
	g, ok := f.a.(auth.SessionAndUserGetter)
	if !ok {
		f.t.Skip("adapter does not implement auth.SessionAndUserGetter (optional)")
	}
	return g
}

var sessionAndUserTests = []test{
	{"Both", func(f *fixture) {
		g := f.getter()
		u := f.user(sampleAttributes)
		s := f.session(u.ID)
		gotS, gotU, err := g.GetSessionAndUser(f.ctx, s.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, s, gotS)
		f.assertUser(u, gotU)
	}},
	{"UnknownIsNotFound", func(f *fixture) {
		g := f.getter()
		f.session(f.user(nil).ID)
		_, _, err := g.GetSessionAndUser(f.ctx, id("session"))
		require.ErrorIs(f.t, err, auth.ErrNotFound)
	}},
	{"AfterUserDeletedIsNotFound", func(f *fixture) {
		g := f.getter()
		u := f.user(nil)
		s := f.session(u.ID)
		require.NoError(f.t, f.a.DeleteUser(f.ctx, u.ID))
		_, _, err := g.GetSessionAndUser(f.ctx, s.ID)
		require.ErrorIs(f.t, err, auth.ErrNotFound)
	}},
}

// consumer returns the adapter's KeyConsumer or skips the test.
func (f *fixture) consumer() auth.KeyConsumer {
	c, ok := f.a.(auth.KeyConsumer)
	if !ok {
		f.t.Skip("adapter does not implement auth.KeyConsumer (optional)")
	}
	return c
}

var keyConsumerTests = []test{
	{"DeletesOnlyTarget", func(f *fixture) {
		c := f.consumer()
		u := f.user(nil)
		k := f.key(u.ID, false, ptr("h"), ptr(int64(99)))
		other := f.key(u.ID, false, nil, ptr(int64(99)))
		require.NoError(f.t, c.ConsumeKey(f.ctx, k.ID))
		_, err := f.a.GetKey(f.ctx, k.ID)
		require.ErrorIs(f.t, err, auth.ErrNotFound)
		_, err = f.a.GetKey(f.ctx, other.ID)
		require.NoError(f.t, err, "only the target is consumed")
	}},
	{"PrimaryIsNotConsumed", func(f *fixture) {
		c := f.consumer()
		k := f.key(f.user(nil).ID, true, nil, nil)
		require.ErrorIs(f.t, c.ConsumeKey(f.ctx, k.ID), auth.ErrNotFound)
		_, err := f.a.GetKey(f.ctx, k.ID)
		require.NoError(f.t, err)
	}},
	{"MissingIsNotFound", func(f *fixture) {
		require.ErrorIs(f.t, f.consumer().ConsumeKey(f.ctx, id("key")), auth.ErrNotFound)
	}},
	{"ExactlyOnceUnderRace", func(f *fixture) {
		c := f.consumer()
		k := f.key(f.user(nil).ID, false, nil, ptr(int64(99)))
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 10 {
			wg.Go(func() {
				err := c.ConsumeKey(f.ctx, k.ID)
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if !errors.Is(err, auth.ErrNotFound) {
					f.t.Errorf("ConsumeKey: %v", err)
				}
			})
		}
		wg.Wait()
		assert.Equal(f.t, 1, wins)
	}},
}

var integrityTests = []test{
	{"CascadeDeleteLeavesNothing", func(f *fixture) {
		u, other := f.user(sampleAttributes), f.user(nil)
		for range 3 {
			f.session(u.ID)
		}
		f.key(u.ID, true, ptr("h"), nil)
		f.key(u.ID, false, nil, ptr(int64(1)))
		keep := []auth.SessionRecord{f.session(other.ID)}
		keepKey := f.key(other.ID, true, nil, nil)
		require.NoError(f.t, f.a.DeleteUser(f.ctx, u.ID))
		f.requireUserGone(u.ID)
		got, err := f.a.GetSessionsByUserID(f.ctx, other.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, keep, got)
		gotKeys, err := f.a.GetKeysByUserID(f.ctx, other.ID)
		require.NoError(f.t, err)
		assert.Equal(f.t, []auth.KeyRecord{keepKey}, gotKeys)
	}},
	{"UserAndKeyAreAtomicUnderRace", func(f *fixture) {
		// Many users race for one key id: exactly one wins, and every loser
		// leaves no user behind.
		keyID := id("username")
		const racers = 12
		var wg sync.WaitGroup
		errs := make([]error, racers)
		users := make([]string, racers)
		for i := range racers {
			users[i] = id("user")
			wg.Go(func() {
				k := auth.KeyRecord{ID: keyID, UserID: users[i], PrimaryKey: true}
				errs[i] = f.a.SetUser(f.ctx, auth.UserRecord{ID: users[i]}, &k)
			})
		}
		wg.Wait()
		winners := 0
		for i, err := range errs {
			if err == nil {
				winners++
				_, err := f.a.GetUser(f.ctx, users[i])
				require.NoError(f.t, err)
				continue
			}
			require.ErrorIs(f.t, err, auth.ErrDuplicateKeyID)
			f.requireUserGone(users[i])
		}
		assert.Equal(f.t, 1, winners)
	}},
	{"ConcurrentSetSessionAndDeleteUserLeaveNoOrphans", func(f *fixture) {
		// Writers keep adding sessions and keys to users while the users are
		// deleted. After everything returns, a deleted user has nothing left,
		// and a user that was not deleted has every session it was promised.
		const users, writersPerUser, writesPerWriter = 6, 4, 6
		type outcome struct {
			userID    string
			deleted   bool
			sessionOK []string
		}
		outcomes := make([]*outcome, users)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range users {
			o := &outcome{userID: f.user(nil).ID, deleted: i%3 != 0}
			outcomes[i] = o
			for w := range writersPerUser {
				wg.Go(func() {
					for n := range writesPerWriter {
						var err error
						if (w+n)%2 == 0 {
							s := auth.SessionRecord{ID: id("session"), UserID: o.userID, ActiveExpires: 1 << 50, IdleExpires: 1 << 51}
							if err = f.a.SetSession(f.ctx, s); err == nil {
								mu.Lock()
								o.sessionOK = append(o.sessionOK, s.ID)
								mu.Unlock()
							}
						} else {
							err = f.a.SetKey(f.ctx, auth.KeyRecord{ID: id("key"), UserID: o.userID})
						}
						if err != nil && !(o.deleted && errors.Is(err, auth.ErrInvalidUserID)) {
							f.t.Errorf("write for user %s: %v", o.userID, err)
						}
					}
				})
			}
			if o.deleted {
				wg.Go(func() {
					time.Sleep(time.Duration(i) * time.Millisecond)
					if err := f.a.DeleteUser(f.ctx, o.userID); err != nil {
						f.t.Errorf("delete user %s: %v", o.userID, err)
					}
				})
			}
		}
		wg.Wait()
		for _, o := range outcomes {
			if o.deleted {
				f.requireUserGone(o.userID)
				continue
			}
			got, err := f.a.GetSessionsByUserID(f.ctx, o.userID)
			require.NoError(f.t, err)
			assert.ElementsMatch(f.t, o.sessionOK, sessionIDs(got))
		}
	}},
	{"UnicodeAndLongIDs", func(f *fixture) {
		long := f.longID() // +1 character below reaches the limit
		idSets := []struct{ user, key, session string }{
			{"ユーザー🙂", "email:ユーザー🙂", "セッション🙂"},
			{long + "u", long + "k", long + "s"},
			{"user with spaces", "username:user with spaces", "session with spaces"},
			{`{"$gt":""}`, `{"$gt":""}:key`, `{"$gt":""}:session`},
			{"$where", "$where:key", "$where:session"},
		}
		// Lucia stores an e-mail key for any address: 254 bytes at most.
		email := "email:" + strings.Repeat("a", 64) + "@" + strings.Repeat("b", 184) + ".test"
		if f.opts.MaxIDChars == 0 || len(email) <= f.opts.MaxIDChars {
			idSets = append(idSets, struct{ user, key, session string }{"AbCdEfGhIjK1234", email, "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789ABCD"})
		}
		for _, ids := range idSets {
			u := auth.UserRecord{ID: ids.user, Attributes: map[string]any{"name": "ünïcødé ✓"}}
			k := auth.KeyRecord{ID: ids.key, UserID: ids.user, PrimaryKey: true}
			require.NoError(f.t, f.a.SetUser(f.ctx, u, &k), "user id %q", ids.user)
			s := auth.SessionRecord{ID: ids.session, UserID: ids.user, ActiveExpires: 1, IdleExpires: 2}
			require.NoError(f.t, f.a.SetSession(f.ctx, s))
			gotU, err := f.a.GetUser(f.ctx, ids.user)
			require.NoError(f.t, err)
			f.assertUser(u, gotU)
			gotK, err := f.a.GetKey(f.ctx, ids.key)
			require.NoError(f.t, err)
			assert.Equal(f.t, k, gotK)
			gotS, err := f.a.GetSessionsByUserID(f.ctx, ids.user)
			require.NoError(f.t, err)
			assert.Equal(f.t, []auth.SessionRecord{s}, gotS)
		}
		// Ids that look like query operators are plain strings: no lookup
		// of one of them may match another record.
		_, err := f.a.GetUser(f.ctx, `{"$ne":""}`)
		require.ErrorIs(f.t, err, auth.ErrNotFound)
	}},
	{"CanceledContextWritesNothing", func(f *fixture) {
		u := f.user(nil)
		ctx, cancel := context.WithCancel(f.ctx)
		cancel()
		s := auth.SessionRecord{ID: id("session"), UserID: u.ID, ActiveExpires: 1, IdleExpires: 2}
		require.ErrorIs(f.t, f.a.SetSession(ctx, s), context.Canceled)
		k := auth.KeyRecord{ID: id("key"), UserID: u.ID}
		require.ErrorIs(f.t, f.a.SetKey(ctx, k), context.Canceled)
		nu := auth.UserRecord{ID: id("user")}
		require.ErrorIs(f.t, f.a.SetUser(ctx, nu, nil), context.Canceled)
		require.ErrorIs(f.t, f.a.DeleteUser(ctx, u.ID), context.Canceled)
		_, err := f.a.GetUser(ctx, u.ID)
		require.ErrorIs(f.t, err, context.Canceled)

		_, err = f.a.GetSession(f.ctx, s.ID)
		require.ErrorIs(f.t, err, auth.ErrNotFound)
		_, err = f.a.GetKey(f.ctx, k.ID)
		require.ErrorIs(f.t, err, auth.ErrNotFound)
		_, err = f.a.GetUser(f.ctx, nu.ID)
		require.ErrorIs(f.t, err, auth.ErrNotFound)
		_, err = f.a.GetUser(f.ctx, u.ID)
		require.NoError(f.t, err, "a cancelled delete must not delete")
	}},
}

// badAttributes are attribute maps every adapter must refuse.
var badAttributes = map[string]map[string]any{
	"empty name":          {"": "x"},
	"dollar prefix":       {"$set": map[string]any{"admin": true}},
	"dot":                 {"profile.admin": true},
	"NUL":                 {"a\x00b": 1},
	"control character":   {"a\nb": 1},
	"invalid UTF-8 value": {"name": "\xffbad"},
	"_id":                 {"_id": "other"},
	"id":                  {"id": "other"},
	"__v":                 {"__v": int64(0)},
	"invalid UTF-8":       {"\xff": 1},
	"nested dollar key":   {"profile": map[string]any{"$gt": ""}},
	"nested dot key":      {"profile": map[string]any{"a.b": 1}},
	"nested in list":      {"tags": []any{map[string]any{"$where": "1"}}},
}

// badIDs are ids every adapter must refuse.
var badIDs = map[string]string{
	"empty":         "",
	"too long":      strings.Repeat("x", auth.MaxIDLength+1),
	"invalid UTF-8": "\xffabc",
	"NUL":           "a\x00b",
}

var inputTests = []test{
	{"BadAttributeNamesOnSetUser", func(f *fixture) {
		for reason, attrs := range badAttributes {
			u := auth.UserRecord{ID: id("user"), Attributes: attrs}
			f.requireInputError(f.a.SetUser(f.ctx, u, nil), reason)
			_, err := f.a.GetUser(f.ctx, u.ID)
			require.ErrorIs(f.t, err, auth.ErrNotFound, "%s: nothing may be stored", reason)
		}
	}},
	{"BadAttributeNamesOnUpdateUser", func(f *fixture) {
		u := f.user(map[string]any{"username": "frank"})
		for reason, attrs := range badAttributes {
			_, err := f.a.UpdateUser(f.ctx, u.ID, attrs)
			require.ErrorIs(f.t, err, auth.ErrInvalidInput, reason)
		}
		got, err := f.a.GetUser(f.ctx, u.ID)
		require.NoError(f.t, err)
		f.assertUser(u, got, "rejected updates must change nothing")
	}},
	{"BadIDs", func(f *fixture) {
		u := f.user(nil)
		for reason, bad := range badIDs {
			checks := map[string]error{
				"SetUser":    f.a.SetUser(f.ctx, auth.UserRecord{ID: bad}, nil),
				"SetSession": f.a.SetSession(f.ctx, auth.SessionRecord{ID: bad, UserID: u.ID}),
				"SetKey":     f.a.SetKey(f.ctx, auth.KeyRecord{ID: bad, UserID: u.ID}),
				"SetKeyUser": f.a.SetKey(f.ctx, auth.KeyRecord{ID: id("key"), UserID: bad}),
				"DeleteUser": f.a.DeleteUser(f.ctx, bad),
			}
			_, checks["GetUser"] = f.a.GetUser(f.ctx, bad)
			_, checks["GetSession"] = f.a.GetSession(f.ctx, bad)
			_, checks["GetKey"] = f.a.GetKey(f.ctx, bad)
			for call, err := range checks {
				require.ErrorIs(f.t, err, auth.ErrInvalidInput, "%s with %s id", call, reason)
			}
		}
		sessions, err := f.a.GetSessionsByUserID(f.ctx, u.ID)
		require.NoError(f.t, err)
		assert.Empty(f.t, sessions)
		keys, err := f.a.GetKeysByUserID(f.ctx, u.ID)
		require.NoError(f.t, err)
		assert.Empty(f.t, keys)
	}},
	{"KeyOfAnotherUserInSetUser", func(f *fixture) {
		other := f.user(nil)
		u := auth.UserRecord{ID: id("user")}
		k := auth.KeyRecord{ID: id("key"), UserID: other.ID, PrimaryKey: true}
		require.ErrorIs(f.t, f.a.SetUser(f.ctx, u, &k), auth.ErrInvalidInput)
		f.requireUserGone(u.ID)
	}},
}
