package mongoauth_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/mongotest"
)

// Client URIs whose concerns would break the adapter if it took them:
// unacknowledged writes hide duplicate ids; a majority read after a w:1
// write can miss it; "available" may read orphans on a sharded cluster and
// makes transactions fail.
var hostileConcerns = []string{"w=0", "readConcernLevel=majority&w=1", "readConcernLevel=available"}

// Commands that write or read documents, and so carry a concern.
var (
	writeCommands = []string{"insert", "update", "delete", "findAndModify", "createIndexes", "create"}
	readCommands  = []string{"find", "aggregate"}
)

// scratchDatabase is a fresh database reached through client, dropped
// through the shared, well-behaved client when the test ends.
func scratchDatabase(t testing.TB, client *mongo.Client) *mongo.Database {
	t.Helper()
	name := mongotest.UniqueName("t")
	t.Cleanup(func() { _ = mongotest.Shared(t).Client.Database(name).Drop(mongotest.Context(t)) })
	return client.Database(name)
}

// exerciseStandalone runs every kind of adapter call once, without
// transactions.
func exerciseStandalone(t *testing.T, a *mongoauth.Adapter) {
	t.Helper()
	c := ctx(t)
	_, err := a.EnsureIndexes(c)
	require.NoError(t, err)
	hash := "s2:salt:hash"
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "u", Attributes: map[string]any{"n": 1}},
		&auth.KeyRecord{ID: "username:u", UserID: "u", HashedPassword: &hash, PrimaryKey: true}))
	require.NoError(t, a.SetKey(c, auth.KeyRecord{ID: "otp:u", UserID: "u"}))
	require.NoError(t, a.SetSession(c, auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: future, IdleExpires: future}))
	_, _, err = a.GetSessionAndUser(c, "s")
	require.NoError(t, err)
	_, err = a.UpdateUser(c, "u", map[string]any{"n": 2})
	require.NoError(t, err)
	_, err = a.UpdateKeyPassword(c, "username:u", nil)
	require.NoError(t, err)
	require.NoError(t, a.ConsumeKey(c, "otp:u"))
	_, err = a.GetSessionsByUserID(c, "u")
	require.NoError(t, err)
	_, err = a.Check(c, mongoauth.RepairOptions{})
	require.NoError(t, err)
	_, err = a.Repair(c, mongoauth.RepairOptions{OrphanGrace: -1})
	require.NoError(t, err)
	require.NoError(t, a.DeleteSession(c, "s"))
	require.NoError(t, a.DeleteUser(c, "u"))
}

// assertWriteConcern checks that each command carries w: "majority".
func assertWriteConcern(t *testing.T, cmds []bson.Raw) {
	t.Helper()
	for _, cmd := range cmds {
		w, err := cmd.LookupErr("writeConcern", "w")
		if assert.NoError(t, err, "%s without a write concern: %s", commandName(cmd), cmd) {
			assert.Equal(t, `"majority"`, w.String(), "%s: %s", commandName(cmd), cmd)
		}
	}
}

// assertReadConcern checks that each command reads at the given level.
func assertReadConcern(t *testing.T, level string, cmds []bson.Raw) {
	t.Helper()
	for _, cmd := range cmds {
		l, err := cmd.LookupErr("readConcern", "level")
		if assert.NoError(t, err, "%s without a read concern: %s", commandName(cmd), cmd) {
			assert.Equal(t, `"`+level+`"`, l.String(), "%s: %s", commandName(cmd), cmd)
		}
	}
}

// TestConcernsWhateverTheClientSays: the adapter writes with w: "majority"
// and reads at "local", whatever the client's URI asks for.
func TestConcernsWhateverTheClientSays(t *testing.T) {
	for _, uriOptions := range hostileConcerns {
		t.Run(uriOptions, func(t *testing.T) {
			var log commandLog
			client := startWireProxy(t).client(t, uriOptions, log.monitor())
			a, err := mongoauth.New(ctx(t), scratchDatabase(t, client), mongoauth.Options{Transactions: mongoauth.TransactionsOff})
			require.NoError(t, err)
			exerciseStandalone(t, a)

			writes, reads := log.named(writeCommands...), log.named(readCommands...)
			for _, name := range []string{"insert", "delete", "findAndModify", "createIndexes", "find", "aggregate"} {
				if name == "aggregate" && !a.UsesLookup() {
					continue
				}
				assert.NotEmpty(t, log.named(name), "the exercise sends %s", name)
			}
			assertWriteConcern(t, writes)
			assertReadConcern(t, "local", reads)
		})
	}
}

