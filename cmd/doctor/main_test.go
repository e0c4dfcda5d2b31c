package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/mongotest"
)

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m)) }

// doctorRun runs the command in-process against the shared test server.
func doctorRun(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	uri := mongotest.Shared(t).URI
	env := func(name string) string {
		if name == "MONGODB_URI" {
			return uri
		}
		return ""
	}
	var out, errOut bytes.Buffer
	status = run(mongotest.Context(t), args, env, &out, &errOut)
	t.Logf("doctor %s -> %d\n%s%s", strings.Join(args, " "), status, out.String(), errOut.String())
	return status, out.String(), errOut.String()
}

func count(t *testing.T, coll *mongo.Collection) int64 {
	n, err := coll.CountDocuments(mongotest.Context(t), bson.D{})
	require.NoError(t, err)
	return n
}

func TestDoctorReportsRepairsAndExitsByWhatRemains(t *testing.T) {
	db := mongotest.Database(t)
	c := mongotest.Context(t)
	users, sessions, keys := db.Collection("people"), db.Collection("logins"), db.Collection("credentials")
	future := time.Now().Add(time.Hour).UnixMilli()
	_, err := users.InsertMany(c, []any{bson.D{{Key: "_id", Value: "ann"}}, bson.D{{Key: "_id", Value: int32(7)}}})
	require.NoError(t, err)
	_, err = sessions.InsertMany(c, []any{
		bson.D{{Key: "_id", Value: "session-of-ann"}, {Key: "user_id", Value: "ann"}, {Key: "active_expires", Value: future}, {Key: "idle_expires", Value: future}},
		bson.D{{Key: "_id", Value: "session-of-ghost"}, {Key: "user_id", Value: "ghost"}, {Key: "active_expires", Value: future}, {Key: "idle_expires", Value: future}},
		bson.D{{Key: "_id", Value: "old-session"}, {Key: "user_id", Value: "ann"}, {Key: "active_expires", Value: int64(1)}, {Key: "idle_expires", Value: int64(2)}},
	})
	require.NoError(t, err)
	_, err = keys.InsertMany(c, []any{
		bson.D{{Key: "_id", Value: "email:ann"}, {Key: "user_id", Value: "ann"}, {Key: "hashed_password", Value: nil}, {Key: "primary_key", Value: true}, {Key: "expires", Value: nil}},
		bson.D{{Key: "_id", Value: "otp:ann"}, {Key: "user_id", Value: "ann"}, {Key: "hashed_password", Value: nil}, {Key: "primary_key", Value: false}, {Key: "expires", Value: int64(2)}},
		bson.D{{Key: "_id", Value: "email:ghost"}, {Key: "user_id", Value: "ghost"}, {Key: "hashed_password", Value: nil}, {Key: "primary_key", Value: true}, {Key: "expires", Value: nil}},
	})
	require.NoError(t, err)
	_, err = keys.Indexes().CreateOne(c, mongo.IndexModel{Keys: bson.D{{Key: "primary_key", Value: 1}}, Options: options.Index().SetName("user_id_1")})
	require.NoError(t, err)
	args := []string{"-db", db.Name(), "-users", "people", "-sessions", "logins", "-keys", "credentials"}

	status, out, _ := doctorRun(t, args...)
	assert.Equal(t, exitProblems, status)
	for _, want := range []string{
		"index missing      logins.user_id_1",
		"index conflict     credentials.user_id_1: key is",
		"orphan sessions    1  e.g. sessio…", // a session id is a secret: shortened
		"orphan keys        1  e.g. email:ghost",
		"expired sessions   1  e.g. old-se…",
		"expired keys       1  e.g. otp:ann",
		`unreadable         1`,
		`cannot read user document {"$numberInt":"7"}: field "_id": want a string, have 32-bit integer`,
		"7 problems",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "session-of-ghost", "never a whole session id")
	assert.Equal(t, []int64{2, 3, 3}, []int64{count(t, users), count(t, sessions), count(t, keys)}, "without -fix nothing changes")

	status, out, _ = doctorRun(t, append(args, "-fix", "-grace", "0")...)
	assert.Equal(t, exitProblems, status, "the index conflict and the unreadable user remain")
	for _, want := range []string{
		"index created      logins.user_id_1",
		"orphan sessions    1, deleted 1",
		"orphan keys        1, deleted 1",
		"expired sessions   1, deleted 1",
		"expired keys       1, deleted 1",
		"after repair:",
		"2 problems remain",
	} {
		assert.Contains(t, out, want)
	}
	assert.Equal(t, []int64{2, 1, 1}, []int64{count(t, users), count(t, sessions), count(t, keys)})
	require.NoError(t, sessions.FindOne(c, bson.D{{Key: "_id", Value: "session-of-ann"}}).Err(), "the live session stays")
	require.NoError(t, keys.FindOne(c, bson.D{{Key: "_id", Value: "email:ann"}}).Err(), "the live key stays")

	// What doctor leaves to a person, done by hand: then all is well.
	require.NoError(t, keys.Indexes().DropOne(c, "user_id_1"))
	_, err = users.DeleteOne(c, bson.D{{Key: "_id", Value: int32(7)}})
	require.NoError(t, err)
	status, out, _ = doctorRun(t, append(args, "-fix")...)
	assert.Equal(t, exitClean, status)
	assert.Contains(t, out, "index created      credentials.user_id_1")
	assert.Contains(t, out, "no problems")
}

