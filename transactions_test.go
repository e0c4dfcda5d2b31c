package mongoauth_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/mongotest"
)

// A replica set whose transactions commit, as the proxy presents it over
// the embedded FerretDB: each statement of a transaction runs at once,
// without the transaction's fields (as FerretDB v2 runs them), and the
// proxy answers commitTransaction and abortTransaction itself. Nothing is
// rolled back: the tests look at what the driver sends, at what the calls
// return and at the data the statements left.

// stripTransaction is the rewrite rule that runs a transaction's
// statements at once.
func stripTransaction(cmd bson.Raw) (bson.Raw, bool) {
	if !inTransaction(cmd) || commandName(cmd) == "commitTransaction" || commandName(cmd) == "abortTransaction" {
		return nil, false
	}
	return without(cmd, "startTransaction", "autocommit", "readConcern", "txnNumber"), true
}

var okReply = bson.D{{Key: "ok", Value: 1.0}}

// endsTransactions answers commitTransaction with commit's reply and
// abortTransaction with ok.
func endsTransactions(commit func(bson.Raw) bson.D) func(bson.Raw) (bson.D, bool) {
	return func(cmd bson.Raw) (bson.D, bool) {
		switch commandName(cmd) {
		case "commitTransaction":
			return commit(cmd), true
		case "abortTransaction":
			return okReply, true
		}
		return nil, false
	}
}

func committed(bson.Raw) bson.D { return okReply }

// firstOf answers with the first rule that answers.
func firstOf(rules ...func(bson.Raw) (bson.D, bool)) func(bson.Raw) (bson.D, bool) {
	return func(cmd bson.Raw) (bson.D, bool) {
		for _, rule := range rules {
			if reply, ok := rule(cmd); ok {
				return reply, true
			}
		}
		return nil, false
	}
}

// transactionalAdapter returns an adapter that uses transactions through
// the proxy, over a scratch database, with its indexes, a user "u" with
// its primary key and a session "s".
func transactionalAdapter(t *testing.T, proxy *wireProxy, log *commandLog) (*mongoauth.Adapter, *mongo.Database) {
	t.Helper()
	proxy.setRewrite(stripTransaction)
	proxy.set(endsTransactions(committed), asReplicaSet)
	var monitor *event.CommandMonitor
	if log != nil {
		monitor = log.monitor()
	}
	client := proxy.client(t, "", monitor)
	db := scratchDatabase(t, client)
	a, err := mongoauth.New(ctx(t), db, mongoauth.Options{Transactions: mongoauth.TransactionsRequired})
	require.NoError(t, err)
	_, err = a.EnsureIndexes(ctx(t))
	require.NoError(t, err)
	require.NoError(t, a.SetUser(ctx(t), auth.UserRecord{ID: "u"}, &auth.KeyRecord{ID: "username:u", UserID: "u", PrimaryKey: true}))
	require.NoError(t, a.SetSession(ctx(t), auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: future, IdleExpires: future}))
	return a, mongotest.Shared(t).Client.Database(db.Name())
}

// writeConcernTimeout is a commit's reply when a majority did not
// acknowledge it within wtimeout: the commit is applied on the primary and
// may or may not survive.
var writeConcernTimeout = bson.D{{Key: "ok", Value: 1.0}, {Key: "writeConcernError", Value: bson.D{
	{Key: "code", Value: int32(64)}, {Key: "codeName", Value: "WriteConcernFailed"},
	{Key: "errmsg", Value: "waiting for replication timed out"}, {Key: "errInfo", Value: bson.D{{Key: "wtimeout", Value: true}}},
}}}

// commitBound is how long past its deadline a call whose commit hangs may
// return: the time to notice, not to wait.
const commitBound = time.Second

