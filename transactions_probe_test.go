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
			names, err := mongotest.Shared(t).Client.Database(db.Name()).ListCollectionNames(ctx(t), bson.D{})
			require.NoError(t, err)
			assert.Empty(t, names, "the probe creates nothing, and leaves nothing behind")
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