// TestTransactionConcernsWhateverTheClientSays runs the transactional
// paths against a server that commits (the proxy answers for it) and checks
// what the driver sends: snapshot reads on the transaction's first
// statement, no concern on the others, w: "majority" on the commit, and the
// adapter's own concerns outside the transaction (DeleteUser's sessions,
// found and deleted after the commit).
func TestTransactionConcernsWhateverTheClientSays(t *testing.T) {
	for _, uriOptions := range hostileConcerns {
		t.Run(uriOptions, func(t *testing.T) {
			var log commandLog
			proxy := startWireProxy(t)
			proxy.set(commitsTransactions, asReplicaSet)
			client := proxy.client(t, uriOptions, log.monitor())
			a, err := mongoauth.New(ctx(t), scratchDatabase(t, client), mongoauth.Options{})
			require.NoError(t, err)
			require.True(t, a.UsesTransactions(), "the proxy makes the server a replica set that commits")
			log.reset()

			c := ctx(t)
			require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "u"}, &auth.KeyRecord{ID: "username:u", UserID: "u", PrimaryKey: true}))
			require.NoError(t, a.DeleteUser(c, "u"))

			var statements, outsideWrites, outsideReads []bson.Raw
			for _, cmd := range log.named(append(writeCommands, readCommands...)...) {
				switch {
				case inTransaction(cmd):
					statements = append(statements, cmd)
				case slices.Contains(readCommands, commandName(cmd)):
					outsideReads = append(outsideReads, cmd)
				default:
					outsideWrites = append(outsideWrites, cmd)
				}
			}
			commits := log.named("commitTransaction")
			require.Len(t, commits, 2, "SetUser and DeleteUser each commit once")
			assertWriteConcern(t, commits)
			require.NotEmpty(t, statements)
			for _, cmd := range statements {
				_, hasWC := cmd.LookupErr("writeConcern")
				assert.Error(t, hasWC, "a statement inside a transaction carries no write concern: %s", cmd)
				if _, starts := cmd.LookupErr("startTransaction"); starts == nil {
					assertReadConcern(t, "snapshot", []bson.Raw{cmd})
				} else {
					_, hasRC := cmd.LookupErr("readConcern")
					assert.Error(t, hasRC, "only the first statement carries the read concern: %s", cmd)
				}
			}
			require.NotEmpty(t, outsideWrites, "DeleteUser's pass after the commit")
			assertWriteConcern(t, outsideWrites)
			require.NotEmpty(t, outsideReads, "the sessions' ids, found after the commit")
			assertReadConcern(t, "local", outsideReads)
		})
	}
}

// TestUnacknowledgedClientStillDetectsDuplicates: with w=0 in the client's
// URI, a taken user id or key id is still reported, and the user whose key
// was taken is not left behind.
func TestUnacknowledgedClientStillDetectsDuplicates(t *testing.T) {
	client := startWireProxy(t).client(t, "w=0", nil)
	db := scratchDatabase(t, client)
	a, err := mongoauth.New(ctx(t), db, mongoauth.Options{})
	require.NoError(t, err)
	_, err = a.EnsureIndexes(ctx(t))
	require.NoError(t, err)
	c := ctx(t)
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "ann"}, &auth.KeyRecord{ID: "username:ann", UserID: "ann", PrimaryKey: true}))
	err = a.SetUser(c, auth.UserRecord{ID: "bob"}, &auth.KeyRecord{ID: "username:ann", UserID: "bob", PrimaryKey: true})
	require.ErrorIs(t, err, auth.ErrDuplicateKeyID)
	require.ErrorIs(t, a.SetUser(c, auth.UserRecord{ID: "ann"}, nil), auth.ErrDuplicateUserID)

	n, err := mongotest.Shared(t).Client.Database(db.Name()).Collection(mongoauth.DefaultUserCollection).CountDocuments(c, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "only ann")
}

// TestWriteConcernOption: Options.WriteConcern replaces the default for
// every write; an unacknowledged one is refused.
func TestWriteConcernOption(t *testing.T) {
	var log commandLog
	client := startWireProxy(t).client(t, "w=majority", log.monitor())
	db := scratchDatabase(t, client)
	_, err := mongoauth.New(ctx(t), db, mongoauth.Options{WriteConcern: writeconcern.Unacknowledged()})
	require.ErrorContains(t, err, "mongoauth: Options.WriteConcern must be acknowledged")

	a, err := mongoauth.New(ctx(t), db, mongoauth.Options{WriteConcern: writeconcern.W1(), Transactions: mongoauth.TransactionsOff})
	require.NoError(t, err)
	require.NoError(t, a.SetUser(ctx(t), auth.UserRecord{ID: "u"}, &auth.KeyRecord{ID: "k", UserID: "u", PrimaryKey: true}))
	writes := log.named(writeCommands...)
	require.Len(t, writes, 2)
	for _, cmd := range writes {
		assert.Equal(t, int32(1), cmd.Lookup("writeConcern", "w").Int32(), "%s", cmd)
	}
}
