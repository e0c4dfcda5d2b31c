package mongoauth

import (
	"context"
	"errors"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/luciago/mongoauth/auth"
)

// TransactionMode says when the adapter uses multi-document transactions.
type TransactionMode int

const (
	// TransactionsAuto uses transactions when the server proves it can run
	// them: hello reports a replica set or a mongos, and a probe transaction
	// (one that changes nothing) commits. Otherwise the standalone protocol
	// runs; UsesTransactions and TransactionsReason say which and why. It is
	// the default.
	TransactionsAuto TransactionMode = iota
	// TransactionsRequired makes New fail with a *CapabilityError matching
	// ErrNoTransactions where TransactionsAuto would fall back.
	TransactionsRequired
	// TransactionsOff always uses the standalone protocol, without probing.
	TransactionsOff
)

// Options configure an Adapter. The zero value is ready to use.
type Options struct {
	// UserCollection names the users' collection; default "auth_user".
	UserCollection string
	// SessionCollection names the sessions' collection; default "auth_session".
	SessionCollection string
	// KeyCollection names the keys' collection; default "auth_key".
	KeyCollection string
	// ThrottleCollection names the collection of the login throttle's
	// records (Adapter.ThrottleStore), usually
	// DefaultThrottleCollection; empty, the default, means none, and
	// EnsureIndexes, Check and Repair leave it out.
	ThrottleCollection string
	// Transactions chooses when to use transactions; default TransactionsAuto.
	Transactions TransactionMode
	// ReadPath chooses how GetSessionAndUser reads a session and its user:
	// one aggregation with $lookup, or two finds by _id; default
	// ReadPathAuto, which measures both at New. See ReadPath.
	ReadPath ReadPath
	// SessionTTL, when set, stores each new session with an extra field
	// expires_at (a BSON Date equal to idle_expires), and EnsureIndexes adds
	// a TTL index on it so that the server deletes dead sessions by itself.
	// Reads still never treat a session as gone because of a date. Off by
	// default: documents then follow the seed schema exactly. See ttl.go.
	SessionTTL bool
	// WriteConcern is the write concern of every write and transaction
	// commit of the adapter, whatever the client's; default w: "majority".
	// It must be acknowledged: New refuses w: 0. Lowering it to w: 1 keeps
	// the adapter correct while a primary lives, but a failover may then
	// roll back an acknowledged write (a new session, or a deletion).
	// Reads always use read concern "local" on the primary, and
	// transactions "snapshot"; see concerns.go.
	WriteConcern *writeconcern.WriteConcern
}

// Adapter is the MongoDB adapter. It is safe for concurrent use.
type Adapter struct {
	// db carries the adapter's concerns (see ownDatabase), and so do the
	// collections taken from it.
	db           *mongo.Database
	writeConcern *writeconcern.WriteConcern
	users        *mongo.Collection
	sessions     *mongo.Collection
	keys         *mongo.Collection
	throttle     *mongo.Collection // nil without Options.ThrottleCollection

	transactions       bool
	transactionsReason string
	// readPath is the current choice of GetSessionAndUser; it changes when
	// Recalibrate finds the other path faster (with ReadPathAuto), or if the
	// users collection turns out to be sharded (see readpath.go).
	readPath atomic.Pointer[readPathChoice]
	// readPathOption is Options.ReadPath.
	readPathOption ReadPath
	// calibrateOnRead: with ReadPathAuto, the last calibration could only
	// time ids no document has; the next read of a stored session times
	// the paths again on it (see GetSessionAndUser).
	calibrateOnRead atomic.Bool
	// atomicUpdates: a conditional single-document update is atomic
	// (false on FerretDB; see updates.go).
	atomicUpdates bool

	sessionTTL bool
	// ttlUnsupported is set once the server has refused the TTL index.
	ttlUnsupported atomic.Bool
}

var (
	_ auth.Adapter              = (*Adapter)(nil)
	_ auth.SessionAndUserGetter = (*Adapter)(nil)
	_ auth.KeyConsumer          = (*Adapter)(nil)
)

