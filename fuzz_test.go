package mongoauth_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/mongotest"
)

// FuzzUserInput passes fuzzed ids, attribute names, nested keys and values
// to the adapter. Whatever comes in, the adapter must not panic, must
// refuse what it cannot store literally with auth.ErrInvalidInput, and must
// store everything else literally: after SetUser the store holds exactly
// one new document with exactly that id and those fields, reads return it
// unchanged, and a bystander's records are untouched. Each input costs a
// handful of round trips to the test server.
func FuzzUserInput(f *testing.F) {
	for _, seed := range [][4]string{
		{"u1", "username", "nested", "ann"},
		{`{"$gt":""}`, "role", "$where", "admin"},
		{`{"$ne":null}`, "$set", "k", "v"},
		{"bystander", "name", "k", "v"}, // the bystander's own id
		{"a.b", "a.b", "c.d", "."},
		{"_id", "_id", "_id", "x"},
		{"__v", "__v", "__v", "0"},
		{"", "", "", ""},
		{"ünï\u00a0cødé", "名前", "ключ", "🙂"},
		{"nul\x00id", "nul\x00name", "nul\x00key", "nul\x00value"},
		{"\xff\xfe", "\xff", "\xfe", "\xff"},
		{"$", "$", "$", "$"},
		{"ctl\x12", "ctl\x12", "back\\slash", "\x12\t\n"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	db := mongotest.Database(f)
	c, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	a, err := mongoauth.New(c, db, mongoauth.Options{})
	require.NoError(f, err)
	bystander := auth.UserRecord{ID: "bystander", Attributes: map[string]any{"name": "bea"}}
	bystanderSession := auth.SessionRecord{ID: "bystander-session", UserID: "bystander", ActiveExpires: 1, IdleExpires: 2}
	require.NoError(f, a.SetUser(c, bystander, nil))
	require.NoError(f, a.SetSession(c, bystanderSession))
	users, sessions := db.Collection("auth_user"), db.Collection("auth_session")

	ferretDB := mongotest.Shared(f).Kind == mongotest.KindFerretDB
	f.Fuzz(func(t *testing.T, id, name, nestedKey, value string) {
		attributes := map[string]any{
			name:     value,
			"nested": map[string]any{nestedKey: []any{value, map[string]any{nestedKey: int64(len(value))}}},
			// Maps of other types, which the driver marshals alike.
			"typed": bson.M{nestedKey: bson.D{{Key: nestedKey, Value: value}}},
		}
		invalid := auth.CheckID("user id", id) != nil || auth.CheckAttributes(attributes) != nil || !utf8.ValidString(value)
		if !invalid && ferretDB && (ferretDBBreaksOn(name) || ferretDBBreaksOn(nestedKey)) {
			t.Skip("FerretDB v1 (SQLite) cannot store a field name with a control character, a backslash or a double quote (see ferretDBBreaksOn); MongoDB stores it literally")
		}
		// Start from the bystander alone, whatever an earlier failing input
		// left, so that a failure reproduces from its input.
		_, err := users.DeleteMany(c, bson.D{{Key: "_id", Value: bson.D{{Key: "$ne", Value: bystander.ID}}}})
		require.NoError(t, err)
		_, err = sessions.DeleteMany(c, bson.D{{Key: "_id", Value: bson.D{{Key: "$ne", Value: bystanderSession.ID}}}})
		require.NoError(t, err)
		err = a.SetUser(c, auth.UserRecord{ID: id, Attributes: attributes}, nil)
		switch {
		case invalid:
			require.ErrorIs(t, err, auth.ErrInvalidInput)
		case id == bystander.ID:
			require.ErrorIs(t, err, auth.ErrDuplicateUserID)
		default:
			require.NoError(t, err)
			defer func() { require.NoError(t, a.DeleteUser(c, id)) }()

			raw, err := users.FindOne(c, bson.D{{Key: "_id", Value: id}}).Raw()
			require.NoError(t, err)
			elems, err := raw.Elements()
			require.NoError(t, err)
			fields := map[string]bool{}
			for _, e := range elems {
				fields[e.Key()] = true
			}
			want := map[string]bool{"_id": true}
			for n := range attributes {
				want[n] = true
			}
			assert.Equal(t, want, fields, "exactly the given fields, stored literally")
			assert.Equal(t, id, raw.Lookup("_id").StringValue())
			n, err := users.CountDocuments(c, bson.D{})
			require.NoError(t, err)
			assert.Equal(t, int64(2), n, "exactly one new document")

			u, err := a.GetUser(c, id)
			require.NoError(t, err)
			asRead := maps.Clone(attributes)
			if name != "typed" {
				asRead["typed"] = map[string]any{nestedKey: map[string]any{nestedKey: value}}
			}
			assert.Equal(t, auth.UserRecord{ID: id, Attributes: asRead}, u, "read back unchanged")

			// The id as a session id and as a filter value is literal too.
			require.NoError(t, a.SetSession(c, auth.SessionRecord{ID: id, UserID: id, ActiveExpires: 1, IdleExpires: 2}))
			s, err := a.GetSession(c, id)
			require.NoError(t, err)
			assert.Equal(t, id, s.ID)
			got, err := a.GetSessionsByUserID(c, id)
			require.NoError(t, err)
			assert.Len(t, got, 1)
		}
		// Whatever happened, the bystander is untouched and nothing else
		// was left behind.
		u, err := a.GetUser(c, bystander.ID)
		require.NoError(t, err)
		assert.Equal(t, bystander, u)
		s, err := a.GetSession(c, bystanderSession.ID)
		require.NoError(t, err)
		assert.Equal(t, bystanderSession, s)
		if invalid || id == bystander.ID {
			n, err := users.CountDocuments(c, bson.D{})
			require.NoError(t, err)
			assert.Equal(t, int64(1), n, "a refused SetUser writes nothing")
		}
	})
}

// ferretDBBreaksOn reports whether FerretDB v1's SQLite backend cannot
// take name as a field name (both found by FuzzUserInput): a control
// character or a backslash poisons the collection, a double quote fails
// the insert with "malformed JSON".
func ferretDBBreaksOn(name string) bool {
	return strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == '\\' || r == '"' })
}

