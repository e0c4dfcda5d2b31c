package mongoauth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/mongotest"
)

// The deployments New meets, as the proxy presents them, and what New must
// make of them in auto and in required mode.

// likeFerretDBv2 makes the server behave as FerretDB v2 on DocumentDB does:
// it advertises a replica set, applies a transaction's statements at once
// (here: FerretDB v1 runs them without the transaction fields) and answers
// commitTransaction with CommandNotFound (FerretDB v1 does so on its own).
func likeFerretDBv2(p *wireProxy) {
	p.set(nil, asReplicaSet)
	p.setRewrite(stripTransaction)
}

// failsInTransaction answers every statement of a transaction with err.
func failsInTransaction(reply bson.D) func(bson.Raw) (bson.D, bool) {
	return func(cmd bson.Raw) (bson.D, bool) { return reply, inTransaction(cmd) }
}

func TestTransactionProbe(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*wireProxy)
		// use: auto mode uses transactions; fallback: auto falls back, its
		// reason containing these; neither: New fails in both modes.
		use      bool
		fallback []string
		code     int // the server's error code New reports, if any
		// ferretDB: the case needs the embedded server's own answers.
		ferretDB bool
	}{
		{name: "replica set that commits", setup: func(p *wireProxy) { p.set(commitsTransactions, asReplicaSet) }, use: true},
		{name: "mongos that commits", setup: func(p *wireProxy) {
			p.set(commitsTransactions, func(_ bson.Raw, r bson.D) bson.D { return setField(r, "msg", "isdbgrid") })
		}, use: true},
		{name: "standalone", setup: func(*wireProxy) {}, fallback: []string{"standalone server"}, ferretDB: true},
		{name: "replica set without sessions", setup: func(p *wireProxy) {
			p.set(nil, func(req bson.Raw, r bson.D) bson.D {
				return asReplicaSet(req, removeField(r, "logicalSessionTimeoutMinutes"))
			})
		}, fallback: []string{`replica set "rs0" without sessions`}},
		{name: "FerretDB v1 claiming a replica set", setup: func(p *wireProxy) { p.set(nil, asReplicaSet) },
			fallback: []string{`replica set "rs0" advertised, but a probe transaction failed`, "commitTransaction", "CommandNotFound"}, code: 59, ferretDB: true},
		{name: "FerretDB v2", setup: likeFerretDBv2,
			fallback: []string{`replica set "rs0" advertised, but a probe transaction failed`, "commitTransaction", "CommandNotFound"}, code: 59, ferretDB: true},
		{name: "standalone mongod told to run one", setup: func(p *wireProxy) {
			p.set(failsInTransaction(serverError(20, "IllegalOperation")), asReplicaSet)
		}, fallback: []string{"IllegalOperation"}, code: 20},
		{name: "election", setup: func(p *wireProxy) {
			p.set(failsInTransaction(serverError(10107, "NotWritablePrimary", "TransientTransactionError")), asReplicaSet)
		}, code: 10107},
		{name: "shutdown", setup: func(p *wireProxy) {
			p.set(failsInTransaction(serverError(91, "ShutdownInProgress")), asReplicaSet)
		}, code: 91},
		{name: "unauthorized", setup: func(p *wireProxy) {
			p.set(failsInTransaction(serverError(13, "Unauthorized")), asReplicaSet)
		}, code: 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ferretDB {
				skipUnlessFerretDB(t)
			}
			proxy := startWireProxy(t)
			tc.setup(proxy)
			db := scratchDatabase(t, proxy.client(t, "", nil))

			auto, autoErr := mongoauth.New(ctx(t), db, mongoauth.Options{})
			required, requiredErr := mongoauth.New(ctx(t), db, mongoauth.Options{Transactions: mongoauth.TransactionsRequired})
			var capability *mongoauth.CapabilityError
			switch {
			case tc.use:
				require.NoError(t, autoErr)
				require.NoError(t, requiredErr)
				assert.True(t, auto.UsesTransactions())
				assert.True(t, required.UsesTransactions())
				assert.Contains(t, auto.TransactionsReason(), "a probe transaction committed")
			case tc.fallback != nil:
				require.NoError(t, autoErr)
				assert.False(t, auto.UsesTransactions())
				for _, want := range tc.fallback {
					assert.Contains(t, auto.TransactionsReason(), want)
				}
				require.ErrorAs(t, requiredErr, &capability)
				assert.ErrorIs(t, requiredErr, mongoauth.ErrNoTransactions)
				assert.Equal(t, "transactions", capability.Capability)
				assert.Equal(t, auto.TransactionsReason(), capability.Reason)
				assert.ErrorContains(t, requiredErr, "mongoauth: transactions required, but "+auto.TransactionsReason())
			default:
				for _, err := range []error{autoErr, requiredErr} {
					require.Error(t, err)
					assert.False(t, errors.As(err, &capability), "an error that says nothing about transactions: %v", err)
					assert.ErrorContains(t, err, "mongoauth: probe transaction")
				}
			}
			if tc.code != 0 {
				err := requiredErr
				var se mongo.ServerError
				require.ErrorAs(t, err, &se)
				assert.True(t, se.HasErrorCode(tc.code), "%v", err)
			}
			direct := mongotest.Shared(t).Client.Database(db.Name())
			names, err := direct.ListCollectionNames(ctx(t), bson.D{})
			require.NoError(t, err)
			if tc.name == "standalone" || tc.name == "replica set without sessions" {
				assert.Empty(t, names, "no probe, nothing created")
				return
			}
			assert.ElementsMatch(t, []string{mongoauth.DefaultUserCollection, mongoauth.DefaultSessionCollection, mongoauth.DefaultKeyCollection}, names,
				"before the probe New creates the three collections, and nothing else")
			for _, name := range names {
				n, err := direct.Collection(name).CountDocuments(ctx(t), bson.D{})
				require.NoError(t, err)
				assert.Zero(t, n, "the probe leaves nothing behind in %s", name)
			}
		})
	}
}