// TestCommitHonoursTheDeadline: a commit the server holds, or answers with
// a write-concern timeout again and again, does not hold the call past its
// deadline. The call says that the outcome is unknown; the next read
// shows what happened (here the statements were applied: the deletion took
// effect). The commits the driver sends carry the adapter's write concern
// and the time left as maxTimeMS, and no abortTransaction follows a commit
// (it could race the commit on the server).
func TestCommitHonoursTheDeadline(t *testing.T) {
	for _, tc := range []struct {
		name   string
		commit func(stop <-chan struct{}) func(bson.Raw) bson.D
	}{
		{"commit held 6 s", func(stop <-chan struct{}) func(bson.Raw) bson.D {
			return func(bson.Raw) bson.D {
				select {
				case <-time.After(6 * time.Second):
				case <-stop:
				}
				return okReply
			}
		}},
		{"write-concern timeout", func(<-chan struct{}) func(bson.Raw) bson.D {
			return func(bson.Raw) bson.D { return writeConcernTimeout }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log commandLog
			proxy := startWireProxy(t)
			a, _ := transactionalAdapter(t, proxy, &log)
			stop := make(chan struct{})
			t.Cleanup(func() { close(stop) })
			proxy.set(endsTransactions(tc.commit(stop)), asReplicaSet)
			log.reset()

			const deadline = 300 * time.Millisecond
			c, cancel := context.WithTimeout(ctx(t), deadline)
			defer cancel()
			start := time.Now()
			result := make(chan error, 1)
			go func() { result <- a.DeleteUser(c, "u") }()
			var err error
			select {
			case err = <-result:
			case <-time.After(5 * time.Second):
				t.Fatalf("DeleteUser with a %v deadline is still running after 5 s, having sent %d commits", deadline, len(log.named("commitTransaction")))
			}
			elapsed := time.Since(start)
			commits := log.named("commitTransaction")
			t.Logf("returned after %v, %d commits sent: %v", elapsed.Round(time.Millisecond), len(commits), err)
			assert.Less(t, elapsed, deadline+commitBound)
			var unknown *mongoauth.UnknownCommitResultError
			require.ErrorAs(t, err, &unknown)
			assert.ErrorIs(t, err, mongoauth.ErrUnknownCommitResult)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.ErrorContains(t, err, "may or may not")

			require.NotEmpty(t, commits)
			assert.LessOrEqual(t, len(commits), 20, "retries back off")
			assert.Empty(t, log.named("abortTransaction"), "no abort after a commit")
			statements := slices.DeleteFunc(log.named("delete"), func(cmd bson.Raw) bool { return !inTransaction(cmd) })
			require.NotEmpty(t, statements)
			lsid, txn := statements[0].Lookup("lsid"), statements[0].Lookup("txnNumber")
			for _, commit := range commits {
				assert.Equal(t, "majority", commit.Lookup("writeConcern", "w").StringValue())
				_, err := commit.LookupErr("writeConcern", "wtimeout")
				assert.Error(t, err, "with a deadline, maxTimeMS bounds the wait, not wtimeout")
				maxTime, ok := commit.Lookup("maxTimeMS").AsInt64OK()
				assert.True(t, ok && maxTime > 0 && maxTime <= deadline.Milliseconds(), "maxTimeMS %v: the time left", commit.Lookup("maxTimeMS"))
				assert.True(t, lsid.Equal(commit.Lookup("lsid")) && txn.Equal(commit.Lookup("txnNumber")), "each commit is of the transaction that ran")
			}

			read, cancel := context.WithTimeout(ctx(t), 5*time.Second)
			defer cancel()
			_, err = a.GetUser(read, "u")
			assert.ErrorIs(t, err, auth.ErrNotFound, "the next read shows the truth: the deletion took effect")
			_, _, err = a.GetSessionAndUser(read, "s")
			assert.ErrorIs(t, err, auth.ErrNotFound, "the user's session reads as none")
		})
	}
}

