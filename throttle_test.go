package mongoauth_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/auth/throttletest"
	"github.com/luciago/mongoauth/mongotest"
)

var throttleOptions = mongoauth.Options{ThrottleCollection: mongoauth.DefaultThrottleCollection}

// throttleStores opens n adapters on db, as n instances of an application
// would, and returns their throttle stores.
func throttleStores(t *testing.T, db *mongo.Database, n int) []auth.ThrottleStore {
	t.Helper()
	var stores []auth.ThrottleStore
	for range n {
		a, err := mongoauth.New(ctx(t), db, throttleOptions)
		require.NoError(t, err)
		s, err := a.ThrottleStore()
		require.NoError(t, err)
		stores = append(stores, s)
	}
	return stores
}

// TestThrottleStoreConformance runs the conformance suite on the test
// server: on FerretDB the store takes lock documents, on MongoDB it runs
// update pipelines; either way several adapters share the records.
func TestThrottleStoreConformance(t *testing.T) {
	throttletest.RunShared(t, func(t *testing.T, n int) []auth.ThrottleStore {
		return throttleStores(t, mongotest.Database(t), n)
	})
}

// TestThrottleStoreNeedsItsCollection: without Options.ThrottleCollection
// there is no store, and New refuses a name the other collections have.
func TestThrottleStoreNeedsItsCollection(t *testing.T) {
	a, _ := newAdapter(t, mongoauth.Options{})
	_, err := a.ThrottleStore()
	require.ErrorContains(t, err, "ThrottleCollection")
	_, err = mongoauth.New(ctx(t), mongotest.Database(t), mongoauth.Options{ThrottleCollection: mongoauth.DefaultKeyCollection})
	require.Error(t, err)
}

// TestThrottleRecordsExpire: EnsureIndexes makes the throttle collection
// and its TTL index, or reports the index unsupported (FerretDB v1); Check
// finds the healed records and stale locks, and Repair deletes them and
// nothing else.
func TestThrottleRecordsExpire(t *testing.T) {
	db := mongotest.Database(t)
	c := ctx(t)
	a, err := mongoauth.New(c, db, throttleOptions)
	require.NoError(t, err)
	report, err := a.EnsureIndexes(c)
	require.NoError(t, err)
	assert.Contains(t, append(report.Created, report.Unsupported...), "auth_throttle.until_1")
	if mongotest.Shared(t).Kind == mongotest.KindFerretDB {
		assert.Equal(t, []string{"auth_throttle.until_1"}, report.Unsupported, "no TTL indexes on FerretDB v1")
	}

	s, err := a.ThrottleStore()
	require.NoError(t, err)
	now := time.Now().Truncate(time.Millisecond)
	for _, k := range []string{"key:username:ann", "client:203.0.113.7"} {
		_, _, err := s.Update(c, k, auth.ThrottleUpdate{Now: now.Add(-time.Hour), Cost: time.Minute, Limit: time.Hour})
		require.NoError(t, err)
	}
	_, _, err = s.Update(c, "key:username:bob", auth.ThrottleUpdate{Now: now, Cost: time.Hour, Limit: time.Hour})
	require.NoError(t, err)
	coll := db.Collection(mongoauth.DefaultThrottleCollection)
	_, err = coll.InsertOne(c, bson.D{{Key: "_id", Value: "\x00lock\x00key:username:cy"}, {Key: "until", Value: bson.DateTime(now.Add(-time.Minute).UnixMilli())}})
	require.NoError(t, err)

	checked, err := a.Check(c, mongoauth.RepairOptions{Now: now})
	require.NoError(t, err)
	assert.Equal(t, 3, checked.ExpiredThrottleRecords.Found, "two healed records and a stale lock")
	assert.Equal(t, 3, checked.Problems()-len(checked.Indexes.Missing))
	for _, id := range checked.ExpiredThrottleRecords.Sample {
		assert.NotContains(t, id, "ann", "ids are not shown")
		assert.NotContains(t, id, "203.0.113.7")
	}
	repaired, err := a.Repair(c, mongoauth.RepairOptions{Now: now})
	require.NoError(t, err)
	assert.Equal(t, 3, repaired.ExpiredThrottleRecords.Deleted)
	n, err := coll.CountDocuments(c, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "bob's record holds debt and stays")
}

