package mongoauth_test

import (
	"strings"
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
	"github.com/luciago/mongoauth/auth/adaptertest"
	"github.com/luciago/mongoauth/mongotest"
)

// The replies of FerretDB v2 over Microsoft's DocumentDB extension (the
// engine of Azure Cosmos DB for MongoDB vCore), which cannot run here,
// replayed by the proxy over the embedded FerretDB v1.

// DocumentDB's duplicate-key replies carry no keyPattern. An insert is
// refused with code 11000 and the index's name in the message; an update
// with an InternalError naming the PostgreSQL constraint behind the index.
const (
	documentDBInsertDuplicate = "Duplicate key violation on the requested collection: Index '%s'"
	documentDBUpdateDuplicate = `conflicting key value violates exclusion constraint "documents_rum_index_985"`
)

// documentDBDuplicates rewrites the embedded server's duplicate-key replies
// into DocumentDB's. An insert's names the index that refused it: _id_ when
// a document with the inserted _id exists, the collection's other unique
// index otherwise.
func documentDBDuplicates(t *testing.T) func(request []byte, reply bson.D) bson.D {
	direct := mongotest.Shared(t).Client
	return func(request []byte, reply bson.D) bson.D {
		cmd, _ := opMsgBody(request)
		db, _ := cmd.Lookup("$db").StringValueOK()
		switch name := commandName(cmd); name {
		case "insert":
			coll := direct.Database(db).Collection(cmd.Lookup("insert").StringValue())
			docs := opMsgSequence(request, "documents")
			for i, e := range reply {
				if e.Key != "writeErrors" {
					continue
				}
				errs, _ := e.Value.(bson.A)
				for j, we := range errs {
					d, _ := we.(bson.D)
					index, _ := lookupD(d, "index").(int32)
					if code, _ := lookupD(d, "code").(int32); code != 11000 || int(index) >= len(docs) {
						continue
					}
					errs[j] = setField(removeField(d, "keyPattern"), "errmsg", strings.Replace(documentDBInsertDuplicate, "%s", indexRefusing(t, coll, docs[index]), 1))
				}
				reply[i].Value = errs
			}
		case "findAndModify", "update":
			if code, _ := lookupD(reply, "code").(int32); code == 1 && strings.Contains(lookupD(reply, "errmsg").(string), "UNIQUE constraint failed") {
				reply = setField(reply, "errmsg", documentDBUpdateDuplicate)
			}
		}
		return reply
	}
}

func lookupD(d bson.D, key string) any {
	for _, e := range d {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

// indexRefusing names the index that refused doc in coll, as DocumentDB
// would: _id_ if its _id is taken, else the other unique index.
func indexRefusing(t *testing.T, coll *mongo.Collection, doc bson.Raw) string {
	if coll.FindOne(ctx(t), bson.D{{Key: "_id", Value: doc.Lookup("_id")}}).Err() == nil {
		return "_id_"
	}
	specs, err := coll.Indexes().ListSpecifications(ctx(t))
	require.NoError(t, err)
	for _, s := range specs {
		if s.Unique != nil && *s.Unique && s.Name != "_id_" {
			return s.Name
		}
	}
	return "_id_"
}

// likeDocumentDB makes the proxy answer as DocumentDB does, for what the
// tests need of it: its duplicate-key replies.
func likeDocumentDB(t *testing.T, p *wireProxy) { p.setReply(documentDBDuplicates(t)) }

// TestDuplicatesOnDocumentDB: DocumentDB's replies, with the index's name
// or no name at all, still become a *auth.DuplicateValueError naming the
// index and its fields, and a taken id still a taken id.
func TestDuplicatesOnDocumentDB(t *testing.T) {
	proxy := startWireProxy(t)
	likeDocumentDB(t, proxy)
	db := scratchDatabase(t, proxy.client(t, "", nil))
	a, err := mongoauth.New(ctx(t), db, mongoauth.Options{})
	require.NoError(t, err)
	_, err = a.EnsureIndexes(ctx(t))
	require.NoError(t, err)
	_, err = db.Collection(mongoauth.DefaultUserCollection).Indexes().CreateOne(ctx(t), mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	c := ctx(t)
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "ann", Attributes: map[string]any{"email": "ann@example.com"}}, nil))
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "bob", Attributes: map[string]any{"email": "bob@example.com"}}, nil))

	requireEmailIndex := func(err error, message string) {
		t.Helper()
		var dup *auth.DuplicateValueError
		require.ErrorAs(t, err, &dup)
		assert.Equal(t, "email_1", dup.Index)
		assert.Equal(t, []string{"email"}, dup.Fields)
		assert.NotErrorIs(t, err, auth.ErrDuplicateUserID)
		assert.ErrorContains(t, dup.Err, message, "the server's reply, as DocumentDB words it")
		assert.NotContains(t, err.Error(), "ann@example.com", "the value stays out of the message")
	}
	err = a.SetUser(c, auth.UserRecord{ID: "eve", Attributes: map[string]any{"email": "ann@example.com"}}, nil)
	requireEmailIndex(err, "Duplicate key violation on the requested collection: Index 'email_1'")
	err = a.SetUser(c, auth.UserRecord{ID: "ann", Attributes: map[string]any{"email": "new@example.com"}}, nil)
	assert.ErrorIs(t, err, auth.ErrDuplicateUserID, "Index '_id_' is a taken id")

	_, err = a.UpdateUser(c, "bob", map[string]any{"email": "ann@example.com", "name": "Bob"})
	requireEmailIndex(err, documentDBUpdateDuplicate)
	bob, err := a.GetUser(c, "bob")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"email": "bob@example.com"}, bob.Attributes, "a refused update changes nothing")
	_, err = a.UpdateUser(c, "bob", map[string]any{"name": "Bob"})
	require.NoError(t, err, "an update the index does not care about")
}

