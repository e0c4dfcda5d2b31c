package mongoauth_test

import (
	"context"
	"errors"
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

// monitoredAdapter returns an adapter over a fresh database through a
// client of its own whose commands are logged, and the database through
// the shared, unlogged client.
func monitoredAdapter(t *testing.T, opts mongoauth.Options) (*mongoauth.Adapter, *mongo.Database, *commandLog) {
	t.Helper()
	log := &commandLog{}
	client, err := mongo.Connect(options.Client().ApplyURI(mongotest.Shared(t).URI).SetMonitor(log.monitor()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	db := mongotest.Database(t)
	a, err := mongoauth.New(ctx(t), client.Database(db.Name()), opts)
	require.NoError(t, err)
	return a, db, log
}

// onlyStatement returns the one statement of an update or delete command
// ("updates" or "deletes" array).
func onlyStatement(t *testing.T, cmd bson.Raw, array string) bson.Raw {
	t.Helper()
	statements, err := cmd.Lookup(array).Array().Values()
	require.NoError(t, err)
	require.Len(t, statements, 1)
	return statements[0].Document()
}

// relaxed renders a document as relaxed extended JSON, for comparisons.
func relaxed(t *testing.T, v any) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(v, false, false)
	require.NoError(t, err)
	return string(b)
}

func TestReplaceKeyPasswordSendsOneConditionalUpdate(t *testing.T) {
	a, _, log := monitoredAdapter(t, mongoauth.Options{})
	c := ctx(t)
	hash := "old-hash"
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "u"}, &auth.KeyRecord{ID: "username:u", UserID: "u", HashedPassword: &hash, PrimaryKey: true}))

	if mongotest.Shared(t).Kind == mongotest.KindFerretDB {
		n := log.count()
		err := a.ReplaceKeyPassword(c, "username:u", "old-hash", "new-hash")
		require.ErrorIs(t, err, errors.ErrUnsupported, "FerretDB's updates are not atomic")
		assert.Empty(t, log.since(n), "nothing is sent")
		// From here on, see what would be sent to MongoDB.
		mongoauth.AssumeAtomicUpdates(a)
	}
	n := log.count()
	require.NoError(t, a.ReplaceKeyPassword(c, "username:u", "old-hash", "new-hash"))
	sent := log.since(n)
	require.Len(t, sent, 1, "one command")
	require.Equal(t, "update", commandName(sent[0]))
	statement := onlyStatement(t, sent[0], "updates")
	assert.JSONEq(t, `{"_id": "username:u", "hashed_password": "old-hash"}`, relaxed(t, statement.Lookup("q").Document()),
		"the filter carries the old hash")
	assert.JSONEq(t, `{"$set": {"hashed_password": "new-hash"}}`, relaxed(t, statement.Lookup("u").Document()))
	upsert, _ := statement.Lookup("upsert").BooleanOK()
	assert.False(t, upsert, "never an upsert")
	multi, _ := statement.Lookup("multi").BooleanOK()
	assert.False(t, multi)

	k, err := a.GetKey(c, "username:u")
	require.NoError(t, err)
	assert.Equal(t, "new-hash", *k.HashedPassword)
	require.ErrorIs(t, a.ReplaceKeyPassword(c, "username:u", "old-hash", "newer-hash"), auth.ErrNotFound,
		"judged by the server's matched count")
}

func TestUpdateSessionSendsOneUpdate(t *testing.T) {
	a, db, log := monitoredAdapter(t, mongoauth.Options{SessionTTL: true})
	c := ctx(t)
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "u"}, nil))
	require.NoError(t, a.SetSession(c, auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: 10, IdleExpires: 20}))

	n := log.count()
	require.NoError(t, a.UpdateSession(c, "s", auth.SessionUpdate{ActiveExpires: 1_700_000_000_000, IdleExpires: 1_700_000_000_123}))
	sent := log.since(n)
	require.Len(t, sent, 1, "one command")
	require.Equal(t, "update", commandName(sent[0]))
	statement := onlyStatement(t, sent[0], "updates")
	assert.JSONEq(t, `{"_id": "s"}`, relaxed(t, statement.Lookup("q").Document()))
	upsert, _ := statement.Lookup("upsert").BooleanOK()
	assert.False(t, upsert, "never an upsert")

	doc, err := db.Collection("auth_session").FindOne(c, bson.D{{Key: "_id", Value: "s"}}).Raw()
	require.NoError(t, err)
	assert.Equal(t, bson.TypeInt64, doc.Lookup("idle_expires").Type)
	assert.Equal(t, int64(1_700_000_000_123), doc.Lookup("idle_expires").Int64())
	assert.Equal(t, int64(1_700_000_000_000), doc.Lookup("active_expires").Int64())
	assert.Equal(t, int64(1_700_000_000_123), doc.Lookup("expires_at").DateTime(), "with SessionTTL, expires_at follows idle_expires")

	require.NoError(t, a.UpdateSession(c, "s", auth.SessionUpdate{ActiveExpires: 5}))
	doc, err = db.Collection("auth_session").FindOne(c, bson.D{{Key: "_id", Value: "s"}}).Raw()
	require.NoError(t, err)
	assert.Equal(t, int64(1_700_000_000_123), doc.Lookup("expires_at").DateTime(), "an unchanged idle expiry leaves expires_at")
}

// TestDeleteExpiredSessionsJudgesLuciaNumbers stores sessions as Lucia's
// JavaScript adapters do (mongoose writes expiries as Doubles, others as
// Int32 or Int64) and checks that one delete judges them all by value.
func TestDeleteExpiredSessionsJudgesLuciaNumbers(t *testing.T) {
	a, db, log := monitoredAdapter(t, mongoauth.Options{})
	c := ctx(t)
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "u"}, nil))
	const now = int64(1_700_000_000_000)
	sessions := db.Collection("auth_session")
	doc := func(id string, idle any) bson.D {
		return bson.D{{Key: "_id", Value: id}, {Key: "user_id", Value: "u"}, {Key: "active_expires", Value: idle}, {Key: "idle_expires", Value: idle}, {Key: "__v", Value: int32(0)}}
	}
	_, err := sessions.InsertMany(c, []any{
		doc("dead-double", float64(now-1)),
		doc("dead-double-at-now", float64(now)),
		doc("dead-int32", int32(5)),
		doc("dead-int64", now-1),
		doc("live-double", float64(now+1)),
		doc("live-int64", now+1),
		bson.D{{Key: "_id", Value: "other-user"}, {Key: "user_id", Value: "v"}, {Key: "active_expires", Value: 1.0}, {Key: "idle_expires", Value: 1.0}},
	})
	require.NoError(t, err)

	n := log.count()
	require.NoError(t, a.DeleteExpiredSessions(c, "u", now))
	sent := log.since(n)
	require.Len(t, sent, 1, "one command")
	require.Equal(t, "delete", commandName(sent[0]))

	cur, err := sessions.Find(c, bson.D{})
	require.NoError(t, err)
	var left []struct {
		ID string `bson:"_id"`
	}
	require.NoError(t, cur.All(c, &left))
	var ids []string
	for _, s := range left {
		ids = append(ids, s.ID)
	}
	assert.ElementsMatch(t, []string{"live-double", "live-int64", "other-user"}, ids)
}