// FuzzIDs passes fuzzed ids to every call that takes one. Refused ids give
// auth.ErrInvalidInput; others are matched literally and never reach the
// bystander's records.
func FuzzIDs(f *testing.F) {
	for _, seed := range []string{"x", `{"$gt":""}`, `{"$regex":".*"}`, "bystander", "", "\x00", "\xff", "$where", "a.b"} {
		f.Add(seed)
	}
	db := mongotest.Database(f)
	c, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	a, err := mongoauth.New(c, db, mongoauth.Options{})
	require.NoError(f, err)
	hash := "h"
	key := auth.KeyRecord{ID: "email:bea", UserID: "bystander", HashedPassword: &hash, PrimaryKey: false}
	require.NoError(f, a.SetUser(c, auth.UserRecord{ID: "bystander", Attributes: map[string]any{}}, &key))
	require.NoError(f, a.SetSession(c, auth.SessionRecord{ID: "bystander-session", UserID: "bystander", ActiveExpires: 1, IdleExpires: 2}))

	f.Fuzz(func(t *testing.T, id string) {
		invalid := auth.CheckID("id", id) != nil
		check := func(err error, otherwise ...error) {
			t.Helper()
			if invalid {
				require.ErrorIs(t, err, auth.ErrInvalidInput)
				return
			}
			if err != nil {
				for _, ok := range otherwise {
					if errors.Is(err, ok) {
						return
					}
				}
				t.Fatalf("id %q: %v", id, err)
			}
		}
		_, err := a.GetUser(c, id)
		check(err, auth.ErrNotFound)
		_, err = a.GetKey(c, id)
		check(err, auth.ErrNotFound)
		_, err = a.GetSession(c, id)
		check(err, auth.ErrNotFound)
		_, _, err = a.GetSessionAndUser(c, id)
		check(err, auth.ErrNotFound)
		_, err = a.UpdateUser(c, id, map[string]any{"touched": true})
		check(err, auth.ErrInvalidUserID)
		_, err = a.UpdateKeyPassword(c, id, &hash)
		check(err, auth.ErrInvalidKeyID)
		if id != "bystander" && id != "email:bea" && id != "bystander-session" {
			check(a.DeleteNonPrimaryKey(c, id))
			check(a.DeleteSession(c, id))
			check(a.DeleteSessionsByUserID(c, id))
			check(a.DeleteKeysByUserID(c, id))
			check(a.DeleteUser(c, id))
		}

		u, err := a.GetUser(c, "bystander")
		require.NoError(t, err)
		if id != "bystander" {
			assert.Empty(t, u.Attributes, "UpdateUser with id %q touched the bystander", id)
		}
		k, err := a.GetKey(c, "email:bea")
		require.NoError(t, err)
		assert.Equal(t, "bystander", k.UserID)
		_, err = a.GetSession(c, "bystander-session")
		require.NoError(t, err)
		if id == "bystander" { // restore what the literal match legitimately changed
			require.NoError(t, a.DeleteUser(c, "bystander"))
			require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "bystander", Attributes: map[string]any{}}, &key))
			require.NoError(t, a.SetSession(c, auth.SessionRecord{ID: "bystander-session", UserID: "bystander", ActiveExpires: 1, IdleExpires: 2}))
		}
	})
}

