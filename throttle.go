package mongoauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth/auth"
)

// DefaultThrottleCollection is the usual Options.ThrottleCollection.
const DefaultThrottleCollection = "auth_throttle"

// ThrottleTTLIndex is the name of the TTL index on until that
// EnsureIndexes creates on the throttle collection.
const ThrottleTTLIndex = "until_1"

// fieldUntil holds a throttle record's Until, a BSON Date (see
// auth.ThrottleUpdate): the server's TTL monitor deletes the record once
// it has passed, when the record holds no debt any more.
const fieldUntil = "until"

// ThrottleStore is an auth.ThrottleStore over the adapter's database, so
// that every instance of an application counts the same failed logins.
// Get it from Adapter.ThrottleStore and set it as auth.Config.ThrottleStore.
//
// A record is one document, {_id: key, until: Date}. On MongoDB each
// update is one findOneAndUpdate by _id whose update is a pipeline
// (MongoDB 4.2 and later): it computes max(until, now) + cost, keeps it
// only within the limit, and upserts, all inside the server's atomic
// update of one document; it returns the document as it was, from which
// the store computes the outcome by auth.ThrottleUpdate.Apply, as the
// server did. So an attempt costs one command, a refused one too, and
// concurrent updates from any number of instances never lose one another.
//
// Records expire through the TTL index on until (ThrottleTTLIndex), which
// EnsureIndexes creates: a record is deleted once it holds no debt. Where
// the server has no TTL indexes (FerretDB v1), Repair deletes them
// (Report.ExpiredThrottleRecords): run it periodically. A record that
// lingers past until is read as healed either way.
//
// FerretDB runs an update as a read followed by a write, with no update
// pipelines, so no single command can update a record atomically there.
// On servers the adapter finds without atomic updates (see
// Adapter.ReplaceKeyPassword), the store serialises the updates of each
// record with a lock document instead: an insert of _id "\x00lock\x00" +
// key, which only one caller at a time can make (a unique _id is the one
// atomic check FerretDB has), then a find, a replace or delete of the
// record, and the lock's deletion: four commands (three when refused),
// correct across instances. A lock left by a crashed process is broken once its lease
// (5 s) has passed, by one caller only (the one that inserts a breaker
// document for that lease, which expires a minute later); a process
// stalled for longer than the lease while holding it could lose one
// update, and its unlock leaves its successor's lock alone.
//
// Times are kept to the millisecond; keep the clocks of the application's
// machines and the server's in sync (the TTL monitor uses the server's).
type ThrottleStore struct {
	coll *mongo.Collection
	// locked: updates take a lock document (no atomic updates, or no
	// update pipelines: see pipelineRefused).
	locked atomic.Bool
}

var _ auth.ThrottleStore = (*ThrottleStore)(nil)

// ThrottleStore returns the store over Options.ThrottleCollection. It
// fails when that option is empty.
func (a *Adapter) ThrottleStore() (*ThrottleStore, error) {
	if a.throttle == nil {
		return nil, errors.New("mongoauth: no throttle store: set Options.ThrottleCollection (mongoauth.DefaultThrottleCollection)")
	}
	s := &ThrottleStore{coll: a.throttle}
	s.locked.Store(!a.atomicUpdates)
	return s, nil
}

// UsesLocks reports whether updates take lock documents (four commands
// each) rather than one update pipeline: on servers without atomic
// updates or without update pipelines (FerretDB), or after the first
// update found the server refusing pipelines.
func (s *ThrottleStore) UsesLocks() bool { return s.locked.Load() }

// Update implements auth.ThrottleStore.
func (s *ThrottleStore) Update(ctx context.Context, key string, u auth.ThrottleUpdate) (time.Time, bool, error) {
	ctx = isolate(ctx)
	if err := checkThrottleKey(key); err != nil {
		return time.Time{}, false, err
	}
	if !s.locked.Load() {
		before, err := s.updatePipeline(ctx, key, u)
		if !pipelineRefused(err) {
			if err != nil {
				return time.Time{}, false, err
			}
			until, applied := u.Apply(before)
			return until, applied, nil
		}
		s.locked.Store(true)
	}
	return s.updateLocked(ctx, key, u)
}

// checkThrottleKey refuses a key that auth.ThrottleStore does not allow,
// so that no key can be mistaken for a lock document's.
func checkThrottleKey(key string) error {
	if key == "" || len(key) > 128 || strings.IndexByte(key, 0) >= 0 {
		return &auth.InputError{Field: "throttle key", Reason: "empty, longer than 128 bytes, or contains NUL"}
	}
	return auth.CheckID("throttle key", key)
}

// updatePipeline applies u with one findOneAndUpdate and returns the
// record's until before it (zero when there was none).
func (s *ThrottleStore) updatePipeline(ctx context.Context, key string, u auth.ThrottleUpdate) (time.Time, error) {
	now := bson.DateTime(u.Now.UnixMilli())
	// next = max(until, now) + cost; $max ignores a missing until.
	next := bson.D{{Key: "$add", Value: bson.A{
		bson.D{{Key: "$max", Value: bson.A{"$" + fieldUntil, now}}},
		u.Cost.Milliseconds(),
	}}}
	value := any("$$next")
	if u.Cost > 0 { // kept only within the limit
		limit := bson.DateTime(u.Now.Add(u.Limit).UnixMilli())
		value = bson.D{{Key: "$cond", Value: bson.A{
			bson.D{{Key: "$lte", Value: bson.A{"$$next", limit}}}, "$$next", "$" + fieldUntil,
		}}}
	}
	pipeline := bson.A{bson.D{{Key: "$set", Value: bson.D{{Key: fieldUntil, Value: bson.D{{Key: "$let", Value: bson.D{
		{Key: "vars", Value: bson.D{{Key: "next", Value: next}}},
		{Key: "in", Value: value},
	}}}}}}}}
	opts := options.FindOneAndUpdate().
		SetUpsert(u.Cost > 0). // taking back creates nothing
		SetReturnDocument(options.Before).
		SetProjection(bson.D{{Key: fieldUntil, Value: 1}})
	raw, err := s.coll.FindOneAndUpdate(ctx, byID(key), pipeline, opts).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, wrap("update throttle record", err)
	}
	return decodeUntil(key, raw)
}

// pipelineRefused reports an error of a server that has no update
// pipelines (FerretDB v1 answers NotImplemented).
func pipelineRefused(err error) bool {
	return hasCode(err, codeNotImplemented, codeCommandNotSupported)
}

// decodeUntil reads a record's until; a record without one holds no debt.
func decodeUntil(key string, raw bson.Raw) (time.Time, error) {
	v, err := raw.LookupErr(fieldUntil)
	if err != nil {
		return time.Time{}, nil
	}
	dt, ok := v.DateTimeOK()
	if !ok {
		return time.Time{}, &DocumentError{Record: "throttle", ID: key, Field: fieldUntil, Reason: fmt.Sprintf("is %s, want a date", v.Type)}
	}
	return time.UnixMilli(dt).UTC(), nil
}

// showThrottleKey shows a throttle record's key in reports: its kind and a
// digest, since keys hold usernames and client addresses.
func showThrottleKey(key string) string {
	kind, _, _ := strings.Cut(strings.TrimPrefix(key, lockPrefix), ":")
	if strings.HasPrefix(key, lockPrefix) {
		kind = "lock " + kind
	}
	sum := sha256.Sum256([]byte(key))
	return kind + ":… sha256:" + hex.EncodeToString(sum[:4])
}
