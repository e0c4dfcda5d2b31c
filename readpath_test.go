package mongoauth_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
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

// answerAggregate answers every aggregate of the adapter with reply.
func answerAggregate(reply func(cmd bson.Raw) bson.D) func(bson.Raw) (bson.D, bool) {
	return func(cmd bson.Raw) (bson.D, bool) {
		if commandName(cmd) != "aggregate" {
			return nil, false
		}
		return reply(cmd), true
	}
}

func constant(reply bson.D) func(bson.Raw) bson.D { return func(bson.Raw) bson.D { return reply } }

// TestLookupProbe: only a server that does not know the stage (or, before
// MongoDB 5.1, a sharded users collection) makes New read with two finds;
// any other error from the probe fails New. The driver retries the
// transient ones (an election, a shutdown) within New's deadline.
func TestLookupProbe(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply func(bson.Raw) bson.D // nil: the server's own answer
		// fallback: auto reads twice, its reason containing these;
		// otherwise New fails in auto and in lookup mode.
		fallback []string
		code     int
		// retried: the driver retries until New's deadline.
		retried bool
	}{
		{name: "MongoDB without the stage", reply: constant(serverError(40324, "Location40324")),
			fallback: []string{"the server cannot run $lookup", "Location40324"}, code: 40324},
		{name: "sharded users collection before MongoDB 5.1", reply: constant(serverError(28769, "Location28769")),
			fallback: []string{"sharded", "5.1"}, code: 28769},
		{name: "election", reply: constant(serverError(10107, "NotWritablePrimary")), code: 10107, retried: true},
		{name: "shutdown", reply: constant(serverError(91, "ShutdownInProgress")), code: 91, retried: true},
		{name: "unauthorized", reply: constant(serverError(13, "Unauthorized")), code: 13},
		{name: "server time limit", reply: constant(serverError(50, "MaxTimeMSExpired")), code: 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := startWireProxy(t)
			proxy.set(answerAggregate(tc.reply), nil)
			db := scratchDatabase(t, proxy.client(t, "", nil))
			newAdapter := func(opts mongoauth.Options) (*mongoauth.Adapter, error) {
				c := ctx(t)
				if tc.retried {
					var cancel context.CancelFunc
					c, cancel = context.WithTimeout(c, time.Second)
					defer cancel()
				}
				return mongoauth.New(c, db, opts)
			}
			auto, autoErr := newAdapter(mongoauth.Options{})
			_, lookupErr := newAdapter(mongoauth.Options{ReadPath: mongoauth.ReadPathLookup})
			var capability *mongoauth.CapabilityError
			if tc.fallback != nil {
				require.NoError(t, autoErr)
				assert.Equal(t, mongoauth.ReadPathTwoReads, auto.ReadPath())
				assert.False(t, auto.UsesLookup())
				for _, want := range tc.fallback {
					assert.Contains(t, auto.ReadPathReason(), want)
				}
				require.ErrorAs(t, lookupErr, &capability)
				assert.ErrorIs(t, lookupErr, mongoauth.ErrNoLookup)
				assert.Equal(t, "$lookup", capability.Capability)
			} else {
				for _, err := range []error{autoErr, lookupErr} {
					require.Error(t, err)
					assert.False(t, errors.As(err, &capability), "%v", err)
					assert.ErrorContains(t, err, "mongoauth: probe $lookup")
				}
			}
			if tc.retried && errors.Is(lookupErr, context.DeadlineExceeded) {
				return // retried to the end; else the last attempt's error follows
			}
			var se mongo.ServerError
			require.ErrorAs(t, lookupErr, &se)
			assert.True(t, se.HasErrorCode(tc.code), "%v", lookupErr)
		})
	}
}

// TestLookupProbeOutlastsAnElection: the probe's retries carry New over
// an election that ends within its deadline.
func TestLookupProbeOutlastsAnElection(t *testing.T) {
	proxy := startWireProxy(t)
	var failures atomic.Int32
	proxy.set(answerAggregate(func(cmd bson.Raw) bson.D {
		if failures.Add(1) <= 3 {
			return serverError(10107, "NotWritablePrimary")
		}
		return emptyCursor(cmd)
	}), nil)
	a, err := mongoauth.New(ctx(t), scratchDatabase(t, proxy.client(t, "", nil)), mongoauth.Options{ReadPath: mongoauth.ReadPathLookup})
	require.NoError(t, err)
	assert.True(t, a.UsesLookup())
	assert.Greater(t, failures.Load(), int32(3))
}