// TestAttributesAreStoredLiterallyOrRefused covers what auth.CheckAttributes
// does not see: keys inside maps of other types, structs and bson.D, values
// that are not valid UTF-8, and values BSON cannot hold.
func TestAttributesAreStoredLiterallyOrRefused(t *testing.T) {
	a, db := newAdapter(t, mongoauth.Options{})
	c := ctx(t)
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "u", Attributes: map[string]any{"name": "ann"}}, nil))
	for name, attributes := range map[string]map[string]any{
		"operator in bson.M":      {"x": bson.M{"$gt": 1}},
		"operator in bson.D":      {"x": bson.D{{Key: "$set", Value: 1}}},
		"dotted key in other map": {"x": map[string]string{"a.b": "c"}},
		"operator as struct tag": {"x": struct {
			A string `bson:"$a"`
		}{"v"}},
		"operator in slice of maps": {"x": []bson.M{{"$in": 1}}},
		"invalid UTF-8 value":       {"x": "\xff"},
		"invalid UTF-8 deep inside": {"x": []any{map[string]any{"y": []string{"ok", "\xc3"}}}},
		"not storable":              {"x": make(chan int)},
	} {
		t.Run(name, func(t *testing.T) {
			err := a.SetUser(c, auth.UserRecord{ID: "v", Attributes: attributes}, nil)
			require.ErrorIs(t, err, auth.ErrInvalidInput)
			var ie *auth.InputError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "attribute", ie.Field)
			_, err = a.UpdateUser(c, "u", attributes)
			require.ErrorIs(t, err, auth.ErrInvalidInput)
		})
	}
	u, err := a.GetUser(c, "u")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"name": "ann"}, u.Attributes, "nothing was written")
	n, err := db.Collection("auth_user").CountDocuments(c, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)

	// The same shapes with harmless keys are stored and read back as plain maps.
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "w", Attributes: map[string]any{"x": bson.M{"gt": 1}, "y": struct{ A string }{"v"}}}, nil))
	w, err := a.GetUser(c, "w")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"x": map[string]any{"gt": int64(1)}, "y": map[string]any{"a": "v"}}, w.Attributes)
}
