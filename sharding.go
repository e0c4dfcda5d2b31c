package mongoauth

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// On a sharded cluster the adapter's collections may be sharded, but only
// on {_id: "hashed"} (recommended) or {_id: 1}. MongoDB enforces the
// uniqueness of _id across shards only when _id leads the shard key; with
// any other key two sessions, keys or users with one id could exist on two
// shards, and the duplicate-id errors the adapter relies on would not come.
// A compound key led by _id keeps ids unique, but findAndModify (UpdateUser,
// UpdateKeyPassword) must then name the whole shard key on servers without
// SERVER-44422, and by _id alone it fails there. Reads and
// writes by _id are single-shard; those by user_id (a user's sessions and
// keys, DeleteUser's cascade) go to every shard.

// ShardKeyError is returned by New when one of the adapter's collections is
// sharded on a key other than {_id: 1} or {_id: "hashed"}. Nothing is
// changed; the collection must be resharded (reshardCollection, MongoDB
// 5.0+) or recreated.
type ShardKeyError struct {
	Collection string
	// Key is the shard key found, as relaxed extended JSON, such as
	// {"_id":1,"user_id":1}.
	Key string
}

func (e *ShardKeyError) Error() string {
	return fmt.Sprintf("mongoauth: %s is sharded on %s: the adapter needs {_id: 1} or {_id: \"hashed\"} (ids are unique across shards only when _id leads the key, and findAndModify by _id needs _id alone)", e.Collection, e.Key)
}

// acceptedShardKey reports whether key is {_id: 1} (in any number type) or
// {_id: "hashed"}.
func acceptedShardKey(key bson.Raw) bool {
	elems, err := key.Elements()
	if err != nil || len(elems) != 1 || elems[0].Key() != fieldID {
		return false
	}
	v := elems[0].Value()
	if s, ok := v.StringValueOK(); ok {
		return s == "hashed"
	}
	n, err := millisValue(v) // a whole number of any BSON number type
	return err == nil && n == 1
}

// readableKey shows a shard key as relaxed extended JSON.
func readableKey(key bson.Raw) string {
	out, err := bson.MarshalExtJSON(key, false, false)
	if err != nil {
		return key.String()
	}
	return string(out)
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
		if !acceptedShardKey(c.Key) {
			return &ShardKeyError{Collection: c.Namespace[len(a.db.Name())+1:], Key: readableKey(c.Key)}
		}
	}
	return nil
}
