package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
)

// Names of the baseline cases: the raw driver doing the least an
// application could do for the same result, on the same monitored client.
const (
	// RawFindOne reads one session by _id as bson.Raw and looks up one
	// field: the driver's floor for a read by id, which the adapter cannot
	// go below (it reads bson.Raw too, then decodes four fields). Every
	// read by id is compared with it.
	RawFindOne = "raw-find-one"
	// RawInsertOne inserts one session document (the one SetSession
	// writes) with no check. Every write is compared with it.
	RawInsertOne = "raw-insert-one"
	// RawFindByUser iterates over a user's sessions found by user_id,
	// looking up one field of each bson.Raw: the floor for a list, as
	// RawFindOne is for a single read. list-sessions is compared with it.
	RawFindByUser = "raw-find-by-user"
)

// Config sizes the cases. The zero value is the published configuration.
type Config struct {
	// OtherSessions is how many sessions of other users surround the
	// listed user's 10 sessions in list-sessions; default 100,000.
	OtherSessions int
}

// DefaultOtherSessions is Config.OtherSessions when left zero.
const DefaultOtherSessions = 100_000

// Operations returns the adapter cases and their raw-driver baselines, in
// table order.
func Operations(cfg Config) []Case {
	others := cfg.OtherSessions
	if others <= 0 {
		others = DefaultOtherSessions
	}
	return []Case{
		{Name: RawFindOne, Prepare: rawFindOne(monitoredClient, decodeRaw)},
		// What typical raw-driver code costs: decoding into a struct.
		{Name: "raw-find-one-struct", Baseline: RawFindOne, Prepare: rawFindOne(monitoredClient, decodeStruct)},
		// What the command monitor adds to every command.
		{Name: "raw-find-one-unmonitored", Baseline: RawFindOne, Uncounted: true, Prepare: rawFindOne(plainClient, decodeRaw)},
		{Name: RawInsertOne, Prepare: rawInsertOne},
		{Name: RawFindByUser, Prepare: rawFindByUser(others)},

		{Name: "validate-with-user", Baseline: RawFindOne, Prepare: validateWithUser},
		{Name: "get-session", Baseline: RawFindOne, Prepare: getSession},
		{Name: "use-key", Baseline: RawFindOne, Prepare: useKey},
		{Name: "create-session-1-existing", Baseline: RawInsertOne, Prepare: createSession(1)},
		{Name: "create-session-1000-existing", Baseline: RawInsertOne, Prepare: createSession(1000)},
		{Name: "create-session-with-attributes", Baseline: RawInsertOne, Prepare: createSessionWithAttributes},
		{Name: "validate-with-user-attributes", Baseline: RawFindOne, Prepare: validateWithUserAttributes},
		{Name: "create-user-with-key", Baseline: RawInsertOne, Prepare: createUserWithKey},
		{Name: "delete-user-1-session", Baseline: RawInsertOne, Prepare: deleteUser(1)},
		{Name: "delete-user-10-sessions", Baseline: RawInsertOne, Prepare: deleteUser(10)},
		{Name: "delete-user-1000-sessions", Baseline: RawInsertOne, Prepare: deleteUser(1000)},
		{Name: "delete-user-10-among-others", Baseline: RawInsertOne, Prepare: deleteUserAmong(others)},
		{Name: "list-sessions", Baseline: RawFindByUser, Prepare: listSessions(others)},

		{Name: "core-validate-session-user", Baseline: RawFindOne, Prepare: coreValidateSessionUser},
		{Name: "core-validate-session", Baseline: RawFindOne, Prepare: coreValidateSession},
		// Session ids stored unhashed (auth.Config.LuciaV1), next to the
		// default: what hashing the token costs a validation.
		{Name: "core-validate-session-user-unhashed", Baseline: "core-validate-session-user", Prepare: coreValidateSessionUserLucia},
		{Name: "core-validate-last-seen-not-due", Baseline: RawFindOne, Prepare: coreValidateLastSeen(false)},
		{Name: "core-validate-last-seen-due", Baseline: RawFindOne, Prepare: coreValidateLastSeen(true)},
		{Name: "core-use-key", Baseline: RawFindOne, Hashes: true, Prepare: coreUseKey},
		{Name: "core-use-key-shared-throttle", Baseline: RawFindOne, Hashes: true, Prepare: coreUseKeySharedThrottle},
		{Name: "core-use-key-wrong-shared-throttle", Baseline: RawFindOne, Hashes: true, Prepare: coreUseKeyWrongSharedThrottle},
		{Name: "core-use-key-refused-shared-throttle", Baseline: RawFindOne, Hashes: true, Prepare: coreUseKeyRefusedSharedThrottle},
		{Name: "core-create-user-with-password", Baseline: RawInsertOne, Hashes: true, Prepare: coreCreateUser},
	}
}