// New returns an adapter over db. It asks the server what it is and what it
// supports, so it needs a reachable server: the wire version (MongoDB 4.4 or
// newer, else a *ServerVersionError), whether transactions work (a probe
// transaction that changes nothing; see TransactionMode) and whether
// $lookup works and pays (see ReadPath), and, on a mongos, that no
// collection is sharded on a key other than {_id: 1} or {_id: "hashed"}
// (*ShardKeyError; checked when config.collections is readable). A failed
// probe that says nothing about the capability (an election, a timeout,
// missing privileges) fails New rather than fix a guess for the life of
// the process. New creates no index or document; before it probes
// transactions it creates the three collections if they are missing
// (DocumentDB-based engines cannot run a transaction on a collection that
// does not exist), and otherwise none (see EnsureIndexes).
//
// All reads go to the primary, at read concern "local", and all writes wait
// for Options.WriteConcern (default w: "majority"), whatever the client's
// URI says: the adapter's integrity checks read what was just written.
func New(ctx context.Context, db *mongo.Database, opts Options) (*Adapter, error) {
	ctx = isolate(ctx)
	if db == nil {
		return nil, errors.New("mongoauth: nil database")
	}
	names := [3]*string{&opts.UserCollection, &opts.SessionCollection, &opts.KeyCollection}
	for i, def := range [3]string{DefaultUserCollection, DefaultSessionCollection, DefaultKeyCollection} {
		if *names[i] == "" {
			*names[i] = def
		}
	}
	if opts.UserCollection == opts.SessionCollection || opts.UserCollection == opts.KeyCollection || opts.SessionCollection == opts.KeyCollection {
		return nil, errors.New("mongoauth: users, sessions and keys need three different collections")
	}
	if t := opts.ThrottleCollection; t != "" && (t == opts.UserCollection || t == opts.SessionCollection || t == opts.KeyCollection) {
		return nil, errors.New("mongoauth: the throttle collection must be a fourth one")
	}
	wc, err := writeConcern(opts.WriteConcern)
	if err != nil {
		return nil, err
	}
	db = ownDatabase(db, wc)
	a := &Adapter{
		db:           db,
		writeConcern: wc,
		users:        db.Collection(opts.UserCollection),
		sessions:     db.Collection(opts.SessionCollection),
		keys:         db.Collection(opts.KeyCollection),

		sessionTTL: opts.SessionTTL,
	}
	if opts.ThrottleCollection != "" {
		a.throttle = db.Collection(opts.ThrottleCollection)
	}
	server, err := askServer(ctx, db)
	if err != nil {
		return nil, err
	}
	if err := a.checkShardKeys(ctx, server); err != nil {
		return nil, err
	}
	if err := a.chooseTransactions(ctx, opts.Transactions, server); err != nil {
		return nil, err
	}
	if err := a.chooseReadPath(ctx, opts.ReadPath); err != nil {
		return nil, err
	}
	if a.atomicUpdates, err = atomicUpdates(ctx, db); err != nil {
		return nil, err
	}
	return a, nil
}

// UsesTransactions reports whether multi-document writes run in transactions.
func (a *Adapter) UsesTransactions() bool { return a.transactions }

// TransactionsReason says why UsesTransactions is what it is: the option,
// the kind of deployment, or the outcome of New's probe transaction (with
// the server's error when it failed).
func (a *Adapter) TransactionsReason() string { return a.transactionsReason }

// GetUser implements auth.UserAdapter.
func (a *Adapter) GetUser(ctx context.Context, userID string) (auth.UserRecord, error) {
	ctx = isolate(ctx)
	if err := auth.CheckID("user id", userID); err != nil {
		return auth.UserRecord{}, err
	}
	doc, err := findByID(ctx, a.users, userID)
	if err != nil {
		return auth.UserRecord{}, err
	}
	return decodeUser(doc)
}

