package mongoauth_test

import (
	"context"
	"os"
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

// TestMain sets MONGODB_URI to the test server's, for the examples.
func TestMain(m *testing.M) { os.Exit(mongotest.MainWithURI(m)) }

var ctx = mongotest.Context

// newAdapter returns an adapter over a fresh database with its indexes.
func newAdapter(t *testing.T, opts mongoauth.Options) (*mongoauth.Adapter, *mongo.Database) {
	t.Helper()
	db := mongotest.Database(t)
	a, err := mongoauth.New(ctx(t), db, opts)
	require.NoError(t, err)
	_, err = a.EnsureIndexes(ctx(t))
	require.NoError(t, err)
	return a, db
}

// TestConformance runs the adapter suite on every transaction path the
// server offers: with transactions where it supports them, and always
// without.
func TestConformance(t *testing.T) {
	probe, _ := newAdapter(t, mongoauth.Options{})
	t.Logf("server: %s; transactions: %v; $lookup: %v", mongotest.Shared(t).Description(), probe.UsesTransactions(), probe.UsesLookup())
	modes := []struct {
		name string
		mode mongoauth.TransactionMode
	}{{"Standalone", mongoauth.TransactionsOff}}
	if probe.UsesTransactions() {
		modes = append(modes, struct {
			name string
			mode mongoauth.TransactionMode
		}{"Transactions", mongoauth.TransactionsRequired})
	} else {
		t.Log("server has no transactions: the transactional path runs only with MONGODB_URI or Docker (a replica set)")
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			adaptertest.Run(t, func(t *testing.T) auth.Adapter {
				a, db := newAdapter(t, mongoauth.Options{Transactions: m.mode})
				return withUniqueAttributes{a, db}
			})
		})
	}
}

// withUniqueAttributes lets the conformance suite add a unique index on a
// user attribute, as applications do (adaptertest.UniqueAttributes). Every
// server the adapter supports reports the clash with the index and its
// fields: what the server does not say (FerretDB v1 names nothing, and
// answers a clash on update with an internal error), the adapter finds
// out (see insertDuplicate).
type withUniqueAttributes struct {
	*mongoauth.Adapter
	db *mongo.Database
}

// RemoveUserRecord deletes the user document alone, as a cascade stopped
// half-way would leave it (adaptertest.UserRecordRemover).
func (a withUniqueAttributes) RemoveUserRecord(ctx context.Context, userID string) error {
	_, err := a.db.Collection(mongoauth.DefaultUserCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: userID}})
	return err
}

func (a withUniqueAttributes) MakeUnique(ctx context.Context, name string) (adaptertest.UniqueLimits, error) {
	_, err := a.db.Collection(mongoauth.DefaultUserCollection).Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: name, Value: 1}}, Options: options.Index().SetUnique(true),
	})
	return adaptertest.UniqueLimits{}, err
}

func TestDocumentsFollowTheSchema(t *testing.T) {
	a, db := newAdapter(t, mongoauth.Options{})
	c := ctx(t)
	hash := "s2:salt:hex"
	expires := int64(1_700_000_000_000)
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "u1", Attributes: map[string]any{"username": "ann"}},
		&auth.KeyRecord{ID: "username:ann", UserID: "u1", HashedPassword: &hash, PrimaryKey: true}))
	require.NoError(t, a.SetKey(c, auth.KeyRecord{ID: "otp:ann", UserID: "u1", Expires: &expires}))
	require.NoError(t, a.SetSession(c, auth.SessionRecord{ID: "s1", UserID: "u1", ActiveExpires: 10, IdleExpires: 20, IssuedAt: 5}))

	raw := func(coll, id string) bson.Raw {
		doc, err := db.Collection(coll).FindOne(c, bson.D{{Key: "_id", Value: id}}).Raw()
		require.NoError(t, err)
		return doc
	}
	types := func(doc bson.Raw) map[string]bson.Type {
		elems, err := doc.Elements()
		require.NoError(t, err)
		out := map[string]bson.Type{}
		for _, e := range elems {
			out[e.Key()] = e.Value().Type
		}
		return out
	}
	assert.Equal(t, map[string]bson.Type{"_id": bson.TypeString, "username": bson.TypeString}, types(raw("auth_user", "u1")))
	assert.Equal(t, map[string]bson.Type{
		"_id": bson.TypeString, "user_id": bson.TypeString, "active_expires": bson.TypeInt64, "idle_expires": bson.TypeInt64,
		"issued_at": bson.TypeInt64,
	}, types(raw("auth_session", "s1")))
	keyTypes := map[string]bson.Type{
		"_id": bson.TypeString, "user_id": bson.TypeString, "hashed_password": bson.TypeString,
		"primary_key": bson.TypeBoolean, "expires": bson.TypeNull,
	}
	assert.Equal(t, keyTypes, types(raw("auth_key", "username:ann")))
	keyTypes["hashed_password"], keyTypes["expires"] = bson.TypeNull, bson.TypeInt64
	assert.Equal(t, keyTypes, types(raw("auth_key", "otp:ann")))
}

