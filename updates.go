package mongoauth

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/luciago/mongoauth/auth"
)

// The writes that change a record in place on condition: the optional
// interfaces auth.KeyPasswordReplacer, auth.SessionUpdater and
// auth.ExpiredSessionDeleter. Each is one command whose filter carries the
// condition, judged by the server's count of matched or deleted documents.

var (
	_ auth.KeyPasswordReplacer   = (*Adapter)(nil)
	_ auth.SessionUpdater        = (*Adapter)(nil)
	_ auth.ExpiredSessionDeleter = (*Adapter)(nil)
)

// errNoAtomicUpdates is ReplaceKeyPassword's answer on a server whose
// conditional updates are not atomic.
var errNoAtomicUpdates = fmt.Errorf("mongoauth: compare-and-set of a key's password: %w on FerretDB (its updates read, then write the whole document)", errors.ErrUnsupported)

// ReplaceKeyPassword implements auth.KeyPasswordReplacer with one update
// whose filter holds the key id and the old hash. MongoDB applies a
// single-document update atomically: the filter is matched against the
// document as the update finds it, so of concurrent callers only one can
// match, and a password change that landed first makes the filter miss.
//
// FerretDB v1 runs an update as a query followed by a write of the whole
// document by _id, so two callers can both match the old hash, and a
// password change that lands between the two steps is overwritten. (The
// conformance suite's race tests fail there in every run.) On FerretDB
// the method therefore writes nothing and returns an error matching
// errors.ErrUnsupported; the auth core then leaves hashes as they are
// rather than risk writing back an old password.
func (a *Adapter) ReplaceKeyPassword(ctx context.Context, keyID, oldHash, newHash string) error {
	ctx = isolate(ctx)
	if err := auth.CheckID("key id", keyID); err != nil {
		return err
	}
	if oldHash == "" || newHash == "" {
		return &auth.InputError{Field: "hashed password", Reason: "empty"}
	}
	if !a.atomicUpdates {
		return errNoAtomicUpdates
	}
	filter := append(byID(keyID), bson.E{Key: fieldHashedPassword, Value: oldHash})
	update := bson.D{{Key: "$set", Value: bson.D{{Key: fieldHashedPassword, Value: newHash}}}}
	return matchedOne(a.keys.UpdateOne(ctx, filter, update))
}

// UpdateSession implements auth.SessionUpdater with one update by id (never
// an upsert), whose $set names each attribute as a top-level field, so
// that the session's other attributes are kept. With Options.SessionTTL,
// expires_at follows idle_expires.
//
// On FerretDB v1, whose updates read and then write by _id, a session
// deleted between the two steps is reported as updated; it stays deleted
// (the write is an update, never an insert), so the next request finds no
// session, as if the deletion had come just after the renewal.
func (a *Adapter) UpdateSession(ctx context.Context, sessionID string, update auth.SessionUpdate) error {
	ctx = isolate(ctx)
	if err := auth.CheckID("session id", sessionID); err != nil {
		return err
	}
	if err := checkSessionAttributes(update.Attributes); err != nil {
		return err
	}
	set := bson.D{}
	if update.ActiveExpires != 0 {
		set = append(set, bson.E{Key: fieldActiveExpires, Value: update.ActiveExpires})
	}
	if update.IdleExpires != 0 {
		set = a.withExpiresAt(append(set, bson.E{Key: fieldIdleExpires, Value: update.IdleExpires}), update.IdleExpires)
	}
	if update.IssuedAt != 0 {
		set = append(set, bson.E{Key: fieldIssuedAt, Value: update.IssuedAt})
	}
	// Top-level fields: the other attributes are kept.
	set = appendAttributes(set, update.Attributes)
	if len(set) == 0 { // an empty $set is an error on older servers
		_, err := findByID(ctx, a.sessions, sessionID)
		return err
	}
	return matchedOne(a.sessions.UpdateOne(ctx, byID(sessionID), bson.D{{Key: "$set", Value: set}}))
}

// matchedOne turns an update's result into the contract's answer: nil if
// it matched the document, auth.ErrNotFound if not. Matched, not modified:
// an update that sets the values already stored still found its document.
func matchedOne(res *mongo.UpdateResult, err error) error {
	if err != nil {
		return wrap("update", err)
	}
	if res.MatchedCount == 0 {
		return auth.ErrNotFound
	}
	return nil
}

// DeleteExpiredSessions implements auth.ExpiredSessionDeleter with one
// deleteMany. $lte compares numbers by value whatever their BSON type, so
// sessions written by Lucia's mongoose adapter, whose expiries are
// Doubles, are judged like this adapter's Int64s.
func (a *Adapter) DeleteExpiredSessions(ctx context.Context, userID string, nowMillis int64) error {
	ctx = isolate(ctx)
	if err := auth.CheckID("user id", userID); err != nil {
		return err
	}
	filter := append(byUserID(userID), bson.E{Key: fieldIdleExpires, Value: bson.D{{Key: "$lte", Value: nowMillis}}})
	_, err := a.sessions.DeleteMany(ctx, filter)
	return wrap("delete expired sessions", err)
}

// atomicUpdates reports whether the server applies a conditional
// single-document update atomically, as MongoDB does. FerretDB, which
// names itself in buildInfo's ferretdbVersion, does not in version 1 (see
// ReplaceKeyPassword); later versions have not been tested here and are
// treated the same way. buildInfo is not in the Stable API: a client in
// strict mode gets it refused (APIStrictError), which only a server that
// enforces the Stable API does, MongoDB 5.0 and later, and FerretDB v1
// does not.
func atomicUpdates(ctx context.Context, db *mongo.Database) (bool, error) {
	var info struct {
		FerretDBVersion string `bson:"ferretdbVersion"`
	}
	err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info)
	if hasCode(err, codeAPIStrictError) {
		return true, nil
	}
	if err != nil {
		return false, wrap("buildInfo", err)
	}
	return info.FerretDBVersion == "", nil
}
