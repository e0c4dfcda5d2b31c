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
		assert.Same(t, auth.ErrDuplicateUserID, insertDuplicate(t.Context(), nil, "u", err, auth.ErrDuplicateUserID), "%s: a clash on _id is a taken id", name)
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
			got := insertDuplicate(t.Context(), nil, "u", fmtWrap(err), auth.ErrDuplicateUserID)
			var dup *auth.DuplicateValueError
			require.ErrorAs(t, got, &dup, name)
			assert.Equal(t, tc.fields, dup.Fields, name)
			assert.NotErrorIs(t, got, auth.ErrDuplicateUserID, name)
			assert.NotContains(t, got.Error(), "secret@example.com", "the value stays out of the message")

			require.ErrorAs(t, updateDuplicate(fmtWrap(err)), &dup, name)
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

	assert.Same(t, auth.ErrDuplicateKeyID, insertDuplicate(ctx, keys, "username:gone", unnamed, auth.ErrDuplicateKeyID), "only _id is unique")

	_, err := keys.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	var dup *auth.DuplicateValueError
	require.ErrorAs(t, insertDuplicate(ctx, keys, "username:gone", unnamed, auth.ErrDuplicateKeyID), &dup, "another unique index may have refused it")
	assert.Nil(t, dup.Fields)
}