// Documents as Lucia v1's JavaScript adapters write them: Prisma stores
// Int64, mongoose stores doubles and adds __v.
func TestReadsDocumentsOfLuciaJSAdapters(t *testing.T) {
	a, db := newAdapter(t, mongoauth.Options{})
	c := ctx(t)
	_, err := db.Collection("auth_user").InsertOne(c, bson.D{{Key: "_id", Value: "js-user"}, {Key: "username", Value: "jo"}, {Key: "__v", Value: int32(0)}})
	require.NoError(t, err)
	_, err = db.Collection("auth_session").InsertMany(c, []any{
		bson.D{{Key: "_id", Value: "mongoose"}, {Key: "user_id", Value: "js-user"}, {Key: "active_expires", Value: 1.7e12}, {Key: "idle_expires", Value: 1.8e12}, {Key: "__v", Value: int32(0)}},
		bson.D{{Key: "_id", Value: "int32"}, {Key: "user_id", Value: "js-user"}, {Key: "active_expires", Value: int32(5)}, {Key: "idle_expires", Value: int32(6)}},
	})
	require.NoError(t, err)
	_, err = db.Collection("auth_key").InsertOne(c, bson.D{{Key: "_id", Value: "username:jo"}, {Key: "user_id", Value: "js-user"}, {Key: "primary_key", Value: true}, {Key: "__v", Value: int32(0)}})
	require.NoError(t, err)

	u, err := a.GetUser(c, "js-user")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"username": "jo"}, u.Attributes, "__v is bookkeeping")
	s, err := a.GetSession(c, "mongoose")
	require.NoError(t, err)
	assert.Equal(t, auth.SessionRecord{ID: "mongoose", UserID: "js-user", ActiveExpires: 1_700_000_000_000, IdleExpires: 1_800_000_000_000}, s)
	s, err = a.GetSession(c, "int32")
	require.NoError(t, err)
	assert.Equal(t, int64(6), s.IdleExpires)
	k, err := a.GetKey(c, "username:jo")
	require.NoError(t, err, "missing hashed_password and expires read as null")
	assert.Equal(t, auth.KeyRecord{ID: "username:jo", UserID: "js-user", PrimaryKey: true}, k)
	s, u, err = a.GetSessionAndUser(c, "mongoose")
	require.NoError(t, err)
	assert.Equal(t, "js-user", u.ID)
	assert.NotContains(t, u.Attributes, "__v")
}

func TestUnreadableDocumentsGiveDocumentErrors(t *testing.T) {
	a, db := newAdapter(t, mongoauth.Options{})
	c := ctx(t)
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "u"}, nil))
	_, err := db.Collection("auth_session").InsertMany(c, []any{
		bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "user_id", Value: "u"}, {Key: "active_expires", Value: int64(1)}, {Key: "idle_expires", Value: int64(2)}},
		bson.D{{Key: "_id", Value: "text-expiry"}, {Key: "user_id", Value: "u2"}, {Key: "active_expires", Value: "soon"}, {Key: "idle_expires", Value: int64(2)}},
		bson.D{{Key: "_id", Value: "fractional"}, {Key: "user_id", Value: "u3"}, {Key: "active_expires", Value: 1.5}, {Key: "idle_expires", Value: int64(2)}},
	})
	require.NoError(t, err)
	_, err = db.Collection("auth_key").InsertOne(c, bson.D{{Key: "_id", Value: "k"}, {Key: "user_id", Value: "u"}, {Key: "primary_key", Value: "yes"}})
	require.NoError(t, err)

	var de *mongoauth.DocumentError
	_, err = a.GetSessionsByUserID(c, "u")
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "_id", de.Field)
	_, err = a.GetSession(c, "text-expiry")
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "active_expires", de.Field)
	_, err = a.GetSession(c, "fractional")
	require.ErrorAs(t, err, &de)
	_, err = a.GetKey(c, "k")
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "primary_key", de.Field)
}

func TestOrphanSessionReadsAsNone(t *testing.T) {
	a, db := newAdapter(t, mongoauth.Options{})
	c := ctx(t)
	_, err := db.Collection("auth_session").InsertOne(c, bson.D{{Key: "_id", Value: "orphan"}, {Key: "user_id", Value: "gone"}, {Key: "active_expires", Value: int64(1)}, {Key: "idle_expires", Value: int64(2)}})
	require.NoError(t, err)
	_, _, err = a.GetSessionAndUser(c, "orphan")
	require.ErrorIs(t, err, auth.ErrNotFound)
}

func TestAttributeValuesAreNormalized(t *testing.T) {
	a, _ := newAdapter(t, mongoauth.Options{})
	c := ctx(t)
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	attrs := map[string]any{
		"small":   int32(7),
		"int":     8,
		"when":    when,
		"tags":    []string{"a", "b"},
		"profile": map[string]any{"city": "Oslo", "zip": int64(150)},
		"blob":    []byte{1, 2},
	}
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "u", Attributes: attrs}, nil))
	u, err := a.GetUser(c, "u")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"small":   int64(7),
		"int":     int64(8),
		"when":    when,
		"tags":    []any{"a", "b"},
		"profile": map[string]any{"city": "Oslo", "zip": int64(150)},
		"blob":    []byte{1, 2},
	}, u.Attributes)
}