// SetUser implements auth.UserAdapter. With a key, user and key are
// inserted in one transaction, or, without transactions, the user is deleted
// again when the key cannot be inserted.
func (a *Adapter) SetUser(ctx context.Context, user auth.UserRecord, key *auth.KeyRecord) error {
	ctx = isolate(ctx)
	if err := auth.CheckID("user id", user.ID); err != nil {
		return err
	}
	if err := checkAttributes(user.Attributes); err != nil {
		return err
	}
	if key != nil {
		if err := checkKey(*key); err != nil {
			return err
		}
		if key.UserID != user.ID {
			return &auth.InputError{Field: "key", Reason: "key.UserID differs from the user's id"}
		}
	}
	return a.atomically(ctx, func(ctx context.Context, undo *undoLog) error {
		if err := insert(ctx, a.users, userDocument(user), auth.ErrDuplicateUserID); err != nil {
			return err
		}
		// A full cascade, not a plain delete: a session may have been
		// attached to the new user meanwhile.
		undo.push(func(ctx context.Context) error { return a.deleteUser(ctx, user.ID) })
		if key == nil {
			return nil
		}
		return insert(ctx, a.keys, keyDocument(*key), auth.ErrDuplicateKeyID)
	})
}

// DeleteUser implements auth.UserAdapter: it deletes the user, then its
// sessions and keys. Sessions and keys inserted concurrently either fail
// with auth.ErrInvalidUserID or are deleted by this call. With
// transactions, the user and its keys are deleted in one transaction and
// the sessions after it commits, in batches (see deleteSessions); until
// then they are orphans, which GetSessionAndUser reads as none. Once the
// user is gone, the rest runs to its end even if ctx ends meanwhile, for
// at most 10 seconds more.
func (a *Adapter) DeleteUser(ctx context.Context, userID string) error {
	ctx = isolate(ctx)
	if err := auth.CheckID("user id", userID); err != nil {
		return err
	}
	return a.deleteUser(ctx, userID)
}

func (a *Adapter) deleteUser(ctx context.Context, userID string) error {
	err := a.atomically(ctx, func(ctx context.Context, _ *undoLog) error {
		if _, err := a.users.DeleteOne(ctx, byID(userID)); err != nil {
			return wrap("delete user", err)
		}
		if !a.transactions {
			return nil // the cascade follows, whatever ctx says
		}
		return a.deleteKeys(ctx, userID)
	})
	if err != nil {
		return err
	}
	// The user is gone; the cascade runs to its end whatever ctx says. With
	// a transaction the keys went with the user, but a transaction reads a
	// snapshot: a key inserted after it began is invisible to it, and its
	// inserter may have seen the user before the commit. Such stragglers
	// exist only after the commit, so the keys are deleted once more, after
	// the sessions. (Without transactions every step reads the latest data
	// and runs once.)
	ctx, cancel := outlive(ctx)
	defer cancel()
	if err := a.deleteSessions(ctx, userID); err != nil {
		return err
	}
	return a.deleteKeys(ctx, userID)
}

func (a *Adapter) deleteKeys(ctx context.Context, userID string) error {
	_, err := a.keys.DeleteMany(ctx, byUserID(userID))
	return wrap("delete keys", err)
}

// sessionBatch is how many sessions one command deletes after a
// transaction. A transaction has a lifetime limit (60 s on MongoDB, 30 s
// on Azure's vCore service) that deleting 100,000 sessions could exceed;
// outside it, batches keep each command short, and an interrupted deletion
// keeps the batches done.
const sessionBatch = 1000

// deleteSessions deletes the user's sessions: with one deleteMany on the
// standalone protocol, and after a transaction in batches of sessionBatch
// (find their ids, delete them), until a find comes back short.
func (a *Adapter) deleteSessions(ctx context.Context, userID string) error {
	if !a.transactions {
		_, err := a.sessions.DeleteMany(ctx, byUserID(userID))
		return wrap("delete sessions", err)
	}
	onlyID := options.Find().SetProjection(bson.D{{Key: fieldID, Value: 1}}).SetLimit(sessionBatch).SetBatchSize(sessionBatch)
	for {
		cur, err := a.sessions.Find(ctx, byUserID(userID), onlyID)
		if err != nil {
			return wrap("find sessions", err)
		}
		var ids bson.A
		for cur.Next(ctx) {
			ids = append(ids, cur.Current.Lookup(fieldID))
		}
		err = cur.Err()
		closeCursor(ctx, cur)
		if err != nil {
			return wrap("find sessions", err)
		}
		if len(ids) == 0 {
			return nil
		}
		filter := append(byUserID(userID), bson.E{Key: fieldID, Value: bson.D{{Key: "$in", Value: ids}}})
		res, err := a.sessions.DeleteMany(ctx, filter)
		if err != nil {
			return wrap("delete sessions", err)
		}
		if len(ids) < sessionBatch || res.DeletedCount == 0 {
			return nil // the last batch, or someone else deleting them
		}
	}
}