// TestLookupProbeOnTheEmbeddedServer: FerretDB v1 answers $lookup with
// NotImplemented.
func TestLookupProbeOnTheEmbeddedServer(t *testing.T) {
	skipUnlessFerretDB(t)
	db := mongotest.Database(t)
	a, err := mongoauth.New(ctx(t), db, mongoauth.Options{})
	require.NoError(t, err)
	assert.Equal(t, mongoauth.ReadPathTwoReads, a.ReadPath())
	assert.Contains(t, a.ReadPathReason(), "NotImplemented")
	_, err = mongoauth.New(ctx(t), db, mongoauth.Options{ReadPath: mongoauth.ReadPathLookup})
	require.ErrorIs(t, err, mongoauth.ErrNoLookup)
}

// TestLookupProbeHonoursTheDeadline: a probe the server does not answer
// fails New by its deadline.
func TestLookupProbeHonoursTheDeadline(t *testing.T) {
	proxy := startWireProxy(t)
	proxy.set(answerAggregate(func(cmd bson.Raw) bson.D { time.Sleep(2 * time.Second); return emptyCursor(cmd) }), nil)
	assertNewFailsByItsDeadline(t, scratchDatabase(t, proxy.client(t, "", nil)))
}

// TestReadPathOption: each path is taken as asked, and auto calibrates
// where $lookup works (the proxy answers the aggregates for the embedded
// server, which has no $lookup).
func TestReadPathOption(t *testing.T) {
	var log commandLog
	proxy := startWireProxy(t)
	proxy.set(answerAggregate(emptyCursor), nil)
	db := scratchDatabase(t, proxy.client(t, "", log.monitor()))

	twice, err := mongoauth.New(ctx(t), db, mongoauth.Options{ReadPath: mongoauth.ReadPathTwoReads})
	require.NoError(t, err)
	assert.Empty(t, log.named("aggregate"), "no probe when two reads are asked for")
	assert.Equal(t, "two reads", twice.ReadPath().String())
	assert.Contains(t, twice.ReadPathReason(), "Options.ReadPath")

	lookup, err := mongoauth.New(ctx(t), db, mongoauth.Options{ReadPath: mongoauth.ReadPathLookup})
	require.NoError(t, err)
	assert.True(t, lookup.UsesLookup())
	assert.Equal(t, "$lookup", lookup.ReadPath().String())
	log.reset()
	_, _, err = lookup.GetSessionAndUser(ctx(t), "s")
	require.ErrorIs(t, err, auth.ErrNotFound)
	assert.Len(t, log.named("aggregate"), 1)
	assert.Empty(t, log.named("find"))

	log.reset()
	auto, err := mongoauth.New(ctx(t), db, mongoauth.Options{})
	require.NoError(t, err)
	assert.Contains(t, auto.ReadPathReason(), "calibrated")
	assert.GreaterOrEqual(t, len(log.named("aggregate")), 4, "a warm-up and at least three rounds")

	_, err = mongoauth.New(ctx(t), db, mongoauth.Options{ReadPath: 7})
	require.ErrorContains(t, err, "mongoauth: unknown read path 7")
}

// TestLookupFromShardedUsersFallsBack: if the users collection is sharded
// after New chose $lookup, on a server before 5.1, the read still works,
// with two finds from then on.
func TestLookupFromShardedUsersFallsBack(t *testing.T) {
	proxy := startWireProxy(t)
	proxy.set(answerAggregate(emptyCursor), nil)
	a, err := mongoauth.New(ctx(t), scratchDatabase(t, proxy.client(t, "", nil)), mongoauth.Options{ReadPath: mongoauth.ReadPathLookup})
	require.NoError(t, err)
	require.True(t, a.UsesLookup())
	_, err = a.EnsureIndexes(ctx(t))
	require.NoError(t, err)
	require.NoError(t, a.SetUser(ctx(t), auth.UserRecord{ID: "u"}, nil))
	require.NoError(t, a.SetSession(ctx(t), auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: future, IdleExpires: future}))

	proxy.set(answerAggregate(constant(serverError(28769, "Location28769"))), nil)
	s, u, err := a.GetSessionAndUser(ctx(t), "s")
	require.NoError(t, err)
	assert.Equal(t, "u", s.UserID)
	assert.Equal(t, "u", u.ID)
	assert.Equal(t, mongoauth.ReadPathTwoReads, a.ReadPath())
	assert.Contains(t, a.ReadPathReason(), "sharded")
}