// TestClientTimeoutBoundsCommits: without a deadline on the call, the
// client's timeoutMS bounds a commit the server holds (as on a replica set
// that lost its majority: the wait for a majority has no end of its own).
func TestClientTimeoutBoundsCommits(t *testing.T) {
	var log commandLog
	proxy := startWireProxy(t)
	proxy.setRewrite(stripTransaction)
	proxy.set(endsTransactions(committed), asReplicaSet)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	const timeout = 300 * time.Millisecond
	db := scratchDatabase(t, proxy.client(t, "timeoutMS=300", log.monitor()))
	a, err := mongoauth.New(ctx(t), db, mongoauth.Options{Transactions: mongoauth.TransactionsRequired})
	require.NoError(t, err)
	require.NoError(t, a.SetUser(ctx(t), auth.UserRecord{ID: "u"}, nil))
	proxy.set(endsTransactions(func(bson.Raw) bson.D {
		select {
		case <-time.After(6 * time.Second):
		case <-stop:
		}
		return okReply
	}), asReplicaSet)
	log.reset()

	start := time.Now()
	err = a.DeleteUser(context.Background(), "u") // no deadline of its own
	elapsed := time.Since(start)
	t.Logf("returned after %v: %v", elapsed.Round(time.Millisecond), err)
	assert.Less(t, elapsed, timeout+commitBound)
	assert.ErrorIs(t, err, mongoauth.ErrUnknownCommitResult)
	commits := log.named("commitTransaction")
	require.Equal(t, 1, len(commits), "a commit cut short by the client's timeout is not sent again")
	maxTime, ok := commits[0].Lookup("maxTimeMS").AsInt64OK()
	assert.True(t, ok && maxTime > 0 && maxTime <= timeout.Milliseconds(), "timeoutMS reaches the server as maxTimeMS: %v", commits[0].Lookup("maxTimeMS"))
}

// TestCommitRetriesAnUnknownResult: a commit whose result is unknown once
// is sent again, and a call that then commits succeeds.
func TestCommitRetriesAnUnknownResult(t *testing.T) {
	var log commandLog
	proxy := startWireProxy(t)
	a, direct := transactionalAdapter(t, proxy, &log)
	var commits atomic.Int32
	proxy.set(endsTransactions(func(bson.Raw) bson.D {
		if commits.Add(1) == 1 {
			return writeConcernTimeout
		}
		return okReply
	}), asReplicaSet)
	log.reset()
	require.NoError(t, a.DeleteUser(ctx(t), "u"))
	assert.Equal(t, int32(2), commits.Load())
	sent := log.named("commitTransaction")
	require.Len(t, sent, 2)
	assert.Equal(t, sent[0].Lookup("txnNumber"), sent[1].Lookup("txnNumber"), "the same transaction's commit, again")
	n, err := direct.Collection(mongoauth.DefaultSessionCollection).CountDocuments(ctx(t), bson.D{})
	require.NoError(t, err)
	assert.Zero(t, n, "the cascade ran after the commit")
}