// withDatabase prepares a fresh database, seeded with one user (with a key
// and the given number of sessions), and lets build make the steps; the
// database is dropped by Close.
func withDatabase(ctx context.Context, env *Env, sessions int, build func(d *database, userID string) *Steps) (*Steps, error) {
	d, err := env.newDatabase(ctx)
	if err != nil {
		return nil, err
	}
	userID := makeID("user", 0, userIDLength)
	if err := seedUser(ctx, d, userID, sessions); err != nil {
		return nil, errors.Join(err, d.drop(ctx))
	}
	steps := build(d, userID)
	steps.Close = d.drop
	return steps, nil
}

// firstSession is the id seedUser gives a user's first session.
func firstSession(userID string) string { return makeID(userID+"s", 0, sessionIDLength) }

type clientChoice func(d *database) *mongo.Database

func monitoredClient(d *database) *mongo.Database { return d.monitored }
func plainClient(d *database) *mongo.Database     { return d.setup }

type decoding func(*mongo.SingleResult) (userID string, err error)

func decodeStruct(r *mongo.SingleResult) (string, error) {
	var s rawSession
	err := r.Decode(&s)
	return s.UserID, err
}

func decodeRaw(r *mongo.SingleResult) (string, error) {
	doc, err := r.Raw()
	if err != nil {
		return "", err
	}
	return doc.Lookup("user_id").StringValue(), nil
}

func rawFindOne(client clientChoice, decode decoding) func(context.Context, *Env) (*Steps, error) {
	return func(ctx context.Context, env *Env) (*Steps, error) {
		return withDatabase(ctx, env, 1, func(d *database, userID string) *Steps {
			sessions := client(d).Collection(mongoauth.DefaultSessionCollection)
			id := firstSession(userID)
			return &Steps{Op: func(ctx context.Context, _ int) error {
				got, err := decode(sessions.FindOne(ctx, bson.D{{Key: "_id", Value: id}}))
				return expect(err, got, userID)
			}}
		})
	}
}

// expect turns a wrong result into an error: a benchmark of an operation
// that does not do its job measures nothing.
func expect(err error, got, want string) error {
	if err == nil && got != want {
		err = fmt.Errorf("got %q, want %q", got, want)
	}
	return err
}

func rawInsertOne(ctx context.Context, env *Env) (*Steps, error) {
	return withDatabase(ctx, env, 1, func(d *database, userID string) *Steps {
		active, idle := expiries()
		sessions := d.monitored.Collection(mongoauth.DefaultSessionCollection)
		return &Steps{
			Op: func(ctx context.Context, i int) error {
				_, err := sessions.InsertOne(ctx, sessionDoc(makeID("new", i, sessionIDLength), userID, active, idle))
				return err
			},
			After: deleteNewSession(d),
		}
	})
}

// deleteNewSession removes the session iteration i created, so that every
// iteration inserts into the same collection.
func deleteNewSession(d *database) func(context.Context, int) error {
	sessions := d.setup.Collection(mongoauth.DefaultSessionCollection)
	return func(ctx context.Context, i int) error {
		_, err := sessions.DeleteOne(ctx, bson.D{{Key: "_id", Value: makeID("new", i, sessionIDLength)}})
		return err
	}
}

func rawFindByUser(others int) func(context.Context, *Env) (*Steps, error) {
	return withListFixture(others, func(f *listFixture) *Steps {
		sessions := f.db.monitored.Collection(mongoauth.DefaultSessionCollection)
		return &Steps{Op: func(ctx context.Context, _ int) error {
			cur, err := sessions.Find(ctx, bson.D{{Key: "user_id", Value: f.userID}})
			if err != nil {
				return err
			}
			defer cur.Close(ctx)
			n := 0
			for ; cur.Next(ctx); n++ {
				if err := expect(nil, cur.Current.Lookup("user_id").StringValue(), f.userID); err != nil {
					return err
				}
			}
			if err := cur.Err(); err != nil {
				return err
			}
			return expectCount(n)
		}}
	})
}

// withListFixture prepares a case on the shared list fixture of that size.
// The fixture outlives the case: steps must leave it as they found it.
func withListFixture(others int, build func(f *listFixture) *Steps) func(context.Context, *Env) (*Steps, error) {
	return func(ctx context.Context, env *Env) (*Steps, error) {
		f, err := env.listFixture(ctx, others)
		if err != nil {
			return nil, err
		}
		return build(f), nil
	}
}

func expectCount(n int) error {
	if n != listedSessions {
		return fmt.Errorf("listed %d sessions, want %d", n, listedSessions)
	}
	return nil
}