// TestConformanceOnDocumentDB runs the conformance suite through
// DocumentDB's replies, its DuplicateValue group held to naming the index,
// with sessions read by its $lookup (slow as DocumentDB's: the suite runs
// the path the embedded server cannot).
func TestConformanceOnDocumentDB(t *testing.T) {
	proxy := startWireProxy(t)
	likeDocumentDB(t, proxy)
	documentDBLookup.install(t, proxy)
	client := proxy.client(t, "", nil)
	adaptertest.Run(t, func(t *testing.T) auth.Adapter {
		db := scratchDatabase(t, client)
		a, err := mongoauth.New(ctx(t), db, mongoauth.Options{ReadPath: mongoauth.ReadPathLookup})
		require.NoError(t, err)
		_, err = a.EnsureIndexes(ctx(t))
		require.NoError(t, err)
		return withUniqueAttributes{a, db}
	})
}

// lookupEngine answers the adapter's $lookup aggregations for the embedded
// server, which has no $lookup, by joining with two finds of its own, and
// times them as an engine does: the reply comes after reply, the connection
// stays busy for after it. An aggregate whose $match finds no session runs
// no $lookup and costs neither (the issue measured DocumentDB's cost on
// joins; a calibration of ids no document has never sees it). Finds reach
// the server, their connection busy for findAfter after each.
type lookupEngine struct {
	reply, after, findAfter time.Duration
}

// DocumentDB's: an aggregate with $lookup answers in about 5 ms and keeps
// its connection busy some 50 ms more (55–61 ms per aggregate, one after
// the other); two finds take about 1–2.5 ms.
var documentDBLookup = lookupEngine{reply: 5 * time.Millisecond, after: 50 * time.Millisecond}

// An engine whose aggregate costs what a find does (MongoDB's, near
// enough), here against finds that keep their connection busy 15 ms each:
// a margin of 30 ms per read between the paths, wide enough that a loaded
// machine's noise in the embedded server's own finds (10 ms and more under
// the race detector, with other packages' tests beside) cannot reverse it.
var fastLookup = lookupEngine{findAfter: 15 * time.Millisecond}

// install makes the proxy run the engine's $lookup, over the server that
// t's shared client reaches.
func (e lookupEngine) install(t testing.TB, p *wireProxy) {
	direct := mongotest.Shared(t).Client
	var joined sync.Map // string(cmd) of an aggregate answered → whether its $match found a session
	p.set(func(cmd bson.Raw) (bson.D, bool) {
		if commandName(cmd) != "aggregate" {
			return nil, false
		}
		reply, found := joinLookup(t, direct, cmd)
		joined.Store(string(cmd), found)
		if found {
			time.Sleep(e.reply)
		}
		return reply, true
	}, nil)
	p.setBusy(func(cmd bson.Raw) time.Duration {
		switch commandName(cmd) {
		case "aggregate":
			if found, ok := joined.LoadAndDelete(string(cmd)); ok && !found.(bool) {
				return 0
			}
			return e.after
		case "find":
			return e.findAfter
		}
		return 0
	})
}

// joinLookup runs the adapter's pipeline, {$match: {_id}} then {$lookup},
// with two finds, and reports whether the $match found a session.
func joinLookup(t testing.TB, client *mongo.Client, cmd bson.Raw) (bson.D, bool) {
	db := client.Database(cmd.Lookup("$db").StringValue())
	coll := cmd.Lookup("aggregate").StringValue()
	stages, _ := cmd.Lookup("pipeline").Array().Values()
	match := stages[0].Document().Lookup("$match").Document()
	lookup := stages[1].Document().Lookup("$lookup").Document()
	ns := db.Name() + "." + coll
	reply := func(docs ...any) bson.D {
		return bson.D{{Key: "cursor", Value: bson.D{{Key: "firstBatch", Value: append(bson.A{}, docs...)}, {Key: "id", Value: int64(0)}, {Key: "ns", Value: ns}}}, {Key: "ok", Value: 1.0}}
	}
	session, err := db.Collection(coll).FindOne(ctx(t), match).Raw()
	if err != nil {
		return reply(), false
	}
	var joined bson.D
	require.NoError(t, bson.Unmarshal(session, &joined))
	users := bson.A{}
	local := session.Lookup(lookup.Lookup("localField").StringValue())
	foreign := lookup.Lookup("foreignField").StringValue()
	if user, err := db.Collection(lookup.Lookup("from").StringValue()).FindOne(ctx(t), bson.D{{Key: foreign, Value: local}}).Raw(); err == nil {
		users = append(users, user)
	}
	return reply(append(joined, bson.E{Key: lookup.Lookup("as").StringValue(), Value: users})), true
}
