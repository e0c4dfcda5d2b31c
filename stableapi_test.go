package mongoauth_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
)

// stableAPIV1 is the commands of the Stable API's version 1 (MongoDB's
// list, as of 8.0). A client in strict mode gets any other refused.
var stableAPIV1 = []string{
	"abortTransaction", "aggregate", "authenticate", "bulkWrite", "collMod",
	"commitTransaction", "count", "create", "createIndexes", "delete",
	"drop", "dropDatabase", "dropIndexes", "endSessions", "explain", "find",
	"findAndModify", "getMore", "hello", "insert", "killCursors",
	"listCollections", "listDatabases", "listIndexes", "ping",
	"refreshSessions", "saslContinue", "saslStart", "update",
}

// TestStrictStableAPI: an application whose client asks for the Stable API
// in strict mode (options.ServerAPI(ServerAPIVersion1).SetStrict(true), as
// Atlas suggests) gets every command outside version 1 refused by MongoDB
// with APIStrictError (323). The adapter must work with such a client:
// New, EnsureIndexes and the everyday calls. The proxy refuses as MongoDB
// does, and takes the API fields off what it passes on to the embedded
// server.
func TestStrictStableAPI(t *testing.T) {
	var mu sync.Mutex
	var refused []string
	proxy := startWireProxy(t)
	proxy.set(func(cmd bson.Raw) (bson.D, bool) {
		strict, _ := cmd.Lookup("apiStrict").BooleanOK()
		if name := commandName(cmd); strict && !slices.Contains(stableAPIV1, name) {
			mu.Lock()
			refused = append(refused, name)
			mu.Unlock()
			return serverError(323, "APIStrictError"), true
		}
		return nil, false
	}, nil)
	proxy.setRewrite(func(cmd bson.Raw) (bson.Raw, bool) {
		return without(cmd, "apiVersion", "apiStrict", "apiDeprecationErrors"), true
	})
	opts := options.Client().
		ApplyURI("mongodb://" + proxy.addr() + "/?directConnection=true&serverSelectionTimeoutMS=5000").
		SetServerAPIOptions(options.ServerAPI(options.ServerAPIVersion1).SetStrict(true))
	client, err := mongo.Connect(opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx)
	})

	a, err := mongoauth.New(ctx(t), scratchDatabase(t, client), mongoauth.Options{ThrottleCollection: mongoauth.DefaultThrottleCollection})
	require.NoError(t, err)
	_, err = a.EnsureIndexes(ctx(t))
	require.NoError(t, err)
	require.NoError(t, a.SetUser(ctx(t), auth.UserRecord{ID: "u"}, nil))
	require.NoError(t, a.SetSession(ctx(t), auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: future, IdleExpires: future}))
	s, u, err := a.GetSessionAndUser(ctx(t), "s")
	require.NoError(t, err)
	assert.Equal(t, "u", s.UserID)
	assert.Equal(t, "u", u.ID)
	require.NoError(t, a.DeleteUser(ctx(t), "u"))
	store, err := a.ThrottleStore()
	require.NoError(t, err)
	assert.False(t, store.UsesLocks(), "a server that enforces the Stable API is MongoDB: atomic updates")
	mu.Lock()
	defer mu.Unlock()
	t.Logf("refused, as MongoDB would: %v", refused)
}