// validateWithUser is what the core's session validation asks of the
// adapter: the session and its user in one call, then a clock comparison.
func validateWithUser(ctx context.Context, env *Env) (*Steps, error) {
	return withDatabase(ctx, env, 1, func(d *database, userID string) *Steps {
		id := firstSession(userID)
		return &Steps{Op: func(ctx context.Context, _ int) error {
			s, u, err := d.measured.GetSessionAndUser(ctx, id)
			if err == nil && time.Now().UnixMilli() >= s.IdleExpires {
				return errors.New("session expired")
			}
			return expect(err, u.ID, userID)
		}}
	})
}

func getSession(ctx context.Context, env *Env) (*Steps, error) {
	return withDatabase(ctx, env, 1, func(d *database, userID string) *Steps {
		id := firstSession(userID)
		return &Steps{Op: func(ctx context.Context, _ int) error {
			s, err := d.measured.GetSession(ctx, id)
			return expect(err, s.UserID, userID)
		}}
	})
}

// useKey is what the core's password sign-in asks of the adapter: the key
// by id, then its user (the core returns the user). Password verification
// is left out; see the hashing cases.
func useKey(ctx context.Context, env *Env) (*Steps, error) {
	return withDatabase(ctx, env, 0, func(d *database, userID string) *Steps {
		id := keyID(userID)
		return &Steps{Op: func(ctx context.Context, _ int) error {
			k, err := d.measured.GetKey(ctx, id)
			if err != nil {
				return err
			}
			if k.HashedPassword == nil {
				return errors.New("key has no password")
			}
			u, err := d.measured.GetUser(ctx, k.UserID)
			return expect(err, u.ID, userID)
		}}
	})
}

// createSession adds a session to a user who has existing sessions already;
// each new session is deleted again after its iteration.
func createSession(existing int) func(context.Context, *Env) (*Steps, error) {
	return func(ctx context.Context, env *Env) (*Steps, error) {
		return withDatabase(ctx, env, existing, func(d *database, userID string) *Steps {
			active, idle := expiries()
			return &Steps{
				Op: func(ctx context.Context, i int) error {
					return d.measured.SetSession(ctx, auth.SessionRecord{
						ID: makeID("new", i, sessionIDLength), UserID: userID, ActiveExpires: active, IdleExpires: idle,
					})
				},
				After: deleteNewSession(d),
			}
		})
	}
}

// createUserWithKey creates a user and its primary password key together,
// as sign-up does; the hash is a fixed string.
func createUserWithKey(ctx context.Context, env *Env) (*Steps, error) {
	return withDatabase(ctx, env, 0, func(d *database, _ string) *Steps {
		hash := fixedHash
		newUser := func(i int) string { return makeID("new", i, userIDLength) }
		return &Steps{
			Op: func(ctx context.Context, i int) error {
				id := newUser(i)
				return d.measured.SetUser(ctx,
					auth.UserRecord{ID: id, Attributes: map[string]any{"username": "name" + id}},
					&auth.KeyRecord{ID: keyID(id), UserID: id, HashedPassword: &hash, PrimaryKey: true})
			},
			After: func(ctx context.Context, i int) error {
				id := newUser(i)
				if _, err := d.setup.Collection(mongoauth.DefaultUserCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
					return err
				}
				_, err := d.setup.Collection(mongoauth.DefaultKeyCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: keyID(id)}})
				return err
			},
		}
	})
}

// deleteUser deletes a user with a key and the given number of sessions,
// prepared afresh (untimed) for every iteration.
func deleteUser(sessions int) func(context.Context, *Env) (*Steps, error) {
	return func(ctx context.Context, env *Env) (*Steps, error) {
		return withDatabase(ctx, env, 0, func(d *database, _ string) *Steps {
			return deleteUserSteps(d, sessions)
		})
	}
}

// deleteUserAmong deletes a user with 10 sessions from the list fixture,
// where the sessions of other users surround them: what a deletion costs
// in a populated database (on a server that scans instead of using the
// user_id index, it grows with the collection).
func deleteUserAmong(others int) func(context.Context, *Env) (*Steps, error) {
	return withListFixture(others, func(f *listFixture) *Steps { return deleteUserSteps(f.db, listedSessions) })
}

func deleteUserSteps(d *database, sessions int) *Steps {
	victim := func(i int) string { return makeID("gone", i, userIDLength) }
	return &Steps{
		Before: func(ctx context.Context, i int) error { return seedUser(ctx, d, victim(i), sessions) },
		Op:     func(ctx context.Context, i int) error { return d.measured.DeleteUser(ctx, victim(i)) },
	}
}

// listSessions lists the sessions of a user who has 10 among others
// sessions of other users.
func listSessions(others int) func(context.Context, *Env) (*Steps, error) {
	return withListFixture(others, func(f *listFixture) *Steps {
		return &Steps{Op: func(ctx context.Context, _ int) error {
			sessions, err := f.db.measured.GetSessionsByUserID(ctx, f.userID)
			if err != nil {
				return err
			}
			return expectCount(len(sessions))
		}}
	})
}