// store returns a database as an application leaves it: its indexes made
// (without SessionTTL) and one user.
func store(t *testing.T) *mongo.Database {
	db := mongotest.Database(t)
	c := mongotest.Context(t)
	a, err := mongoauth.New(c, db, mongoauth.Options{})
	require.NoError(t, err)
	_, err = a.EnsureIndexes(c)
	require.NoError(t, err)
	require.NoError(t, a.SetUser(c, auth.UserRecord{ID: "ann"}, nil))
	return db
}

func collectionNames(t *testing.T, db *mongo.Database) []string {
	names, err := db.ListCollectionNames(mongotest.Context(t), bson.D{})
	require.NoError(t, err)
	slices.Sort(names)
	return names
}

// layout lists the collections of db and their indexes.
func layout(t *testing.T, db *mongo.Database) map[string][]string {
	out := map[string][]string{}
	for _, name := range collectionNames(t, db) {
		indexes, err := db.Collection(name).Indexes().ListSpecifications(mongotest.Context(t))
		require.NoError(t, err)
		for _, ix := range indexes {
			out[name] = append(out[name], ix.Name)
		}
		slices.Sort(out[name])
	}
	return out
}

func TestDoctorSessionTTL(t *testing.T) {
	db := store(t)
	ferret := mongotest.Shared(t).Kind == mongotest.KindFerretDB
	before := layout(t, db)

	// Without -fix: a read-only check must already know that the server
	// has no TTL indexes, and must create nothing finding it out.
	status, out, _ := doctorRun(t, "-db", db.Name(), "-session-ttl")
	if ferret {
		assert.Equal(t, exitClean, status, "a server without TTL indexes is no problem")
		assert.Contains(t, out, "index unsupported  auth_session.expires_at_1")
		assert.Contains(t, out, "the server has no TTL indexes")
		assert.NotContains(t, out, "index missing      auth_session.expires_at_1")
	} else {
		assert.Equal(t, exitProblems, status)
		assert.Contains(t, out, "index missing      auth_session.expires_at_1", "this server has TTL indexes")
	}
	assert.Equal(t, before, layout(t, db), "the check created nothing")

	status, out, _ = doctorRun(t, "-db", db.Name(), "-session-ttl", "-fix")
	if !ferret {
		assert.Equal(t, exitClean, status)
		assert.Contains(t, out, "index created      auth_session.expires_at_1")
		return
	}
	assert.Equal(t, exitClean, status, "a server without TTL indexes is no problem")
	assert.Contains(t, out, "index unsupported  auth_session.expires_at_1")
	assert.Contains(t, out, "the server has no TTL indexes")
}

