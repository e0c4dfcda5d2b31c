package mongoauth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth/auth"
)

// The throttle store on servers without atomic updates (FerretDB): each
// update of a record runs under a lock document. See ThrottleStore.

// throttleLease is how long a lock document is honoured: far longer than
// the three commands it guards take, short enough that the lock of a
// crashed process is soon broken.
const throttleLease = 5 * time.Second

// lockPrefix starts the _id of a lock document; no key contains NUL.
const lockPrefix = "\x00lock\x00"

// updateLocked applies u under the record's lock: find, then replace (or
// delete, when no debt is left).
func (s *ThrottleStore) updateLocked(ctx context.Context, key string, u auth.ThrottleUpdate) (time.Time, bool, error) {
	unlock, err := s.lock(ctx, key)
	if err != nil {
		return time.Time{}, false, err
	}
	defer unlock()
	var before time.Time
	raw, err := s.coll.FindOne(ctx, byID(key)).Raw()
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		raw, err = nil, nil
	case err != nil:
		return time.Time{}, false, wrap("read throttle record", err)
	default:
		if before, err = decodeUntil(key, raw); err != nil {
			return time.Time{}, false, err
		}
	}
	until, applied := u.Apply(before)
	switch {
	case !applied:
	case !until.After(u.Now): // no debt left: no record
		if raw != nil {
			_, err = s.coll.DeleteOne(ctx, byID(key))
		}
	default:
		_, err = s.coll.ReplaceOne(ctx, byID(key), bson.D{{Key: fieldID, Value: key}, {Key: fieldUntil, Value: bson.DateTime(until.UnixMilli())}},
			options.Replace().SetUpsert(true))
	}
	if err != nil {
		return time.Time{}, false, wrap("write throttle record", err)
	}
	return until, applied, nil
}

// lock takes key's lock document, waiting (in short, growing steps) while
// another caller holds it, and breaking it once its lease has passed.
// unlock deletes it, even once ctx has ended.
func (s *ThrottleStore) lock(ctx context.Context, key string) (unlock func(), err error) {
	id := lockPrefix + key
	pause := time.Millisecond
	for {
		// The lease is judged by this machine's clock, not by the
		// application's (auth.Config.Now may be a test's).
		lease := bson.DateTime(time.Now().Add(throttleLease).UnixMilli())
		_, err := s.coll.InsertOne(ctx, bson.D{{Key: fieldID, Value: id}, {Key: fieldUntil, Value: lease}})
		if err == nil {
			return func() {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				// This lock only: if its lease passed and another caller
				// broke it, the lock there now is that caller's. A lock
				// left behind expires.
				_, _ = s.coll.DeleteOne(ctx, lockOf(id, lease))
			}, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return nil, wrap("lock throttle record", err)
		}
		if err := s.breakStaleLock(ctx, id); err != nil {
			return nil, err
		}
		timer := time.NewTimer(pause/2 + rand.N(pause))
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, wrap("lock throttle record", context.Cause(ctx))
		}
		pause = min(2*pause, 20*time.Millisecond)
	}
}

// lockOf selects the lock document id only while it holds lease: no two
// locks of a key hold the same one (a lock is broken only once its lease
// has passed, and the next takes a later one).
func lockOf(id string, lease bson.DateTime) bson.D {
	return bson.D{{Key: fieldID, Value: id}, {Key: fieldUntil, Value: lease}}
}

// breakStaleLock deletes the lock document id if its lease has passed: the
// lock it read, not one that another caller broke it for and took since.
func (s *ThrottleStore) breakStaleLock(ctx context.Context, id string) error {
	raw, err := s.coll.FindOne(ctx, byID(id)).Raw()
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil
	case err != nil:
		return wrap("read throttle lock", err)
	}
	lease, err := decodeUntil(id, raw)
	if err != nil || lease.After(time.Now()) {
		return err
	}
	// FerretDB deletes by finding, then deleting by _id: two callers that
	// read the same stale lock could each delete a lock, the second one
	// taken since. So only the caller that inserts this lease's breaker
	// document breaks it; the breaker stays until it expires itself, later
	// than any other caller's read of that lease could be acted on.
	held := bson.NewDateTimeFromTime(lease)
	breakerID := fmt.Sprintf("%sbreak:%d\x00%s", lockPrefix, int64(held), strings.TrimPrefix(id, lockPrefix))
	breaker := bson.D{{Key: fieldID, Value: breakerID}, {Key: fieldUntil, Value: bson.DateTime(time.Now().Add(time.Minute).UnixMilli())}}
	if _, err := s.coll.InsertOne(ctx, breaker); mongo.IsDuplicateKeyError(err) {
		return nil // another caller breaks it
	} else if err != nil {
		return wrap("break stale throttle lock", err)
	}
	_, err = s.coll.DeleteOne(ctx, lockOf(id, held))
	return wrap("break stale throttle lock", err)
}
