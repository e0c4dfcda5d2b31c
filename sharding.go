package mongoauth

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// On a sharded cluster the adapter's collections may be sharded, but only
// on a key that starts with _id (recommended: {_id: "hashed"}). MongoDB
// enforces the uniqueness of _id across shards only when _id leads the
// shard key; with any other key two sessions, keys or users with one id
// could exist on two shards, and the duplicate-id errors the adapter
// relies on would not come. Reads and writes by _id are then single-shard;
// those by user_id (a user's sessions and keys, DeleteUser's cascade) go
// to every shard.

// ShardKeyError is returned by New when one of the adapter's collections is
// sharded on a key that does not start with _id. Nothing is changed; the
// collection must be resharded (reshardCollection, MongoDB 5.0+) or
// recreated.
type ShardKeyError struct {
	Collection string
	// Key is the shard key, as extended JSON.
	Key string
}

func (e *ShardKeyError) Error() string {
	return fmt.Sprintf("mongoauth: %s is sharded on %s: ids are unique across shards only when the shard key starts with _id (use {_id: \"hashed\"})", e.Collection, e.Key)
}

// codeUnauthorized is the server's answer to a command the user may not run.
const codeUnauthorized = 13

// checkShardKeys reads the shard keys of the adapter's collections from
// config.collections, on a mongos. A user without read access to the config
// database (the common case for an application) gets no check: New then
// goes on, and the package documentation's advice is all there is.
func (a *Adapter) checkShardKeys(ctx context.Context, server serverInfo) error {
	if !server.mongos() {
		return nil
	}
	namespaces := bson.A{}
	for _, coll := range []string{a.users.Name(), a.sessions.Name(), a.keys.Name()} {
		namespaces = append(namespaces, a.db.Name()+"."+coll)
	}
	filter := bson.D{
		{Key: fieldID, Value: bson.D{{Key: "$in", Value: namespaces}}},
		{Key: "dropped", Value: bson.D{{Key: "$ne", Value: true}}},
	}
	cur, err := a.db.Client().Database("config").Collection("collections").Find(ctx, filter)
	if hasCode(err, codeUnauthorized) {
		return nil
	}
	if err != nil {
		return wrap("read shard keys from config.collections", err)
	}
	var sharded []struct {
		Namespace string   `bson:"_id"`
		Key       bson.Raw `bson:"key"`
	}
	if err := cur.All(ctx, &sharded); err != nil {
		return wrap("read shard keys from config.collections", err)
	}
	for _, c := range sharded {
		if first, err := c.Key.IndexErr(0); err != nil || first.Key() != fieldID {
			return &ShardKeyError{Collection: c.Namespace[len(a.db.Name())+1:], Key: c.Key.String()}
		}
	}
	return nil
}
