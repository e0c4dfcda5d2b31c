package mongoauth_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/mongotest"
)

// fromAdapter reports whether a command is the adapter's rather than the
// driver's own monitoring (which talks to the admin database).
func fromAdapter(cmd bson.Raw) bool {
	db, _ := cmd.Lookup("$db").StringValueOK()
	return cmd != nil && db != "admin"
}

// TestNewRefusesOldServers: New checks the wire version the server reports
// and names the minimum; the driver itself refuses servers older still.
func TestNewRefusesOldServers(t *testing.T) {
	t.Run("the adapter's check", func(t *testing.T) {
		proxy := startWireProxy(t)
		proxy.set(nil, func(request bson.Raw, reply bson.D) bson.D {
			if !fromAdapter(request) {
				return reply
			}
			return setField(reply, "maxWireVersion", int32(8))
		})
		_, err := mongoauth.New(ctx(t), scratchDatabase(t, proxy.client(t, "", nil)), mongoauth.Options{})
		var old *mongoauth.ServerVersionError
		require.ErrorAs(t, err, &old)
		assert.Equal(t, mongoauth.ServerVersionError{WireVersion: 8, MinWireVersion: 9, MinVersion: "4.4"}, *old)
		assert.ErrorContains(t, err, "mongoauth: ")
		assert.ErrorContains(t, err, "MongoDB 4.4")
	})
	t.Run("the driver's check", func(t *testing.T) {
		proxy := startWireProxy(t)
		proxy.set(nil, func(_ bson.Raw, reply bson.D) bson.D { return setField(reply, "maxWireVersion", int32(7)) })
		_, err := mongoauth.New(ctx(t), scratchDatabase(t, proxy.client(t, "", nil)), mongoauth.Options{})
		require.Error(t, err)
		assert.ErrorContains(t, err, "MongoDB 4.4", "the driver's error names the minimum too")
	})
}

// TestNewWithoutHello: MongoDB 4.4.0 and 4.4.1 have no hello command; New
// asks with the legacy isMaster instead.
func TestNewWithoutHello(t *testing.T) {
	proxy := startWireProxy(t)
	var log commandLog
	proxy.set(func(cmd bson.Raw) (bson.D, bool) {
		if commandName(cmd) == "hello" && fromAdapter(cmd) {
			return serverError(59, "CommandNotFound"), true
		}
		return nil, false
	}, nil)
	a, err := mongoauth.New(ctx(t), scratchDatabase(t, proxy.client(t, "", log.monitor())), mongoauth.Options{})
	require.NoError(t, err)
	assert.Len(t, log.named("isMaster"), 1)
	assert.NotEmpty(t, a.TransactionsReason())
}

// TestEnsureIndexesCreatesTheCollections: all three collections exist
// afterwards (a transaction on a sharded cluster cannot create one), and a
// second call finds them.
func TestEnsureIndexesCreatesTheCollections(t *testing.T) {
	opts := mongoauth.Options{UserCollection: "people", SessionCollection: "logins", KeyCollection: "credentials"}
	db := mongotest.Database(t)
	a, err := mongoauth.New(ctx(t), db, opts)
	require.NoError(t, err)
	for range 2 {
		_, err = a.EnsureIndexes(ctx(t))
		require.NoError(t, err)
		names, err := db.ListCollectionNames(ctx(t), bson.D{})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"people", "logins", "credentials"}, names)
	}
}
