package mongoauth_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
)

// TestSessionAttributesOnTheLookupPath: the $lookup read returns the
// session's attributes, and not the field the user is joined into. The
// embedded server has no $lookup, so the proxy answers the aggregate with
// what MongoDB returns for it.
func TestSessionAttributesOnTheLookupPath(t *testing.T) {
	proxy := startWireProxy(t)
	proxy.set(answerAggregate(func(cmd bson.Raw) bson.D {
		reply := emptyCursor(cmd)
		joined := bson.D{
			{Key: "_id", Value: "s"}, {Key: "user_id", Value: "u"},
			{Key: "active_expires", Value: future}, {Key: "idle_expires", Value: future},
			{Key: "browser", Value: "Firefox"}, {Key: "logins", Value: int32(2)},
			{Key: "__user", Value: bson.A{bson.D{{Key: "_id", Value: "u"}, {Key: "username", Value: "ann"}}}},
		}
		reply[0].Value.(bson.D)[0].Value = bson.A{joined}
		return reply
	}), nil)
	a, err := mongoauth.New(ctx(t), scratchDatabase(t, proxy.client(t, "", nil)), mongoauth.Options{ReadPath: mongoauth.ReadPathLookup})
	require.NoError(t, err)
	require.True(t, a.UsesLookup())
	s, u, err := a.GetSessionAndUser(ctx(t), "s")
	require.NoError(t, err)
	assert.Equal(t, auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: future, IdleExpires: future,
		Attributes: map[string]any{"browser": "Firefox", "logins": int64(2)}}, s)
	assert.Equal(t, auth.UserRecord{ID: "u", Attributes: map[string]any{"username": "ann"}}, u)
}

// TestSessionsWrittenWithoutAttributes: sessions as Lucia's mongoose
// adapter writes them (a version field, Double expiry times) and as this
// adapter writes them with Options.SessionTTL (expires_at) read back with
// no attributes, on every read.
func TestSessionsWrittenWithoutAttributes(t *testing.T) {
	a, db := newAdapter(t, mongoauth.Options{SessionTTL: true})
	require.NoError(t, a.SetUser(ctx(t), auth.UserRecord{ID: "u"}, nil))
	_, err := db.Collection(mongoauth.DefaultSessionCollection).InsertOne(ctx(t), bson.D{
		{Key: "_id", Value: "lucia"}, {Key: "user_id", Value: "u"},
		{Key: "active_expires", Value: float64(future)}, {Key: "idle_expires", Value: float64(future)}, {Key: "__v", Value: int32(0)},
	})
	require.NoError(t, err)
	require.NoError(t, a.SetSession(ctx(t), auth.SessionRecord{ID: "ttl", UserID: "u", ActiveExpires: future, IdleExpires: future}))
	for _, id := range []string{"lucia", "ttl"} {
		s, err := a.GetSession(ctx(t), id)
		require.NoError(t, err)
		assert.Nil(t, s.Attributes, id)
		s, _, err = a.GetSessionAndUser(ctx(t), id)
		require.NoError(t, err)
		assert.Nil(t, s.Attributes, id)
	}
	all, err := a.GetSessionsByUserID(ctx(t), "u")
	require.NoError(t, err)
	require.Len(t, all, 2)
	for _, s := range all {
		assert.Nil(t, s.Attributes, s.ID)
	}
}