// TestTransactionProbeHonoursTheDeadline: a server that does not answer
// the probe makes New fail by its context's deadline, not fall back.
func TestTransactionProbeHonoursTheDeadline(t *testing.T) {
	proxy := startWireProxy(t)
	proxy.set(func(cmd bson.Raw) (bson.D, bool) {
		if !inTransaction(cmd) {
			return nil, false
		}
		time.Sleep(2 * time.Second)
		return commitsTransactions(cmd)
	}, asReplicaSet)
	assertNewFailsByItsDeadline(t, scratchDatabase(t, proxy.client(t, "", nil)))
}

// TestOnFerretDBv2SetUserWorks: the failure, every SetUser
// failing after its writes were applied, does not happen: New falls back to
// the standalone protocol.
func TestOnFerretDBv2SetUserWorks(t *testing.T) {
	skipUnlessFerretDB(t)
	proxy := startWireProxy(t)
	likeFerretDBv2(proxy)
	a, err := mongoauth.New(ctx(t), scratchDatabase(t, proxy.client(t, "", nil)), mongoauth.Options{})
	require.NoError(t, err)
	_, err = a.EnsureIndexes(ctx(t))
	require.NoError(t, err)
	require.NoError(t, a.SetUser(ctx(t), auth.UserRecord{ID: "u"}, &auth.KeyRecord{ID: "username:u", UserID: "u", PrimaryKey: true}))
	require.NoError(t, a.DeleteUser(ctx(t), "u"))
}

// refusesMissingCollectionsInTransactions answers a transaction's statement
// on a collection that does not exist with reply, as DocumentDB-based
// engines refuse them (a transaction there cannot create a collection, not
// even implicitly by reading it). The other statements run at once
// (stripTransaction) and commits succeed.
func refusesMissingCollectionsInTransactions(t *testing.T, p *wireProxy, reply bson.D) {
	direct := mongotest.Shared(t).Client
	p.setRewrite(stripTransaction)
	p.set(firstOf(endsTransactions(committed), func(cmd bson.Raw) (bson.D, bool) {
		if !inTransaction(cmd) {
			return nil, false
		}
		db, _ := cmd.Lookup("$db").StringValueOK()
		coll, _ := cmd.Lookup(commandName(cmd)).StringValueOK()
		names, err := direct.Database(db).ListCollectionNames(ctx(t), bson.D{{Key: "name", Value: coll}})
		if err != nil || len(names) > 0 {
			return nil, false
		}
		return reply, true
	}), asReplicaSet)
}

// TestNewOnAFreshDatabase: on an engine whose transactions cannot touch a
// collection that does not exist yet, New succeeds on an empty database and
// chooses the same transaction mode as at the next start, when the
// collections exist.
func TestNewOnAFreshDatabase(t *testing.T) {
	for name, reply := range map[string]bson.D{
		"OperationNotSupportedInTransaction": serverError(263, "OperationNotSupportedInTransaction"),
		"NamespaceNotFound":                  serverError(26, "NamespaceNotFound"),
	} {
		t.Run(name, func(t *testing.T) {
			proxy := startWireProxy(t)
			refusesMissingCollectionsInTransactions(t, proxy, reply)
			db := scratchDatabase(t, proxy.client(t, "", nil))

			first, err := mongoauth.New(ctx(t), db, mongoauth.Options{})
			require.NoError(t, err)
			assert.True(t, first.UsesTransactions(), first.TransactionsReason())
			_, err = mongoauth.New(ctx(t), db, mongoauth.Options{Transactions: mongoauth.TransactionsRequired})
			require.NoError(t, err, "the engine runs transactions")
			_, err = first.EnsureIndexes(ctx(t))
			require.NoError(t, err)
			second, err := mongoauth.New(ctx(t), db, mongoauth.Options{})
			require.NoError(t, err)
			assert.Equal(t, first.UsesTransactions(), second.UsesTransactions(), "the mode does not change between the first start and the second")
			require.NoError(t, first.SetUser(ctx(t), auth.UserRecord{ID: "u"}, &auth.KeyRecord{ID: "username:u", UserID: "u", PrimaryKey: true}))
		})
	}
}
