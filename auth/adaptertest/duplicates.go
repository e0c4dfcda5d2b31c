package adaptertest

import (
	"context"
	"slices"
	"strings"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// UniqueAttributes is the optional fixture hook of the group
// "DuplicateValue". When the adapter that NewAdapter returns implements it,
// the group checks that a write clashing with a unique index on a user
// attribute fails with an error matching auth.ErrDuplicateValue (an
// *auth.DuplicateValueError naming the index or its field where the
// database tells), never with ErrDuplicateUserID or ErrDuplicateKeyID, and
// stores nothing; and that taken ids are still reported as such. Adapters
// without it skip the group.
//
// A test implements it with a type that embeds the adapter under test and
// knows its store:
//
//	type withUniqueEmail struct {
//		*mongoauth.Adapter
//		db *mongo.Database
//	}
//
//	func (a withUniqueEmail) MakeUnique(ctx context.Context, name string) (adaptertest.UniqueLimits, error) {
//		_, err := a.db.Collection("auth_user").Indexes().CreateOne(ctx, mongo.IndexModel{
//			Keys: bson.D{{Key: name, Value: 1}}, Options: options.Index().SetUnique(true),
//		})
//		return adaptertest.UniqueLimits{}, err
//	}
type UniqueAttributes interface {
	// MakeUnique adds a unique index or constraint on the user attribute
	// name to the adapter's store, which is empty. Where the database
	// reports a clash by the index's name, the name must contain name. It
	// returns what the store cannot report, which relaxes the checks.
	MakeUnique(ctx context.Context, name string) (UniqueLimits, error)
}

// UniqueLimits is what a store cannot tell about a clash on a unique index.
// The zero value means it tells everything.
type UniqueLimits struct {
	// Unnamed: a clash is reported without the index's name or fields
	// (FerretDB v1), so the *auth.DuplicateValueError names neither.
	Unnamed bool
	// UpdateUnreported: a clash caused by UpdateUser is not reported as a
	// duplicate at all (FerretDB v1 answers with an internal error). The
	// update must still fail and change nothing.
	UpdateUnreported bool
}

// uniqueAttribute is the attribute the group makes unique.
const uniqueAttribute = "email"

// uniqueStore makes uniqueAttribute unique in f's store, or skips.
func (f *fixture) uniqueStore() UniqueLimits {
	f.t.Helper()
	u, ok := f.a.(UniqueAttributes)
	if !ok {
		f.t.Skip("the adapter under test does not implement adaptertest.UniqueAttributes: no unique attribute to clash on")
	}
	limits, err := u.MakeUnique(f.ctx, uniqueAttribute)
	require.NoError(f.t, err)
	return limits
}

// requireDuplicateValue checks err is a duplicate value on uniqueAttribute,
// and no duplicate id.
func (f *fixture) requireDuplicateValue(err error, limits UniqueLimits) {
	f.t.Helper()
	require.ErrorIs(f.t, err, auth.ErrDuplicateValue)
	assert.NotErrorIs(f.t, err, auth.ErrDuplicateUserID)
	assert.NotErrorIs(f.t, err, auth.ErrDuplicateKeyID)
	var dup *auth.DuplicateValueError
	require.ErrorAs(f.t, err, &dup)
	if limits.Unnamed {
		return
	}
	named := strings.Contains(dup.Index, uniqueAttribute) || slices.Contains(dup.Fields, uniqueAttribute)
	assert.True(f.t, named, "the error must name the index or its field: %#v", dup)
	if dup.Fields != nil {
		assert.Equal(f.t, []string{uniqueAttribute}, dup.Fields)
	}
}

var duplicateValueTests = []test{
	{"SetUser", func(f *fixture) {
		limits := f.uniqueStore()
		first := f.user(map[string]any{uniqueAttribute: "ann@example.com", "username": "ann"})
		second := auth.UserRecord{ID: id("user"), Attributes: map[string]any{uniqueAttribute: "ann@example.com", "username": "other"}}
		f.requireDuplicateValue(f.a.SetUser(f.ctx, second, nil), limits)
		f.requireUserGone(second.ID)
		got, err := f.a.GetUser(f.ctx, first.ID)
		require.NoError(f.t, err)
		f.assertUser(first, got, "the existing user must be untouched")
		f.user(map[string]any{uniqueAttribute: "bob@example.com"}) // another value is fine
	}},
	{"SetUserWithKey", func(f *fixture) {
		limits := f.uniqueStore()
		f.user(map[string]any{uniqueAttribute: "ann@example.com"})
		u := auth.UserRecord{ID: id("user"), Attributes: map[string]any{uniqueAttribute: "ann@example.com"}}
		k := auth.KeyRecord{ID: id("email"), UserID: u.ID, PrimaryKey: true}
		f.requireDuplicateValue(f.a.SetUser(f.ctx, u, &k), limits)
		f.requireUserGone(u.ID)
		_, err := f.a.GetKey(f.ctx, k.ID)
		require.ErrorIs(f.t, err, auth.ErrNotFound, "no key without its user")
	}},
	{"TakenIDsStayDuplicateIDs", func(f *fixture) {
		f.uniqueStore()
		first := f.user(map[string]any{uniqueAttribute: "ann@example.com"})
		err := f.a.SetUser(f.ctx, auth.UserRecord{ID: first.ID, Attributes: map[string]any{uniqueAttribute: "new@example.com"}}, nil)
		require.ErrorIs(f.t, err, auth.ErrDuplicateUserID)
		assert.NotErrorIs(f.t, err, auth.ErrDuplicateValue)

		taken := f.key(first.ID, true, nil, nil)
		u := auth.UserRecord{ID: id("user"), Attributes: map[string]any{uniqueAttribute: "bob@example.com"}}
		err = f.a.SetUser(f.ctx, u, &auth.KeyRecord{ID: taken.ID, UserID: u.ID, PrimaryKey: true})
		require.ErrorIs(f.t, err, auth.ErrDuplicateKeyID)
		assert.NotErrorIs(f.t, err, auth.ErrDuplicateValue)
		f.requireUserGone(u.ID)
	}},
	{"UpdateUser", func(f *fixture) {
		limits := f.uniqueStore()
		ann := f.user(map[string]any{uniqueAttribute: "ann@example.com"})
		bob := f.user(map[string]any{uniqueAttribute: "bob@example.com", "username": "bob"})
		_, err := f.a.UpdateUser(f.ctx, bob.ID, map[string]any{uniqueAttribute: "ann@example.com", "username": "bobby"})
		require.Error(f.t, err)
		if limits.UpdateUnreported {
			f.t.Log("the store does not report a clash caused by an update as a duplicate; checking only that it fails and changes nothing")
			assert.NotErrorIs(f.t, err, auth.ErrDuplicateUserID)
		} else {
			f.requireDuplicateValue(err, limits)
		}
		for _, u := range []auth.UserRecord{ann, bob} {
			got, err := f.a.GetUser(f.ctx, u.ID)
			require.NoError(f.t, err)
			f.assertUser(u, got, "a refused update changes nothing")
		}
	}},
}