// TestThrottleLocks: on a server without atomic updates, an update waits
// for the record's lock and breaks one whose lease has passed.
func TestThrottleLocks(t *testing.T) {
	skipUnlessFerretDB(t)
	db := mongotest.Database(t)
	s := throttleStores(t, db, 1)[0]
	coll := db.Collection(mongoauth.DefaultThrottleCollection)
	c := ctx(t)
	u := auth.ThrottleUpdate{Now: time.Now().Truncate(time.Millisecond), Cost: time.Minute, Limit: time.Hour}

	_, err := coll.InsertOne(c, bson.D{{Key: "_id", Value: "\x00lock\x00k"}, {Key: "until", Value: bson.DateTime(time.Now().Add(time.Hour).UnixMilli())}})
	require.NoError(t, err)
	short, cancel := context.WithTimeout(c, 300*time.Millisecond)
	defer cancel()
	_, _, err = s.Update(short, "k", u)
	require.ErrorIs(t, err, context.DeadlineExceeded, "a held lock is waited for")

	var wg sync.WaitGroup
	wg.Go(func() {
		until, applied, err := s.Update(c, "k", u)
		assert.NoError(t, err)
		assert.True(t, applied)
		assert.True(t, u.Now.Add(time.Minute).Equal(until))
	})
	time.Sleep(50 * time.Millisecond)
	_, err = coll.DeleteOne(c, bson.D{{Key: "_id", Value: "\x00lock\x00k"}})
	require.NoError(t, err)
	wg.Wait()

	_, err = coll.InsertOne(c, bson.D{{Key: "_id", Value: "\x00lock\x00k"}, {Key: "until", Value: bson.DateTime(time.Now().Add(-time.Second).UnixMilli())}})
	require.NoError(t, err)
	until, applied, err := s.Update(c, "k", u)
	require.NoError(t, err, "a stale lock is broken")
	assert.True(t, applied)
	assert.True(t, u.Now.Add(2*time.Minute).Equal(until))
	n, err := coll.CountDocuments(c, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{"k", "\x00lock\x00k"}}}}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the record, and no lock left")
	n, err = coll.CountDocuments(c, bson.D{{Key: "_id", Value: bson.D{{Key: "$ne", Value: "k"}}}, {Key: "until", Value: bson.D{{Key: "$gt", Value: bson.DateTime(time.Now().Add(time.Minute).UnixMilli())}}}})
	require.NoError(t, err)
	assert.Zero(t, n, "the stale lock's breaker expires within a minute")

	_, _, err = s.Update(c, "a\x00b", u)
	require.ErrorIs(t, err, auth.ErrInvalidInput, "no key can be a lock's")
	_, _, err = s.Update(c, strings.Repeat("x", 129), u)
	require.ErrorIs(t, err, auth.ErrInvalidInput)
}

// TestThrottleStaleLockIsBrokenOnce: a burst of updates that all find a
// record's lock stale (its holder crashed) breaks it once. A waiter that
// read the stale lock must not delete the lock another waiter took since,
// nor may a holder whose lock was broken delete its successor's: either
// lets two updates run at once and one of them be lost, and the burst
// past the limit.
func TestThrottleStaleLockIsBrokenOnce(t *testing.T) {
	skipUnlessFerretDB(t)
	db := mongotest.Database(t)
	stores := throttleStores(t, db, 3)
	coll := db.Collection(mongoauth.DefaultThrottleCollection)
	c := ctx(t)
	for round := range 5 {
		key := fmt.Sprint("k", round)
		_, err := coll.InsertOne(c, bson.D{{Key: "_id", Value: "\x00lock\x00" + key}, {Key: "until", Value: bson.DateTime(time.Now().Add(-time.Second).UnixMilli())}})
		require.NoError(t, err)
		const burst, limit = 30, 7
		now := time.Now().Truncate(time.Millisecond)
		var applied atomic.Int64
		var wg sync.WaitGroup
		for i := range burst {
			wg.Go(func() {
				_, ok, err := stores[i%len(stores)].Update(c, key, auth.ThrottleUpdate{Now: now, Cost: time.Minute, Limit: limit * time.Minute})
				assert.NoError(t, err)
				if ok {
					applied.Add(1)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int64(limit), applied.Load(), "round %d: exactly the limit got through", round)
	}
}