// autoEngines are the engines the wire proxy plays, with the path
// ReadPathAuto must end on for each.
var autoEngines = []struct {
	name   string
	engine lookupEngine
	want   mongoauth.ReadPath
}{
	{"DocumentDB: the aggregate's connection stays busy 50 ms", documentDBLookup, mongoauth.ReadPathTwoReads},
	{"a fast aggregate", fastLookup, mongoauth.ReadPathLookup},
}

// autoOnFreshDatabase runs New with ReadPathAuto on an empty database
// behind a proxy playing engine, logging commands to log, then stores user
// "u" and its session "s".
func autoOnFreshDatabase(t *testing.T, engine lookupEngine, log *commandLog) *mongoauth.Adapter {
	t.Helper()
	proxy := startWireProxy(t)
	engine.install(t, proxy)
	db := scratchDatabase(t, proxy.client(t, "", log.monitor()))
	a, err := mongoauth.New(ctx(t), db, mongoauth.Options{})
	require.NoError(t, err)
	t.Logf("New: %s", a.ReadPathReason())
	// What New chose says little: a $lookup of ids no document has joins
	// nothing, and DocumentDB's then costs nothing.
	require.Contains(t, a.ReadPathReason(), "of ids no document has")
	_, err = a.EnsureIndexes(ctx(t))
	require.NoError(t, err)
	require.NoError(t, a.SetUser(ctx(t), auth.UserRecord{ID: "u"}, nil))
	require.NoError(t, a.SetSession(ctx(t), auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: future, IdleExpires: future}))
	return a
}

// TestReadPathAutoRecalibratesOnTheFirstStoredSession: on an empty database
// New can only time ids no document has, so it may keep $lookup on
// DocumentDB. The first read of a stored session then times both paths
// again on that session, once and beside the read, so that a fresh
// deployment ends on the path its requests feel faster without anyone
// calling Recalibrate.
func TestReadPathAutoRecalibratesOnTheFirstStoredSession(t *testing.T) {
	for _, tc := range autoEngines {
		t.Run(tc.name, func(t *testing.T) {
			var log commandLog
			a := autoOnFreshDatabase(t, tc.engine, &log)
			s, u, err := a.GetSessionAndUser(ctx(t), "s")
			require.NoError(t, err)
			assert.Equal(t, "s", s.ID)
			assert.Equal(t, "u", u.ID)
			// The timing runs beside the read, which does not wait for it.
			require.Eventually(t, func() bool { return strings.Contains(a.ReadPathReason(), "of a stored session") }, 10*time.Second, 10*time.Millisecond,
				"the first stored read timed the paths again: %s", a.ReadPathReason())
			t.Logf("after the first stored read: %s", a.ReadPathReason())
			if tc.engine.after > 0 {
				// A margin of 50 ms a read, beyond a loaded machine's noise
				// (the fast engine's 30 ms is TestReadPathAutoOnEngines').
				assert.Equal(t, tc.want, a.ReadPath(), a.ReadPathReason())
			}

			// Once: later reads time nothing.
			log.reset()
			for range 3 {
				_, _, err := a.GetSessionAndUser(ctx(t), "s")
				require.NoError(t, err)
			}
			want := map[mongoauth.ReadPath]int{mongoauth.ReadPathLookup: 3, mongoauth.ReadPathTwoReads: 6}[a.ReadPath()]
			assert.Len(t, log.named("aggregate", "find"), want, "three reads along %s", a.ReadPath())
		})
	}
}