// TestDeleteUserCascadeOutlivesTheCaller: once the user is deleted (its
// transaction committed, or its document deleted without one), the rest
// of the cascade runs to the end even if the caller's context ends
// meanwhile: here it is cancelled as the first step after the deletion is
// sent.
func TestDeleteUserCascadeOutlivesTheCaller(t *testing.T) {
	for _, mode := range []string{"standalone", "transactions"} {
		t.Run(mode, func(t *testing.T) {
			proxy := startWireProxy(t)
			var a *mongoauth.Adapter
			var direct *mongo.Database
			var deleted atomic.Bool // the user's deletion has been sent or committed
			if mode == "transactions" {
				a, direct = transactionalAdapter(t, proxy, nil)
				proxy.set(endsTransactions(func(bson.Raw) bson.D { deleted.Store(true); return okReply }), asReplicaSet)
			} else {
				db := scratchDatabase(t, proxy.client(t, "", nil))
				var err error
				a, err = mongoauth.New(ctx(t), db, mongoauth.Options{Transactions: mongoauth.TransactionsOff})
				require.NoError(t, err)
				_, err = a.EnsureIndexes(ctx(t))
				require.NoError(t, err)
				require.NoError(t, a.SetUser(ctx(t), auth.UserRecord{ID: "u"}, &auth.KeyRecord{ID: "username:u", UserID: "u", PrimaryKey: true}))
				require.NoError(t, a.SetSession(ctx(t), auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: future, IdleExpires: future}))
				direct = mongotest.Shared(t).Client.Database(db.Name())
			}
			c, cancel := context.WithCancel(ctx(t))
			defer cancel()
			var once sync.Once
			proxy.setObserve(func(cmd bson.Raw) {
				coll, _ := cmd.Lookup(commandName(cmd)).StringValueOK()
				if commandName(cmd) == "delete" && coll == mongoauth.DefaultUserCollection {
					deleted.Store(mode == "standalone")
					return
				}
				if deleted.Load() && !inTransaction(cmd) && (coll == mongoauth.DefaultSessionCollection || coll == mongoauth.DefaultKeyCollection) {
					once.Do(cancel) // the request still reaches the server
				}
			})
			require.NoError(t, a.DeleteUser(c, "u"), "the user is deleted: the call finishes its work")
			require.Error(t, c.Err(), "the caller's context was cancelled during the call")
			for _, coll := range []string{mongoauth.DefaultUserCollection, mongoauth.DefaultSessionCollection, mongoauth.DefaultKeyCollection} {
				n, err := direct.Collection(coll).CountDocuments(ctx(t), bson.D{})
				require.NoError(t, err)
				assert.Zero(t, n, coll)
			}
		})
	}
}

// sessionsOfMany stands in for the sessions of user "many" on a replica
// set: so many that deleting them in one transaction exceeds its lifetime
// (the server then answers TransactionExceededLifetimeLimitSeconds), and
// more than the embedded FerretDB deletes in reasonable time. It answers
// the finds and deletes of those sessions; the rest reaches the server.
type sessionsOfMany struct {
	mu        sync.Mutex
	remaining []string
	deletes   []int // ids per delete command
}

const manyUser = "many"

func newSessionsOfMany(n int) *sessionsOfMany {
	m := &sessionsOfMany{}
	for i := range n {
		m.remaining = append(m.remaining, fmt.Sprintf("session-of-many-%06d", i))
	}
	return m
}

