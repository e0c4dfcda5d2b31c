package mongoauth

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/mongotest"
)

// The embedded FerretDB sends no keyPattern, so the path MongoDB 4.2 and
// later take is checked here with the errors the driver makes of their
// replies: a write error for insert, a command error for findAndModify.
func TestDuplicateKeyPatterns(t *testing.T) {
	raw := func(doc bson.D) bson.Raw {
		data, err := bson.Marshal(doc)
		require.NoError(t, err)
		return data
	}
	writeError := func(pattern bson.D) error {
		return mongo.WriteException{WriteErrors: []mongo.WriteError{{
			Code: 11000, Message: "E11000 duplicate key error",
			Raw: raw(bson.D{{Key: "index", Value: 0}, {Key: "code", Value: 11000}, {Key: "keyPattern", Value: pattern}, {Key: "keyValue", Value: bson.D{{Key: "x", Value: "secret@example.com"}}}}),
		}}}
	}
	commandError := func(pattern bson.D) error {
		return mongo.CommandError{Code: 11000, Name: "DuplicateKey", Message: "E11000 duplicate key error",
			Raw: raw(bson.D{{Key: "ok", Value: 0}, {Key: "code", Value: 11000}, {Key: "keyPattern", Value: pattern}})}
	}

	for name, err := range map[string]error{"insert": writeError(bson.D{{Key: "_id", Value: 1}}), "findAndModify": commandError(bson.D{{Key: "_id", Value: 1}})} {
		require.True(t, isDuplicateKey(err), name)
		assert.Same(t, auth.ErrDuplicateUserID, insertDuplicate(t.Context(), nil, bson.D{{Key: "_id", Value: "u"}}, err, auth.ErrDuplicateUserID), "%s: a clash on _id is a taken id", name)
	}

	for _, tc := range []struct {
		pattern bson.D
		fields  []string
	}{
		{bson.D{{Key: "email", Value: 1}}, []string{"email"}},
		{bson.D{{Key: "org", Value: 1}, {Key: "handle", Value: -1}}, []string{"org", "handle"}},
		{bson.D{{Key: "_id", Value: 1}, {Key: "email", Value: 1}}, []string{"_id", "email"}},
	} {
		for name, err := range map[string]error{"insert": writeError(tc.pattern), "findAndModify": commandError(tc.pattern)} {
			got := insertDuplicate(t.Context(), nil, bson.D{{Key: "_id", Value: "u"}}, fmtWrap(err), auth.ErrDuplicateUserID)
			var dup *auth.DuplicateValueError
			require.ErrorAs(t, got, &dup, name)
			assert.Equal(t, tc.fields, dup.Fields, name)
			assert.NotErrorIs(t, got, auth.ErrDuplicateUserID, name)
			assert.NotContains(t, got.Error(), "secret@example.com", "the value stays out of the message")

			require.ErrorAs(t, updateDuplicate(t.Context(), nil, "u", nil, fmtWrap(err)), &dup, name)
			assert.Equal(t, tc.fields, dup.Fields, name)
		}
	}
}

func fmtWrap(err error) error { return errors.Join(errors.New("context"), err) }

// TestUnnamedDuplicateOfDeletedDocument: a server that does not name the
// index (FerretDB v1, MongoDB before 4.2) refuses an insert whose id was
// taken, and the document holding it is deleted (by another request)
// before the lookup that tells id clashes from others. While _id is the
// collection's only unique index, only the id can have clashed.
func TestUnnamedDuplicateOfDeletedDocument(t *testing.T) {
	ctx := mongotest.Context(t)
	db := mongotest.Database(t)
	require.NoError(t, db.CreateCollection(ctx, "keys"))
	keys := db.Collection("keys")
	unnamed := mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000, Message: "E11000 duplicate key error"}}}
	gone := bson.D{{Key: "_id", Value: "username:gone"}, {Key: "email", Value: "nobody@example.com"}}

	assert.Same(t, auth.ErrDuplicateKeyID, insertDuplicate(ctx, keys, gone, unnamed, auth.ErrDuplicateKeyID), "only _id is unique")

	_, err := keys.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	var dup *auth.DuplicateValueError
	require.ErrorAs(t, insertDuplicate(ctx, keys, gone, unnamed, auth.ErrDuplicateKeyID), &dup, "another unique index may have refused it")
	assert.Nil(t, dup.Fields)
}

// TestClashingIndex: a server that names no index (the embedded FerretDB
// v1) still gets the index named, by looking for the document that holds
// the values: on compound and sparse indexes, for inserts and updates.
func TestClashingIndex(t *testing.T) {
	ctx := mongotest.Context(t)
	db := mongotest.Database(t)
	users := db.Collection("users")
	for _, m := range []mongo.IndexModel{
		{Keys: bson.D{{Key: "org", Value: 1}, {Key: "handle", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "nick", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true)},
		{Keys: bson.D{{Key: "age", Value: 1}}}, // not unique
	} {
		_, err := users.Indexes().CreateOne(ctx, m)
		require.NoError(t, err)
	}
	doc := func(id, org, handle, email string) bson.D {
		return bson.D{{Key: "_id", Value: id}, {Key: "org", Value: org}, {Key: "handle", Value: handle}, {Key: "email", Value: email}, {Key: "age", Value: 30}}
	}
	_, err := users.InsertMany(ctx, []any{doc("ann", "acme", "ann", "ann@example.com"), doc("bob", "acme", "bob", "bob@example.com")})
	require.NoError(t, err)

	named := func(err error, index string, fields ...string) {
		t.Helper()
		var dup *auth.DuplicateValueError
		require.ErrorAs(t, err, &dup)
		assert.Equal(t, index, dup.Index)
		assert.Equal(t, fields, dup.Fields)
	}
	insertErr := func(d bson.D) error {
		_, err := users.InsertOne(ctx, d)
		require.True(t, isDuplicateKey(err), "%v", err)
		return err
	}
	d := doc("eve", "acme", "ann", "eve@example.com")
	named(insertDuplicate(ctx, users, d, insertErr(d), auth.ErrDuplicateUserID), "org_1_handle_1", "org", "handle")
	d = doc("eve", "other", "ann", "bob@example.com")
	named(insertDuplicate(ctx, users, d, insertErr(d), auth.ErrDuplicateUserID), "email_1", "email")
	d = doc("ann", "acme", "ann", "ann@example.com")
	assert.Same(t, auth.ErrDuplicateUserID, insertDuplicate(ctx, users, d, insertErr(d), auth.ErrDuplicateUserID), "a taken id comes first")

	update := func(id string, set bson.D) error {
		t.Helper()
		_, err := findAndSet(ctx, users, id, set)
		return err
	}
	named(update("bob", bson.D{{Key: "handle", Value: "ann"}}), "org_1_handle_1", "org", "handle")
	named(update("bob", bson.D{{Key: "email", Value: "ann@example.com"}, {Key: "age", Value: 31}}), "email_1", "email")
	require.NoError(t, update("bob", bson.D{{Key: "org", Value: "other"}, {Key: "handle", Value: "ann"}}), "another org, the same handle")

	// Neither has a nick: the sparse index does not hold them, so no clash
	// there; a nick taken is one.
	require.NoError(t, update("ann", bson.D{{Key: "nick", Value: "a"}}))
	named(update("bob", bson.D{{Key: "nick", Value: "a"}}), "nick_1", "nick")
}
