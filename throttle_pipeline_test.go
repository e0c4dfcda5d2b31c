package mongoauth_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/auth/throttletest"
	"github.com/luciago/mongoauth/mongotest"
)

// The throttle store's MongoDB path, one findOneAndUpdate with an update
// pipeline, cannot run on FerretDB v1 (no pipelines). These tests put a
// wire proxy in front of it that claims to be MongoDB (buildInfo without
// ferretdbVersion) and answers the store's findAndModify commands itself,
// evaluating their pipelines as MongoDB documents the operators ($let,
// $add of a Date and a number, $max ignoring a missing field, $cond,
// $lte), one document at a time under a lock, as MongoDB applies an
// update atomically per document. So the conformance suite runs the
// pipeline the store builds, and what the driver sends is checked.

// pipelineServer holds the throttle records the proxy answers for.
type pipelineServer struct {
	t       *testing.T
	coll    string
	mu      sync.Mutex
	records map[string]bson.DateTime
}

// answer answers buildInfo as MongoDB would and findAndModify of the
// throttle collection by evaluating it.
func (s *pipelineServer) answer(cmd bson.Raw) (bson.D, bool) {
	switch commandName(cmd) {
	case "buildInfo", "buildinfo":
		return bson.D{{Key: "version", Value: "7.0.12"}, {Key: "versionArray", Value: bson.A{7, 0, 12, 0}}, {Key: "ok", Value: 1.0}}, true
	case "findAndModify":
		if coll, _ := cmd.Lookup("findAndModify").StringValueOK(); coll == s.coll {
			return s.findAndModify(cmd), true
		}
	}
	return nil, false
}

func (s *pipelineServer) findAndModify(cmd bson.Raw) bson.D {
	id, ok := cmd.Lookup("query", "_id").StringValueOK()
	if !ok || len(cmd.Lookup("query").Document().Index(0).Key()) == 0 {
		return serverError(2, "BadValue")
	}
	var pipeline bson.A
	if cmd.Lookup("update").Type != bson.TypeArray || cmd.Lookup("update").Unmarshal(&pipeline) != nil {
		s.t.Errorf("the update is not a pipeline: %s", cmd.Lookup("update"))
		return serverError(9, "FailedToParse")
	}
	upsert, _ := cmd.Lookup("upsert").BooleanOK()
	returnNew, _ := cmd.Lookup("new").BooleanOK()
	assert.False(s.t, returnNew, "the store reads the document as it was")

	s.mu.Lock()
	defer s.mu.Unlock()
	before, existed := s.records[id]
	if !existed && !upsert {
		return bson.D{{Key: "lastErrorObject", Value: bson.D{{Key: "n", Value: int32(0)}, {Key: "updatedExisting", Value: false}}}, {Key: "value", Value: nil}, {Key: "ok", Value: 1.0}}
	}
	doc := map[string]any{}
	if existed {
		doc["until"] = before
	}
	for _, stage := range pipeline {
		set := stage.(bson.D)
		require.Equal(s.t, "$set", set[0].Key, "the pipeline's stage")
		for _, field := range set[0].Value.(bson.D) {
			doc[field.Key] = s.eval(field.Value, doc, nil)
		}
	}
	switch v := doc["until"].(type) {
	case bson.DateTime:
		s.records[id] = v
	default:
		s.t.Errorf("until became %T %v", v, v)
	}
	lastError := bson.D{{Key: "n", Value: int32(1)}, {Key: "updatedExisting", Value: existed}}
	value := any(nil)
	if existed {
		value = bson.D{{Key: "_id", Value: id}, {Key: "until", Value: before}}
	} else {
		lastError = append(lastError, bson.E{Key: "upserted", Value: id})
	}
	return bson.D{{Key: "lastErrorObject", Value: lastError}, {Key: "value", Value: value}, {Key: "ok", Value: 1.0}}
}

// eval evaluates an aggregation expression of the operators the store
// uses, as MongoDB documents them.
func (s *pipelineServer) eval(expr any, doc, vars map[string]any) any {
	switch e := expr.(type) {
	case string:
		switch {
		case strings.HasPrefix(e, "$$"):
			return vars[e[2:]]
		case strings.HasPrefix(e, "$"):
			return doc[e[1:]] // nil when missing
		}
		return e
	case bson.D:
		require.Len(s.t, e, 1, "an operator document")
		op, arg := e[0].Key, e[0].Value
		args := func() []any {
			var out []any
			for _, a := range arg.(bson.A) {
				out = append(out, s.eval(a, doc, vars))
			}
			return out
		}
		switch op {
		case "$let":
			spec := arg.(bson.D)
			inner := map[string]any{}
			for k, v := range vars {
				inner[k] = v
			}
			var in any
			for _, part := range spec {
				switch part.Key {
				case "vars":
					for _, v := range part.Value.(bson.D) {
						inner[v.Key] = s.eval(v.Value, doc, vars)
					}
				case "in":
					in = part.Value
				}
			}
			return s.eval(in, doc, inner)
		case "$add": // a Date plus numbers is a Date; null if any is null
			var date *bson.DateTime
			var sum int64
			for _, v := range args() {
				switch n := v.(type) {
				case nil:
					return nil
				case bson.DateTime:
					require.Nil(s.t, date, "$add of two dates")
					date = &n
				case int64:
					sum += n
				case int32:
					sum += int64(n)
				default:
					s.t.Fatalf("$add of %T", v)
				}
			}
			if date != nil {
				return bson.DateTime(int64(*date) + sum)
			}
			return sum
		case "$max": // ignores null and missing values
			var best any
			for _, v := range args() {
				if v == nil {
					continue
				}
				if best == nil || v.(bson.DateTime) > best.(bson.DateTime) {
					best = v
				}
			}
			return best
		case "$lte":
			a := args()
			return a[0].(bson.DateTime) <= a[1].(bson.DateTime)
		case "$cond":
			a := arg.(bson.A)
			if s.eval(a[0], doc, vars).(bool) {
				return s.eval(a[1], doc, vars)
			}
			return s.eval(a[2], doc, vars)
		}
		s.t.Fatalf("operator %s", op)
	}
	return expr
}