// TestReadPathAutoOnEngines: ReadPathAuto times the paths as requests feel
// them. On DocumentDB, whose $lookup aggregate keeps its connection busy
// 50 ms after its reply, it reads with two finds; where the aggregate is
// fast it keeps $lookup. On an empty database New times ids no document
// has; Recalibrate, once a session is stored, times that session and its
// user (as the first read of it does by itself).
func TestReadPathAutoOnEngines(t *testing.T) {
	for _, tc := range autoEngines {
		t.Run(tc.name, func(t *testing.T) {
			var log commandLog
			a := autoOnFreshDatabase(t, tc.engine, &log)
			log.reset()
			c, err := a.Recalibrate(ctx(t))
			require.NoError(t, err)
			t.Logf("Recalibrate: %s", c.Reason)
			assert.Equal(t, tc.want, c.Path)
			assert.True(t, c.Stored)
			assert.GreaterOrEqual(t, c.Samples, 3)
			assert.Equal(t, tc.want, a.ReadPath())
			assert.Equal(t, c.Reason, a.ReadPathReason())
			assert.Contains(t, c.Reason, "of a stored session")
			if tc.engine.after > 0 {
				assert.GreaterOrEqual(t, c.Lookup, tc.engine.after, "each aggregate waited for the one before it")
			}

			// It read the stored session and its user, along each path as a
			// request does.
			aggregates := log.named("aggregate")
			require.Greater(t, len(aggregates), c.Samples)
			for _, cmd := range aggregates[1:] { // the first is the probe
				assert.Equal(t, "s", cmd.Lookup("pipeline").Array().Index(0).Document().Lookup("$match", "_id").StringValue())
			}
			var sessionFinds, userFinds int
			for _, cmd := range log.named("find") {
				switch cmd.Lookup("find").StringValue() {
				case mongoauth.DefaultSessionCollection:
					if id, _ := cmd.Lookup("filter", "_id").StringValueOK(); id == "s" {
						sessionFinds++
					}
				case mongoauth.DefaultUserCollection:
					if id, _ := cmd.Lookup("filter", "_id").StringValueOK(); id == "u" {
						userFinds++
					}
				}
			}
			assert.Greater(t, sessionFinds, c.Samples)
			assert.Equal(t, sessionFinds, userFinds, "two finds per read")
		})
	}
}

// TestRecalibrateKeepsAForcedPath: with a path forced by Options.ReadPath,
// Recalibrate reports the timings and changes nothing.
func TestRecalibrateKeepsAForcedPath(t *testing.T) {
	proxy := startWireProxy(t)
	documentDBLookup.install(t, proxy)
	db := scratchDatabase(t, proxy.client(t, "", nil))
	for _, forced := range []mongoauth.ReadPath{mongoauth.ReadPathLookup, mongoauth.ReadPathTwoReads} {
		a, err := mongoauth.New(ctx(t), db, mongoauth.Options{ReadPath: forced})
		require.NoError(t, err)
		if forced == mongoauth.ReadPathLookup { // a stored session to time, whose $lookup joins
			require.NoError(t, a.SetUser(ctx(t), auth.UserRecord{ID: "u"}, nil))
			require.NoError(t, a.SetSession(ctx(t), auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: future, IdleExpires: future}))
		}
		reason := a.ReadPathReason()
		c, err := a.Recalibrate(ctx(t))
		require.NoError(t, err)
		assert.Equal(t, mongoauth.ReadPathTwoReads, c.Path, "what the timings favour")
		assert.Positive(t, c.Lookup)
		assert.Equal(t, forced, a.ReadPath(), "the option holds")
		assert.Equal(t, reason, a.ReadPathReason())
	}
}

// TestRecalibrateWithoutLookup: where the server cannot run $lookup,
// Recalibrate times nothing and says why.
func TestRecalibrateWithoutLookup(t *testing.T) {
	skipUnlessFerretDB(t)
	a, err := mongoauth.New(ctx(t), mongotest.Database(t), mongoauth.Options{})
	require.NoError(t, err)
	c, err := a.Recalibrate(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, mongoauth.ReadPathTwoReads, c.Path)
	assert.Zero(t, c.Lookup)
	assert.Zero(t, c.Samples)
	assert.Contains(t, c.Reason, "NotImplemented")
	assert.Equal(t, mongoauth.ReadPathTwoReads, a.ReadPath())
}
