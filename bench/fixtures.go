package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/luciago/mongoauth"
)

// Documents in the adapter's schema (see "Schema" in package mongoauth's
// documentation), written directly so that fixtures of thousands of
// sessions take one InsertMany instead of thousands of SetSession calls.

func sessionDoc(id, userID string, active, idle int64) bson.D {
	return bson.D{
		{Key: "_id", Value: id},
		{Key: "user_id", Value: userID},
		{Key: "active_expires", Value: active},
		{Key: "idle_expires", Value: idle},
	}
}

func userDoc(id, username string) bson.D {
	return bson.D{{Key: "_id", Value: id}, {Key: "username", Value: username}}
}

func keyDoc(id, userID, hashedPassword string) bson.D {
	return bson.D{
		{Key: "_id", Value: id},
		{Key: "user_id", Value: userID},
		{Key: "hashed_password", Value: hashedPassword},
		{Key: "primary_key", Value: true},
		{Key: "expires", Value: nil},
	}
}

// rawSession is what a raw-driver application would decode a session into.
type rawSession struct {
	ID            string `bson:"_id"`
	UserID        string `bson:"user_id"`
	ActiveExpires int64  `bson:"active_expires"`
	IdleExpires   int64  `bson:"idle_expires"`
}

// fixedHash stands in for a password hash: hashing is measured on its own
// (see hashing.go), so user creation and key use are measured without it.
const fixedHash = "s2:0123456789abcdef:" +
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" +
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// Id lengths as Lucia generates them.
const (
	userIDLength    = 15
	sessionIDLength = 40
)

// makeID returns prefix followed by n, zero-padded to length characters
// (never truncated), in Lucia's alphabet [a-z0-9].
func makeID(prefix string, n, length int) string {
	digits := strconv.Itoa(n)
	if pad := length - len(prefix) - len(digits); pad > 0 {
		return prefix + strings.Repeat("0", pad) + digits
	}
	return prefix + digits
}

// expiries returns the expiry of a session created now with Lucia's
// default periods: active for a day, then idle for fourteen more.
func expiries() (active, idle int64) {
	now := time.Now()
	return now.Add(24 * time.Hour).UnixMilli(), now.Add(15 * 24 * time.Hour).UnixMilli()
}

// seedUser stores a user with a primary password key and the given number
// of sessions, through the unmonitored client.
func seedUser(ctx context.Context, d *database, userID string, sessions int) error {
	if _, err := d.setup.Collection(mongoauth.DefaultUserCollection).InsertOne(ctx, userDoc(userID, "name"+userID)); err != nil {
		return err
	}
	if _, err := d.setup.Collection(mongoauth.DefaultKeyCollection).InsertOne(ctx, keyDoc(keyID(userID), userID, fixedHash)); err != nil {
		return err
	}
	if sessions == 0 {
		return nil
	}
	active, idle := expiries()
	docs := make([]any, sessions)
	for i := range docs {
		docs[i] = sessionDoc(makeID(userID+"s", i, sessionIDLength), userID, active, idle)
	}
	_, err := d.setup.Collection(mongoauth.DefaultSessionCollection).InsertMany(ctx, docs)
	return err
}

func keyID(userID string) string { return "username:name" + userID }

// listFixture is a user with listedSessions sessions among a number of
// sessions of other users, built once per Env and size.
type listFixture struct {
	db     *database
	userID string
}

const (
	listedSessions   = 10
	fixtureBatchSize = 1_000
	othersPerUser    = 10
)

// listFixture returns the fixture with the given number of other sessions,
// building it on first use. A fixture that failed half-way is dropped and
// built again on the next call.
func (e *Env) listFixture(ctx context.Context, others int) (*listFixture, error) {
	e.fixturesMu.Lock()
	defer e.fixturesMu.Unlock()
	if f := e.fixtures[others]; f != nil {
		return f, nil
	}
	f, err := e.buildListFixture(ctx, others)
	if err != nil {
		if f != nil {
			err = errors.Join(err, f.db.drop(ctx))
		}
		return nil, fmt.Errorf("build list fixture: %w", err)
	}
	if e.fixtures == nil {
		e.fixtures = map[int]*listFixture{}
	}
	e.fixtures[others] = f
	return f, nil
}

func (e *Env) buildListFixture(ctx context.Context, others int) (*listFixture, error) {
	d, err := e.newDatabase(ctx)
	if err != nil {
		return nil, err
	}
	f := &listFixture{db: d, userID: makeID("listed", 0, userIDLength)}
	if err := seedUser(ctx, d, f.userID, 0); err != nil {
		return f, err
	}
	// The listed user's sessions are spread over the collection, as
	// sessions created over time would be.
	active, idle := expiries()
	sessions := d.setup.Collection(mongoauth.DefaultSessionCollection)
	every := others / listedSessions
	batch := make([]any, 0, fixtureBatchSize)
	listed := 0
	for n := 0; n < others; n++ {
		batch = append(batch, sessionDoc(makeID("other", n, sessionIDLength), makeID("other", n/othersPerUser, userIDLength), active, idle))
		if every > 0 && n%every == 0 && listed < listedSessions {
			batch = append(batch, sessionDoc(makeID(f.userID+"s", listed, sessionIDLength), f.userID, active, idle))
			listed++
		}
		if len(batch) >= fixtureBatchSize || n == others-1 {
			if _, err := sessions.InsertMany(ctx, batch); err != nil {
				return f, err
			}
			batch = batch[:0]
		}
	}
	for ; listed < listedSessions; listed++ { // fewer others than listed sessions
		if _, err := sessions.InsertOne(ctx, sessionDoc(makeID(f.userID+"s", listed, sessionIDLength), f.userID, active, idle)); err != nil {
			return f, err
		}
	}
	return f, nil
}