// UpdateUser implements auth.UserAdapter.
func (a *Adapter) UpdateUser(ctx context.Context, userID string, attributes map[string]any) (auth.UserRecord, error) {
	ctx = isolate(ctx)
	if err := auth.CheckID("user id", userID); err != nil {
		return auth.UserRecord{}, err
	}
	if err := checkAttributes(attributes); err != nil {
		return auth.UserRecord{}, err
	}
	if len(attributes) == 0 { // an empty $set is an error on older servers
		u, err := a.GetUser(ctx, userID)
		return u, notFoundAs(err, auth.ErrInvalidUserID)
	}
	set := appendAttributes(nil, attributes)
	doc, err := findAndSet(ctx, a.users, userID, set)
	if err != nil {
		return auth.UserRecord{}, notFoundAs(err, auth.ErrInvalidUserID)
	}
	return decodeUser(doc)
}

// SetKey implements auth.UserAdapter; see SetSession for the protocol.
func (a *Adapter) SetKey(ctx context.Context, key auth.KeyRecord) error {
	ctx = isolate(ctx)
	if err := checkKey(key); err != nil {
		return err
	}
	return a.insertOwned(ctx, a.keys, key.ID, key.UserID, keyDocument(key), auth.ErrDuplicateKeyID)
}

// GetKey implements auth.UserAdapter.
func (a *Adapter) GetKey(ctx context.Context, keyID string) (auth.KeyRecord, error) {
	ctx = isolate(ctx)
	if err := auth.CheckID("key id", keyID); err != nil {
		return auth.KeyRecord{}, err
	}
	doc, err := findByID(ctx, a.keys, keyID)
	if err != nil {
		return auth.KeyRecord{}, err
	}
	return decodeKey(doc)
}

// GetKeysByUserID implements auth.UserAdapter.
func (a *Adapter) GetKeysByUserID(ctx context.Context, userID string) ([]auth.KeyRecord, error) {
	ctx = isolate(ctx)
	if err := auth.CheckID("user id", userID); err != nil {
		return nil, err
	}
	return findAll(ctx, a.keys, byUserID(userID), decodeKey)
}

// UpdateKeyPassword implements auth.UserAdapter.
func (a *Adapter) UpdateKeyPassword(ctx context.Context, keyID string, hashedPassword *string) (auth.KeyRecord, error) {
	ctx = isolate(ctx)
	if err := auth.CheckID("key id", keyID); err != nil {
		return auth.KeyRecord{}, err
	}
	var hash any
	if hashedPassword != nil {
		hash = *hashedPassword
	}
	doc, err := findAndSet(ctx, a.keys, keyID, bson.D{{Key: fieldHashedPassword, Value: hash}})
	if err != nil {
		return auth.KeyRecord{}, notFoundAs(err, auth.ErrInvalidKeyID)
	}
	return decodeKey(doc)
}

// DeleteNonPrimaryKey implements auth.UserAdapter.
func (a *Adapter) DeleteNonPrimaryKey(ctx context.Context, keyID string) error {
	ctx = isolate(ctx)
	if err := a.ConsumeKey(ctx, keyID); !errors.Is(err, auth.ErrNotFound) {
		return err
	}
	return nil // a missing key is not an error here
}

// ConsumeKey implements auth.KeyConsumer. The server's count of deleted
// documents tells exactly one of any number of concurrent callers that it
// deleted the key. (findAndModify would return the document too, but
// FerretDB v1 does not run it atomically: two callers can both get it.)
func (a *Adapter) ConsumeKey(ctx context.Context, keyID string) error {
	ctx = isolate(ctx)
	if err := auth.CheckID("key id", keyID); err != nil {
		return err
	}
	res, err := a.keys.DeleteOne(ctx, nonPrimaryKey(keyID))
	if err != nil {
		return wrap("delete key", err)
	}
	if res.DeletedCount == 0 {
		return auth.ErrNotFound
	}
	return nil
}

