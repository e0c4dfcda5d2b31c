package mongoauth_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/mongotest"
)

func TestSessionTTLStoresExpiresAt(t *testing.T) {
	db := mongotest.Database(t)
	c := ctx(t)
	a, err := mongoauth.New(c, db, mongoauth.Options{SessionTTL: true})
	require.NoError(t, err)
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "u"}, nil))
	require.NoError(t, a.SetSession(c, auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: 10, IdleExpires: 1_700_000_000_123}))

	doc, err := db.Collection("auth_session").FindOne(c, bson.D{{Key: "_id", Value: "s"}}).Raw()
	require.NoError(t, err)
	at := doc.Lookup("expires_at")
	require.Equal(t, bson.TypeDateTime, at.Type)
	assert.Equal(t, int64(1_700_000_000_123), at.DateTime(), "expires_at is idle_expires as a Date")
	assert.Equal(t, bson.TypeInt64, doc.Lookup("idle_expires").Type, "the seed fields are unchanged")

	s, err := a.GetSession(c, "s")
	require.NoError(t, err)
	assert.Equal(t, auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: 10, IdleExpires: 1_700_000_000_123}, s,
		"an expired session still reads back: expiry is the core's business")
}

// TestSessionTTLIndex checks that the TTL index is created where the
// server supports it and reported as unsupported, not failed, where it does
// not (FerretDB v1 answers NotImplemented).
func TestSessionTTLIndex(t *testing.T) {
	db := mongotest.Database(t)
	c := ctx(t)
	a, err := mongoauth.New(c, db, mongoauth.Options{SessionTTL: true})
	require.NoError(t, err)

	srv := mongotest.Shared(t)
	before, err := a.Check(c, mongoauth.RepairOptions{})
	require.NoError(t, err)
	if srv.Kind == mongotest.KindFerretDB {
		assert.Equal(t, []string{"auth_session.expires_at_1"}, before.Indexes.Unsupported, "Check finds out without creating it")
	}
	if srv.Kind == mongotest.KindDocker {
		assert.Contains(t, before.Indexes.Missing, "auth_session.expires_at_1")
	}
	names, err := db.ListCollectionNames(c, bson.D{})
	require.NoError(t, err)
	assert.Empty(t, names, "Check created nothing finding out")

	report, err := a.EnsureIndexes(c)
	require.NoError(t, err, "an unsupported TTL index is not an error")
	assert.Subset(t, append(report.Created, report.Unsupported...), []string{"auth_session.user_id_1", "auth_key.user_id_1", "auth_session.expires_at_1"})

	specs, err := db.Collection("auth_session").Indexes().ListSpecifications(c)
	require.NoError(t, err)
	var ttl *mongo.IndexSpecification
	for _, s := range specs {
		if s.Name == "expires_at_1" {
			ttl = &s
		}
	}
	t.Logf("server %s: created %v, unsupported %v", srv.Description(), report.Created, report.Unsupported)
	if srv.Kind == mongotest.KindFerretDB || srv.Kind == mongotest.KindDocker {
		want := srv.Kind == mongotest.KindDocker // mongo:7 has TTL indexes, FerretDB v1 not
		assert.Equal(t, want, ttl != nil, "TTL index present")
	}
	if ttl != nil {
		assert.Contains(t, report.Created, "auth_session.expires_at_1")
		require.NotNil(t, ttl.ExpireAfterSeconds)
		assert.Equal(t, int32(0), *ttl.ExpireAfterSeconds)
	} else {
		assert.Equal(t, []string{"auth_session.expires_at_1"}, report.Unsupported)
	}

	after, err := a.Check(c, mongoauth.RepairOptions{})
	require.NoError(t, err)
	assert.Empty(t, after.Indexes.Missing)
	assert.Zero(t, after.Problems(), "an unsupported TTL index is not a problem: Repair does its work")
	assert.Equal(t, report.Unsupported, after.Indexes.Unsupported)
}

func TestSessionTTLIndexConflicts(t *testing.T) {
	db := mongotest.Database(t)
	c := ctx(t)
	_, err := db.Collection("auth_session").Indexes().CreateOne(c, mongo.IndexModel{Keys: bson.D{{Key: "expires_at", Value: 1}}, Options: options.Index().SetName("by_expiry")})
	require.NoError(t, err)
	a, err := mongoauth.New(c, db, mongoauth.Options{SessionTTL: true})
	require.NoError(t, err)
	report, err := a.EnsureIndexes(c)
	var conflict *mongoauth.IndexConflictError
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, "by_expiry", conflict.Index)
	assert.Contains(t, conflict.Reason, "not a TTL index")
	assert.Len(t, report.Created, 2, "the indexes without conflict are made")

	plain, err := mongoauth.New(c, db, mongoauth.Options{})
	require.NoError(t, err)
	_, err = plain.EnsureIndexes(c)
	require.NoError(t, err, "without SessionTTL an index on expires_at is none of the adapter's business")
}
