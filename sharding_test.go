package mongoauth_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/luciago/mongoauth"
)

// asMongos makes a hello reply come from a router of a sharded cluster.
func asMongos(_ bson.Raw, reply bson.D) bson.D { return setField(reply, "msg", "isdbgrid") }

// shardKeys answers a read of config.collections with the given shard
// keys, by collection name, for the database of the command.
func shardKeys(keys map[string]bson.D) func(bson.Raw) (bson.D, bool) {
	return func(cmd bson.Raw) (bson.D, bool) {
		if commandName(cmd) != "find" || cmd.Lookup("find").StringValue() != "collections" || cmd.Lookup("$db").StringValue() != "config" {
			return nil, false
		}
		db := cmd.Lookup("filter", "_id", "$in").Array().Index(0).StringValue()
		db = db[:len(db)-len(".auth_user")]
		docs := bson.A{}
		for coll, key := range keys {
			docs = append(docs, bson.D{{Key: "_id", Value: db + "." + coll}, {Key: "key", Value: key}})
		}
		return bson.D{{Key: "cursor", Value: bson.D{{Key: "firstBatch", Value: docs}, {Key: "id", Value: int64(0)}, {Key: "ns", Value: "config.collections"}}}, {Key: "ok", Value: 1.0}}, true
	}
}

// TestShardKeysAreChecked: on a mongos, New refuses a collection sharded on
// any key but {_id: 1} or {_id: "hashed"}: with a key that does not start
// with _id, ids would be unique per shard only; with a compound key led by
// _id, findAndModify by _id alone fails on servers without SERVER-44422.
func TestShardKeysAreChecked(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(bson.Raw) (bson.D, bool)
		bad    string
	}{
		{"hashed _id everywhere", shardKeys(map[string]bson.D{
			"auth_user": {{Key: "_id", Value: "hashed"}}, "auth_session": {{Key: "_id", Value: "hashed"}}, "auth_key": {{Key: "_id", Value: 1}},
		}), ""},
		{"nothing sharded", shardKeys(nil), ""},
		{"sessions sharded by user", shardKeys(map[string]bson.D{"auth_session": {{Key: "user_id", Value: 1}}}), "auth_session"},
		{"users sharded by an attribute, then _id", shardKeys(map[string]bson.D{"auth_user": {{Key: "email", Value: 1}, {Key: "_id", Value: 1}}}), "auth_user"},
		{"ranged _id, as Int64 and Double", shardKeys(map[string]bson.D{"auth_user": {{Key: "_id", Value: int64(1)}}, "auth_key": {{Key: "_id", Value: 1.0}}}), ""},
		{"compound key led by _id", shardKeys(map[string]bson.D{"auth_key": {{Key: "_id", Value: 1}, {Key: "user_id", Value: 1}}}), "auth_key"},
		{"hashed _id with a suffix", shardKeys(map[string]bson.D{"auth_session": {{Key: "_id", Value: "hashed"}, {Key: "user_id", Value: 1}}}), "auth_session"},
		{"config not readable", func(cmd bson.Raw) (bson.D, bool) {
			if db, _ := cmd.Lookup("$db").StringValueOK(); db == "config" {
				return serverError(13, "Unauthorized"), true
			}
			return nil, false
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := startWireProxy(t)
			proxy.set(tc.answer, asMongos)
			_, err := mongoauth.New(ctx(t), scratchDatabase(t, proxy.client(t, "", nil)), mongoauth.Options{Transactions: mongoauth.TransactionsOff})
			if tc.bad == "" {
				require.NoError(t, err)
				return
			}
			var shardKey *mongoauth.ShardKeyError
			require.ErrorAs(t, err, &shardKey)
			assert.Equal(t, tc.bad, shardKey.Collection)
			assert.ErrorContains(t, err, "mongoauth: "+tc.bad+" is sharded on")
			assert.ErrorContains(t, err, shardKey.Key, "the error says which key it found")
			assert.ErrorContains(t, err, `{_id: 1} or {_id: "hashed"}`)
		})
	}
}