func (m *sessionsOfMany) answer(cmd bson.Raw) (bson.D, bool) {
	name := commandName(cmd)
	if coll, _ := cmd.Lookup(name).StringValueOK(); coll != mongoauth.DefaultSessionCollection {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch name {
	case "find":
		if user, _ := cmd.Lookup("filter", "user_id").StringValueOK(); user != manyUser {
			return nil, false
		}
		limit := len(m.remaining)
		if l, ok := cmd.Lookup("limit").AsInt64OK(); ok && l > 0 && int(l) < limit {
			limit = int(l)
		}
		batch := bson.A{}
		for _, id := range m.remaining[:limit] {
			batch = append(batch, bson.D{{Key: "_id", Value: id}})
		}
		return bson.D{{Key: "cursor", Value: bson.D{{Key: "firstBatch", Value: batch}, {Key: "id", Value: int64(0)}, {Key: "ns", Value: "x." + mongoauth.DefaultSessionCollection}}}, {Key: "ok", Value: 1.0}}, true
	case "delete":
		deletes, _ := cmd.Lookup("deletes").ArrayOK()
		first, err := deletes.IndexErr(0)
		if err != nil {
			return nil, false
		}
		q := first.Document().Lookup("q").Document()
		if user, _ := q.Lookup("user_id").StringValueOK(); user != manyUser {
			return nil, false
		}
		if inTransaction(cmd) {
			return serverError(290, "TransactionExceededLifetimeLimitSeconds"), true
		}
		ids, ok := q.Lookup("_id", "$in").ArrayOK()
		if !ok { // all of them at once, outside a transaction
			n := len(m.remaining)
			m.remaining, m.deletes = nil, append(m.deletes, n)
			return bson.D{{Key: "n", Value: int32(n)}, {Key: "ok", Value: 1.0}}, true
		}
		values, _ := ids.Values()
		gone := map[string]bool{}
		for _, v := range values {
			gone[v.StringValue()] = true
		}
		before := len(m.remaining)
		m.remaining = slices.DeleteFunc(m.remaining, func(id string) bool { return gone[id] })
		m.deletes = append(m.deletes, len(values))
		return bson.D{{Key: "n", Value: int32(before - len(m.remaining))}, {Key: "ok", Value: 1.0}}, true
	}
	return nil, false
}

// TestDeleteUserWithManySessions: a user with 100,000 sessions is deletable
// on a replica set. The transaction deletes the user and its keys; the
// sessions follow it in batches, each one short command outside any
// transaction, so none runs into the transaction's lifetime limit (60 s on
// MongoDB, 30 s on Azure's vCore service).
func TestDeleteUserWithManySessions(t *testing.T) {
	var log commandLog
	proxy := startWireProxy(t)
	a, direct := transactionalAdapter(t, proxy, &log)
	require.NoError(t, a.SetUser(ctx(t), auth.UserRecord{ID: manyUser}, &auth.KeyRecord{ID: "username:many", UserID: manyUser, PrimaryKey: true}))
	many := newSessionsOfMany(100_000)
	proxy.set(firstOf(many.answer, endsTransactions(committed)), asReplicaSet)
	log.reset()

	require.NoError(t, a.DeleteUser(ctx(t), manyUser))
	assert.Empty(t, many.remaining, "every session deleted")
	assert.Len(t, many.deletes, 100)
	assert.LessOrEqual(t, slices.Max(many.deletes), 1000, "batches of at most 1,000")
	for _, cmd := range log.named("delete", "find") {
		coll, _ := cmd.Lookup(commandName(cmd)).StringValueOK()
		assert.False(t, coll == mongoauth.DefaultSessionCollection && inTransaction(cmd), "no sessions command in the transaction: %v", cmd)
	}
	_, err := a.GetUser(ctx(t), manyUser)
	assert.ErrorIs(t, err, auth.ErrNotFound)
	n, err := direct.Collection(mongoauth.DefaultKeyCollection).CountDocuments(ctx(t), bson.D{{Key: "user_id", Value: manyUser}})
	require.NoError(t, err)
	assert.Zero(t, n, "the keys went with the user")
}

// TestDeleteUserSessionsInBatches: the batches after the transaction, on
// real data.
func TestDeleteUserSessionsInBatches(t *testing.T) {
	var log commandLog
	proxy := startWireProxy(t)
	a, direct := transactionalAdapter(t, proxy, &log)
	sessions := make([]any, 2500)
	for i := range sessions {
		sessions[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("s-%04d", i)}, {Key: "user_id", Value: "u"}, {Key: "active_expires", Value: future}, {Key: "idle_expires", Value: future}}
	}
	_, err := direct.Collection(mongoauth.DefaultSessionCollection).InsertMany(ctx(t), sessions)
	require.NoError(t, err)
	log.reset()

	require.NoError(t, a.DeleteUser(ctx(t), "u"))
	n, err := direct.Collection(mongoauth.DefaultSessionCollection).CountDocuments(ctx(t), bson.D{})
	require.NoError(t, err)
	assert.Zero(t, n)
	var sizes []int
	for _, cmd := range log.named("delete") {
		if cmd.Lookup("delete").StringValue() != mongoauth.DefaultSessionCollection {
			continue
		}
		ids, _ := cmd.Lookup("deletes").Array().Index(0).Document().Lookup("q", "_id", "$in").ArrayOK()
		values, _ := ids.Values()
		sizes = append(sizes, len(values))
	}
	assert.Equal(t, []int{1000, 1000, 501}, sizes, "2,501 sessions (with \"s\") in batches of 1,000")
}