// A database that does not exist, or holds none of the three collections,
// is almost certainly a mistyped -db (or collection flag): doctor says so,
// and -fix creates nothing there.
func TestDoctorMistypedDatabase(t *testing.T) {
	server := mongotest.Shared(t).Client
	c := mongotest.Context(t)

	missing := mongotest.UniqueName("missing")
	t.Cleanup(func() { _ = server.Database(missing).Drop(context.Background()) }) // should there be one
	for _, args := range [][]string{{"-db", missing}, {"-db", missing, "-fix", "-grace", "0"}} {
		status, out, errOut := doctorRun(t, args...)
		assert.Equal(t, exitError, status, "%v", args)
		assert.Contains(t, errOut, `database "`+missing+`" does not exist, or holds none of the collections auth_user, auth_session, auth_key`)
		assert.NotContains(t, out, "index created")
	}
	names, err := server.ListDatabaseNames(c, bson.D{{Key: "name", Value: missing}})
	require.NoError(t, err)
	assert.Empty(t, names, "-fix must not create the database")

	other := mongotest.Database(t)
	_, err = other.Collection("orders").InsertOne(c, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	status, _, errOut := doctorRun(t, "-db", other.Name(), "-fix")
	assert.Equal(t, exitError, status)
	assert.Contains(t, errOut, `database "`+other.Name()+`" does not exist, or holds none of the collections auth_user, auth_session, auth_key (it has: orders)`)
	assert.Equal(t, []string{"orders"}, collectionNames(t, other), "-fix must not create collections in it")

	status, _, errOut = doctorRun(t, "-db", other.Name(), "-users", "orders")
	assert.Equal(t, exitProblems, status, "with the right flags it checks: %s", errOut)
}

// Examples must tell documents apart. Session ids are bearer secrets, so a
// session shows as its first six characters and a short SHA-256 digest of
// the whole id, which the operator can match (see mongoauth's package
// documentation).
func TestDoctorExamplesAreDistinguishable(t *testing.T) {
	db := store(t)
	c := mongotest.Context(t)
	future := time.Now().Add(time.Hour).UnixMilli()
	ids := []string{"orphan-session-one", "orphan-session-two", "orphan-session-three"}
	for _, id := range ids {
		_, err := db.Collection("auth_session").InsertOne(c, bson.D{{Key: "_id", Value: id}, {Key: "user_id", Value: "ghost"}, {Key: "active_expires", Value: future}, {Key: "idle_expires", Value: future}})
		require.NoError(t, err)
	}
	status, out, _ := doctorRun(t, "-db", db.Name())
	assert.Equal(t, exitProblems, status)
	var line string
	for l := range strings.Lines(out) {
		if strings.Contains(l, "orphan sessions") {
			line = l
		}
	}
	require.NotEmpty(t, line, out)
	for _, id := range ids {
		sum := sha256.Sum256([]byte(id))
		assert.Contains(t, line, "orphan… sha256:"+hex.EncodeToString(sum[:])[:8], "the digest of %s", id)
		assert.NotContains(t, out, id, "never a whole session id")
	}
}

func TestDoctorUsageErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	noEnv := func(string) string { return "" }
	assert.Equal(t, exitError, run(mongotest.Context(t), []string{"-db", "x"}, noEnv, &out, &errOut))
	assert.Contains(t, errOut.String(), "MONGODB_URI is not set")

	errOut.Reset()
	secret := func(string) string { return "mongodb://user:hunter2@127.0.0.1:1/" }
	assert.Equal(t, exitError, run(mongotest.Context(t), nil, secret, &out, &errOut))
	assert.Contains(t, errOut.String(), "no database")

	errOut.Reset()
	assert.Equal(t, exitError, run(mongotest.Context(t), []string{"-nonsense"}, secret, &out, &errOut))
	assert.Contains(t, errOut.String(), "flag provided but not defined")

	errOut.Reset()
	assert.Equal(t, exitError, run(mongotest.Context(t), []string{"-db", "x", "-timeout", "300ms"}, secret, &out, &errOut), "an unreachable server is an error, within -timeout")
	assert.NotContains(t, errOut.String()+out.String(), "hunter2", "the URI's password is never printed")
	assert.Empty(t, out.String())
}

// TestDoctorReportsTheAdaptersChoices: how the application's adapter would
// write and read on this server, and why.
func TestDoctorReportsTheAdaptersChoices(t *testing.T) {
	_, out, _ := doctorRun(t, "-db", store(t).Name())
	assert.Contains(t, out, "multi-document writes: ")
	assert.Contains(t, out, "session reads: ")
	if mongotest.Shared(t).Kind == mongotest.KindFerretDB {
		assert.Contains(t, out, "multi-document writes: standalone protocol (standalone server")
		assert.Contains(t, out, "session reads: two reads (the server cannot run $lookup: ")
		assert.Contains(t, out, "session reads timed again (Recalibrate): the server cannot run $lookup: ")
	} else {
		assert.Contains(t, out, "session reads timed again (Recalibrate): ")
	}
}