// pipelineStores opens n adapters through a proxy that plays MongoDB's
// pipeline updates, and returns their stores; log records what they send.
func pipelineStores(t *testing.T, n int, log *commandLog) []auth.ThrottleStore {
	t.Helper()
	p := startWireProxy(t)
	srv := &pipelineServer{t: t, coll: mongoauth.DefaultThrottleCollection, records: map[string]bson.DateTime{}}
	p.set(srv.answer, nil)
	var monitor = (&commandLog{}).monitor()
	if log != nil {
		monitor = log.monitor()
	}
	db := p.client(t, "", monitor).Database(mongotest.Database(t).Name())
	return throttleStores(t, db, n)
}

// TestThrottleStorePipelineConformance runs the conformance suite on the
// pipeline path.
func TestThrottleStorePipelineConformance(t *testing.T) {
	throttletest.RunShared(t, func(t *testing.T, n int) []auth.ThrottleStore { return pipelineStores(t, n, nil) })
}

// TestThrottleStorePipelineCommands: on MongoDB every update, refused or
// not, is one findAndModify by _id, returning the document as it was; it
// upserts when it counts an attempt, never when it takes one back.
func TestThrottleStorePipelineCommands(t *testing.T) {
	log := &commandLog{}
	s := pipelineStores(t, 1, log)[0]
	c := ctx(t)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i, step := range []struct {
		cost    time.Duration
		applied bool
		upsert  bool
	}{
		{time.Minute, true, true},
		{time.Minute, true, true},
		{time.Minute, false, true}, // refused: the limit is 2 minutes
		{-time.Minute, true, false},
	} {
		n := log.count()
		until, applied, err := s.Update(c, "key:username:ann", auth.ThrottleUpdate{Now: now, Cost: step.cost, Limit: 2 * time.Minute})
		require.NoError(t, err)
		assert.Equal(t, step.applied, applied, "step %d", i)
		sent := log.since(n)
		require.Len(t, sent, 1, "step %d: one command", i)
		cmd := sent[0]
		assert.Equal(t, "findAndModify", commandName(cmd))
		assert.Equal(t, mongoauth.DefaultThrottleCollection, cmd.Lookup("findAndModify").StringValue())
		assert.Equal(t, `{"_id": "key:username:ann"}`, cmd.Lookup("query").String())
		assert.Equal(t, bson.TypeArray, cmd.Lookup("update").Type, "an update pipeline")
		upsert, _ := cmd.Lookup("upsert").BooleanOK()
		assert.Equal(t, step.upsert, upsert, "step %d: upsert", i)
		assert.False(t, cmd.Lookup("new").Boolean(), "returns the document as it was")
		want := map[int]time.Duration{0: time.Minute, 1: 2 * time.Minute, 2: 2 * time.Minute, 3: time.Minute}[i]
		assert.True(t, now.Add(want).Equal(until), "step %d: until %s", i, until)
	}
}

// TestThrottleStoreFallsBackWithoutPipelines: a server that claims atomic
// updates but refuses update pipelines as not implemented gets the lock
// documents instead, from the first update on.
func TestThrottleStoreFallsBackWithoutPipelines(t *testing.T) {
	skipUnlessFerretDB(t) // FerretDB v1 refuses pipelines itself
	p := startWireProxy(t)
	srv := &pipelineServer{t: t, coll: "another collection"}
	p.set(srv.answer, nil)
	log := &commandLog{}
	db := p.client(t, "", log.monitor()).Database(mongotest.Database(t).Name())
	s := throttleStores(t, db, 1)[0]
	c := ctx(t)
	u := auth.ThrottleUpdate{Now: time.Now().Truncate(time.Millisecond), Cost: time.Minute, Limit: time.Hour}
	for i := range 2 {
		n := log.count()
		until, applied, err := s.Update(c, "k", u)
		require.NoError(t, err)
		assert.True(t, applied)
		assert.True(t, u.Now.Add(time.Duration(i+1)*time.Minute).Equal(until))
		var names []string
		for _, cmd := range log.since(n) {
			names = append(names, commandName(cmd))
		}
		if i == 0 {
			assert.Equal(t, []string{"findAndModify", "insert", "find", "update", "delete"}, names, "refused, then locked")
		} else {
			assert.Equal(t, []string{"insert", "find", "update", "delete"}, names, "locked from then on")
		}
	}
}