func TestCustomCollectionNames(t *testing.T) {
	opts := mongoauth.Options{UserCollection: "people", SessionCollection: "logins", KeyCollection: "credentials"}
	a, db := newAdapter(t, opts)
	c := ctx(t)
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "u"}, &auth.KeyRecord{ID: "k", UserID: "u", PrimaryKey: true}))
	require.NoError(t, a.SetSession(c, auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: 1, IdleExpires: 2}))
	for _, name := range []string{"people", "logins", "credentials"} {
		n, err := db.Collection(name).CountDocuments(c, bson.D{})
		require.NoError(t, err)
		assert.Equal(t, int64(1), n, name)
	}
	names, err := db.ListCollectionNames(c, bson.D{})
	require.NoError(t, err)
	assert.NotContains(t, names, "auth_user")

	_, err = mongoauth.New(c, db, mongoauth.Options{UserCollection: "x", SessionCollection: "x"})
	require.Error(t, err)
}

func TestTransactionModes(t *testing.T) {
	db := mongotest.Database(t)
	c := ctx(t)
	auto, err := mongoauth.New(c, db, mongoauth.Options{})
	require.NoError(t, err)
	off, err := mongoauth.New(c, db, mongoauth.Options{Transactions: mongoauth.TransactionsOff})
	require.NoError(t, err)
	assert.False(t, off.UsesTransactions())
	required, err := mongoauth.New(c, db, mongoauth.Options{Transactions: mongoauth.TransactionsRequired})
	if auto.UsesTransactions() {
		require.NoError(t, err)
		assert.True(t, required.UsesTransactions())
	} else {
		require.ErrorIs(t, err, mongoauth.ErrNoTransactions)
	}
	_, err = mongoauth.New(c, db, mongoauth.Options{Transactions: 42})
	require.Error(t, err)
}

func TestEnsureIndexes(t *testing.T) {
	db := mongotest.Database(t)
	c := ctx(t)
	a, err := mongoauth.New(c, db, mongoauth.Options{})
	require.NoError(t, err)

	report, err := a.EnsureIndexes(c)
	require.NoError(t, err)
	assert.Equal(t, []string{"auth_session.user_id_1", "auth_key.user_id_1"}, report.Created)
	assert.Empty(t, report.Existing)

	report, err = a.EnsureIndexes(c)
	require.NoError(t, err, "idempotent")
	assert.Empty(t, report.Created)
	assert.Equal(t, []string{"auth_session.user_id_1", "auth_key.user_id_1"}, report.Existing)

	names := func(coll string) []string {
		specs, err := db.Collection(coll).Indexes().ListSpecifications(c)
		require.NoError(t, err)
		var out []string
		for _, s := range specs {
			out = append(out, s.Name)
		}
		return out
	}
	assert.ElementsMatch(t, []string{"_id_", "user_id_1"}, names("auth_session"))
	assert.ElementsMatch(t, []string{"_id_", "user_id_1"}, names("auth_key"))
}

func TestEnsureIndexesAcceptsEquivalentIndex(t *testing.T) {
	db := mongotest.Database(t)
	c := ctx(t)
	_, err := db.Collection("auth_session").Indexes().CreateOne(c, mongo.IndexModel{Keys: bson.D{{Key: "user_id", Value: 1}}, Options: options.Index().SetName("by_user")})
	require.NoError(t, err)
	a, err := mongoauth.New(c, db, mongoauth.Options{})
	require.NoError(t, err)
	report, err := a.EnsureIndexes(c)
	require.NoError(t, err)
	assert.Equal(t, []string{"auth_key.user_id_1"}, report.Created)
	assert.Equal(t, []string{"auth_session.user_id_1"}, report.Existing)
}

func TestEnsureIndexesReportsConflicts(t *testing.T) {
	for name, model := range map[string]mongo.IndexModel{
		"same name, other key": {Keys: bson.D{{Key: "idle_expires", Value: 1}}, Options: options.Index().SetName("user_id_1")},
		"unique on user_id":    {Keys: bson.D{{Key: "user_id", Value: 1}}, Options: options.Index().SetName("one_per_user").SetUnique(true)},
	} {
		t.Run(name, func(t *testing.T) {
			db := mongotest.Database(t)
			c := ctx(t)
			_, err := db.Collection("auth_key").Indexes().CreateOne(c, model)
			require.NoError(t, err)
			a, err := mongoauth.New(c, db, mongoauth.Options{})
			require.NoError(t, err)
			_, err = a.EnsureIndexes(c)
			var conflict *mongoauth.IndexConflictError
			require.ErrorAs(t, err, &conflict)
			assert.Equal(t, "auth_key", conflict.Collection)
			assert.Contains(t, err.Error(), "mongoauth: index auth_key.")
		})
	}
}