// DeleteKeysByUserID implements auth.UserAdapter.
func (a *Adapter) DeleteKeysByUserID(ctx context.Context, userID string) error {
	ctx = isolate(ctx)
	if err := auth.CheckID("user id", userID); err != nil {
		return err
	}
	return a.deleteKeys(ctx, userID)
}

// GetSession implements auth.SessionAdapter.
func (a *Adapter) GetSession(ctx context.Context, sessionID string) (auth.SessionRecord, error) {
	ctx = isolate(ctx)
	if err := auth.CheckID("session id", sessionID); err != nil {
		return auth.SessionRecord{}, err
	}
	doc, err := findByID(ctx, a.sessions, sessionID)
	if err != nil {
		return auth.SessionRecord{}, err
	}
	return decodeSession(doc)
}

// GetSessionsByUserID implements auth.SessionAdapter.
func (a *Adapter) GetSessionsByUserID(ctx context.Context, userID string) ([]auth.SessionRecord, error) {
	ctx = isolate(ctx)
	if err := auth.CheckID("user id", userID); err != nil {
		return nil, err
	}
	return findAll(ctx, a.sessions, byUserID(userID), decodeSession)
}

// SetSession implements auth.SessionAdapter. The session is inserted first
// and its user looked up second; if the user is missing, the session is
// deleted again and ErrInvalidUserID returned. Checking after inserting is
// what makes a concurrent DeleteUser safe: either this lookup sees the user
// gone, or the deletion, which removes the user before its sessions, sees
// the new session.
func (a *Adapter) SetSession(ctx context.Context, session auth.SessionRecord) error {
	ctx = isolate(ctx)
	if err := auth.CheckID("session id", session.ID); err != nil {
		return err
	}
	if err := auth.CheckID("user id", session.UserID); err != nil {
		return err
	}
	if err := checkSessionAttributes(session.Attributes); err != nil {
		return err
	}
	doc := a.withExpiresAt(sessionDocument(session), session.IdleExpires)
	return a.insertOwned(ctx, a.sessions, session.ID, session.UserID, doc, auth.ErrDuplicateSessionID)
}

// insertOwned inserts a document that belongs to a user, then checks that
// the user exists, deleting the document again if not. It never runs in a
// transaction: the check must read the latest committed data, not a
// snapshot taken before a concurrent deletion committed.
func (a *Adapter) insertOwned(ctx context.Context, coll *mongo.Collection, id, userID string, doc bson.D, duplicate error) error {
	return withUndo(ctx, func(ctx context.Context, undo *undoLog) error {
		if err := insert(ctx, coll, doc, duplicate); err != nil {
			return err
		}
		undo.push(func(ctx context.Context) error {
			_, err := coll.DeleteOne(ctx, byID(id))
			return err
		})
		err := a.users.FindOne(ctx, byID(userID), options.FindOne().SetProjection(bson.D{{Key: fieldID, Value: 1}})).Err()
		if errors.Is(err, mongo.ErrNoDocuments) {
			return auth.ErrInvalidUserID
		}
		return wrap("find user", err)
	})
}

// DeleteSession implements auth.SessionAdapter.
func (a *Adapter) DeleteSession(ctx context.Context, sessionID string) error {
	ctx = isolate(ctx)
	if err := auth.CheckID("session id", sessionID); err != nil {
		return err
	}
	_, err := a.sessions.DeleteOne(ctx, byID(sessionID))
	return wrap("delete session", err)
}

// DeleteSessionsByUserID implements auth.SessionAdapter.
func (a *Adapter) DeleteSessionsByUserID(ctx context.Context, userID string) error {
	ctx = isolate(ctx)
	if err := auth.CheckID("user id", userID); err != nil {
		return err
	}
	_, err := a.sessions.DeleteMany(ctx, byUserID(userID))
	return wrap("delete sessions", err)
}

func checkKey(k auth.KeyRecord) error {
	if err := auth.CheckID("key id", k.ID); err != nil {
		return err
	}
	return auth.CheckID("user id", k.UserID)
}
