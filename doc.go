// Package mongoauth stores Lucia-style users, sessions and keys in MongoDB.
//
// It implements the adapter contract of package auth ([auth.Adapter],
// [auth.SessionAndUserGetter] and [auth.KeyConsumer]) over three collections
// keyed by the application's string ids. MongoDB has no foreign keys, so the
// adapter keeps the integrity a relational schema gets from them itself:
//
//   - a session or key is only stored for an existing user, also while that
//     user is being deleted concurrently;
//   - deleting a user deletes its sessions and keys;
//   - creating a user with its primary key stores both or neither.
//
// Where the deployment can run transactions (a replica set or a sharded
// cluster whose probe transaction commits at New) multi-document writes run
// in one transaction. Where it cannot (a standalone server, FerretDB) the
// same steps run in a fixed order, with compensating deletes on failure; see
// "Standalone servers" below for the protocol and what a crash in the middle
// can leave behind.
//
// The adapter fixes its own read and write concerns, never joins a MongoDB
// session carried by a caller's context, chooses how to read a session with
// its user by measuring, and supports MongoDB 4.4 and newer, sharded on _id.
//
//	adapter, err := mongoauth.New(ctx, db, mongoauth.Options{})
//	report, err := adapter.EnsureIndexes(ctx) // collections and indexes; report.Created, report.Existing
//	log.Printf("transactions: %v (%s); read path: %s (%s)", adapter.UsesTransactions(),
//		adapter.TransactionsReason(), adapter.ReadPath(), adapter.ReadPathReason())
//	a, err := auth.New[Profile](adapter, auth.Config{})
//
// # What New checks
//
// [New] needs a reachable server. It asks the server what it is and what it
// can do, and keeps the answers for the life of the adapter:
//
//   - Version: maxWireVersion from hello (isMaster on 4.4.0–4.4.1, which lack
//     hello); below 9 (MongoDB 4.4) gives a [*ServerVersionError].
//   - Transactions: a replica set or mongos in hello, then a probe
//     transaction that commits and changes nothing; see "Transactions".
//     Before the probe New creates the three collections if missing (empty,
//     without indexes): DocumentDB-based engines cannot run a transaction on
//     a collection that does not exist yet, so on an empty database the probe
//     would fail, and the mode would change at the next start. This is all
//     New creates, and only where it probes.
//   - $lookup: an aggregation that matches nothing; with [ReadPathAuto] a
//     calibration of both paths (at most about half a second); see "Read
//     path".
//   - Shard keys, on a mongos: config.collections, when the user may read it;
//     a key other than {_id: 1} or {_id: "hashed"} gives a [*ShardKeyError].
//
// A probe error that says nothing about the capability (NotWritablePrimary,
// ShutdownInProgress, Unauthorized, a timeout) fails New instead of fixing a
// guess for the life of the process; the driver retries the transient ones
// within ctx's deadline. [Options] is a plain struct whose zero value means:
// collections auth_user, auth_session, auth_key; [TransactionsAuto];
// [ReadPathAuto]; writes with w: "majority"; no TTL field. The doctor and
// authbench commands print the transaction mode and read path with their
// reasons.
//
// # Read and write concerns
//
// The adapter sets its read and write concerns itself, on its own database
// and collection handles and on its transactions; the client's URI and
// options (w=0, readConcernLevel=..., readPreference=...) do not reach it:
//
//   - Writes use [Options].WriteConcern, default w: "majority"; New refuses
//     w: 0. A duplicate id is only known from the server's reply, and
//     compensation only runs for a step known to have failed; a majority
//     write survives a failover.
//   - Reads use "local", on the primary. The standalone protocol must see the
//     latest acknowledged writes: "majority" can miss a w: 1 deletion it must
//     see, "available" can return orphaned documents on a sharded cluster.
//   - Transactions read at "snapshot" and commit with the write concern, on
//     the primary. An inherited "available", "linearizable", w: 0 or
//     secondary read preference would make every transaction fail.
//
// "local" can return a write that a failover later rolls back; with majority
// writes, only one whose call has not returned yet. w: 1 keeps the adapter
// correct while a primary lives, but a failover may roll back an
// acknowledged session or deletion.
//
// A majority write waits for a majority of the replica set. When the set
// has lost its majority, that wait has no end of its own: the adapter sets
// no wtimeout. Give every call a deadline (ctx): the driver then sends the
// time left as maxTimeMS, so the server stops waiting too, and the call
// returns by then. Or set the client's timeoutMS (client-side operation
// timeout, options.Client().SetTimeout), which does the same for every
// operation without a deadline of its own. A commit cut short that way
// returns an [*UnknownCommitResultError] (see "Transactions").
//
// Your MongoDB sessions stay yours. A session carried by ctx
// (mongo.NewSessionContext, or the context WithTransaction hands its
// callback) never carries an adapter command: New and every method run in
// sessions of their own. Joining would break the protocol (its insert
// invisible to concurrent deletions until you commit, its user check reading
// your snapshot, its compensation undone by your abort). So an adapter call
// made inside your transaction commits, or fails, on its own, and your abort
// does not undo it.
//
// # Schema
//
// One document per record, keyed by the application's string id. _id is
// never an ObjectId and never generated by the database.
//
//	auth_user     _id string; user attributes as top-level fields
//	              indexes: _id
//	auth_session  _id string, user_id string, active_expires Int64,
//	              idle_expires Int64, issued_at Int64 (Unix ms; absent in
//	              Lucia's); with SessionTTL also expires_at Date;
//	              session attributes as top-level fields
//	              indexes: _id, user_id_1; with SessionTTL also expires_at_1 (TTL)
//	auth_key      _id string (provider:providerUserId), user_id string,
//	              hashed_password string or null, primary_key bool,
//	              expires Int64 or null (Unix ms; null = persistent key)
//	              indexes: _id, user_id_1
//	auth_throttle with Options.ThrottleCollection: _id string (the
//	              record's key), until Date; indexes: _id, until_1 (TTL)
//
// [Adapter.EnsureIndexes] creates the three collections and the user_id_1
// indexes when missing (and the throttle collection with its TTL index; see
// [ThrottleStore]) and reports what it created and what already existed;
// an equivalent index under another name counts as existing. An index that
// conflicts (the name user_id_1 on another key, or a unique, sparse or
// partial index on user_id) gives an [*IndexConflictError] and is left alone.
// Indexes are never created implicitly during a write.
//
// Reads accept what Lucia's Prisma and mongoose adapters write: expiry
// fields as Int32, Int64 or Double (whole numbers), a missing hashed_password
// or expires as null, and mongoose's __v, which never appears among user
// attributes. A document the adapter cannot read (a non-string _id, a text
// expiry, a truncated document) gives a [*DocumentError] naming the record
// and field; nothing panics.
//
// User attributes are top-level fields. Names that are empty, start with $,
// contain . or a control character, are invalid UTF-8, or are id, _id or __v
// are rejected with an [*auth.InputError] (matching [auth.ErrInvalidInput])
// before anything is sent; so are such names inside nested maps (also
// bson.M, bson.D and structs), and string values that are not valid UTF-8.
// Read back, values are plain Go: every integer is int64, dates time.Time in
// UTC (BSON keeps milliseconds), documents map[string]any, arrays []any. Ids
// must be non-empty UTF-8 without NUL, at most 2048 bytes
// ([auth.MaxIDLength]; MongoDB has no index key limit since 4.2); filters
// only ever use them as values of _id or user_id, so an id like {"$gt":""}
// is just a string. Session attributes follow the same rules;
// [Adapter.UpdateSession] sets each as a top-level field, keeping the others
// (FerretDB v1 rewrites the whole document, so there two concurrent updates
// of different attributes can lose one).
//
// # Integrity without foreign keys
//
//   - [Adapter.SetUser] with a key: user and key are stored together, or
//     neither; a taken key id gives [auth.ErrDuplicateKeyID] and leaves no
//     user behind.
//   - [Adapter.SetSession], [Adapter.SetKey]: an unknown user gives
//     [auth.ErrInvalidUserID], also while that user is being deleted: after
//     both calls return, no session or key of the deleted user exists.
//   - [Adapter.DeleteUser] removes the user, its sessions and its keys.
//   - [Adapter.GetSessionAndUser]: one $lookup aggregation or two finds by
//     _id (see "Read path"); a session whose user is missing reads as not
//     found.
//   - [Adapter.ConsumeKey] deletes a single-use key for exactly one of
//     concurrent callers.
//   - [Adapter.ReplaceKeyPassword]: one update whose filter holds the old
//     hash, judged by the matched count: atomic on MongoDB. FerretDB v1 runs
//     an update as a read, then a write of the whole document, so two callers
//     can both match and a password change in between is overwritten (the
//     conformance race tests fail there in every run); on FerretDB the call
//     returns errors.ErrUnsupported and writes nothing, and logins do not
//     upgrade old hashes there.
//   - [Adapter.UpdateSession], [Adapter.DeleteExpiredSessions]: one update by
//     id (never an upsert; with SessionTTL also expires_at), one deleteMany
//     by user_id and idle_expires ($lte compares Int32, Int64 and Lucia's
//     Doubles by value).
//
// # Transactions
//
// [Options].Transactions is one of:
//
//   - [TransactionsAuto] (the default): transactions when hello reports a
//     replica set or a mongos and a probe transaction commits; the
//     standalone protocol otherwise.
//   - [TransactionsRequired]: where auto would fall back, New fails with a
//     [*CapabilityError] (matches [ErrNoTransactions]) whose Reason says
//     what failed.
//   - [TransactionsOff]: always the standalone protocol; no probe.
//
// [Adapter.UsesTransactions] says which, [Adapter.TransactionsReason] why
// (such as: replica set "rs0": a probe transaction committed; or: standalone
// server: ...), or the probe's failure with the server's error. hello alone is a
// claim, not a proof: FerretDB v2 on DocumentDB advertises a replica set
// (--dev-repl-set-name), applies a transaction's writes at once and answers
// commitTransaction with CommandNotFound, so with a transaction every SetUser
// would fail after its writes were applied. The probe runs a transaction with
// the adapter's own options that reads {_id: <new ObjectId>} from the users
// collection and commits: it matches no document (the adapter's ids are
// strings), creates no database or collection (which a transaction may not
// do on a sharded cluster), and leaves nothing behind where statements apply
// at once; the commit is what such servers fail. Only answers that mean "no
// transactions here" make auto fall back (codes 20 IllegalOperation, 59
// CommandNotFound, 115, 238 NotImplemented, 9 FailedToParse and 40415 for
// unknown transaction fields, 148, 263); any other error fails New.
//
// MongoDB has multi-document transactions only on replica sets and sharded
// clusters. A single-node replica set is enough: start mongod --replSet rs0
// and run rs.initiate() once. With transactions, SetUser-with-key and
// DeleteUser each run in one transaction. Both paths run the same code; only
// a thin wrapper differs: it either runs the steps in a transaction or runs
// them one by one with compensation.
//
// The wrapper retries as the driver's WithTransaction does (the whole
// transaction on TransientTransactionError, the commit on
// UnknownTransactionCommitResult, with the same backoff, for at most 120 s)
// but within the caller's deadline: WithTransaction commits with a context
// of its own and keeps committing for up to 120 s whatever the caller's
// deadline (a commit the server held for 6 s held a call given 300 ms for 6
// s; a commit answered with a write-concern timeout was sent 196 times in 10
// s). Here each commit is sent with the caller's ctx, so the driver sends
// the time left as maxTimeMS and gives up by the deadline. When the deadline
// passes after a commit was sent, or the client's timeoutMS or the server's
// maxTimeMS cuts it short, or the result stays unknown for 120 s, the call
// returns an [*UnknownCommitResultError] (matches [ErrUnknownCommitResult]
// and the context's error): the writes may or may not have been applied,
// and the next read, on the primary, shows which. No abortTransaction
// follows a sent commit, as it could race the commit on the server. Every
// adapter write can be retried after it: DeleteUser again deletes what is
// left; SetUser again reports the user id as taken if the first one
// committed.
//
// # Read path
//
// [Adapter.GetSessionAndUser] runs on every validated request.
// [Options].ReadPath is one of:
//
//   - [ReadPathAuto] (the default): two finds where the server cannot run
//     $lookup; elsewhere New times both paths as requests feel them and
//     keeps $lookup unless two finds are faster.
//   - [ReadPathLookup]: one aggregation, $match on _id then $lookup of the
//     user; where the server cannot run it, New fails with a
//     [*CapabilityError] (matches [ErrNoLookup]).
//   - [ReadPathTwoReads]: find the session by _id, then the user by _id; New
//     sends no probe.
//
// Fewer commands is not always faster. On MongoDB a round trip dominates and
// one aggregation beats two finds. On FerretDB v2 over DocumentDB (and
// Azure's vCore service, the same engine) an aggregation with $lookup
// answers in a few milliseconds but keeps its connection busy some 55 ms
// more: one after the other, each takes 55–61 ms, against 1–2.5 ms for two
// finds by _id. A calibration that alternates the paths bills that wait to
// the finds that follow and picks $lookup (measured there: "$lookup 6.2 ms,
// two finds 22 ms", then 18 validations/s where two finds give hundreds).
//
// So auto times each path the way a stream of requests feels it: for each
// path, one read that does not count, then consecutive reads (at least one,
// at most 7, while the path's time stays within 250 ms), of a session stored
// in the database and its user (whichever find returns first), through the
// same code as GetSessionAndUser. Where no session is stored yet it reads
// ids no document has, sending the same commands (two finds, not one),
// though such a $lookup joins nothing (and costs DocumentDB nothing); the
// first GetSessionAndUser that reads a stored session then times both
// paths again on it, once, beside that read, and [Adapter.Recalibrate]
// does so whenever called. $lookup is kept
// unless its median is more than 1.1× that of the two finds, so that auto
// stays within 10% of the faster path. [Adapter.ReadPath] and
// [Adapter.ReadPathReason] report the choice and the medians; Recalibrate
// returns them as a [Calibration], and with ReadPathAuto switches the
// adapter to the faster path; the doctor command prints its result, and
// authbench -read-path lookup|two-reads forces a path to compare both.
//
// Measured (go test -run '^$' -bench ReadPathOnEngines -benchtime 4s .,
// three runs, 2 loaded cores), validate-with-user under auto against the
// faster forced path: 0.98–1.02× on the embedded FerretDB v1 (two finds;
// no $lookup there), 1.01–1.04× on the proxy's DocumentDB (two finds,
// 0.66 ms, against 57 ms for $lookup), 1.00–1.05× where the aggregate is
// fast ($lookup, 0.7 ms, against 7.6 ms for finds of 3 ms).
//
// Only "this server has no such stage" answers mean no $lookup: 40324
// (MongoDB's "Unrecognized pipeline stage name"), 238 NotImplemented
// (FerretDB v1) and 28769 (a sharded users collection before MongoDB 5.1,
// see "Sharded clusters").
//
// # Standalone servers
//
// On a standalone mongod, on FerretDB, or with [TransactionsOff], the same
// steps run without a transaction, in an order chosen so that concurrent
// calls stay correct, and failures are compensated:
//
//  1. SetSession and SetKey insert the document first and look the user up
//     second. If the user is missing, the document is deleted again and the
//     call returns [auth.ErrInvalidUserID]. This runs the same way with
//     transactions: the check must see the latest committed data, not a
//     transaction's snapshot.
//  2. DeleteUser deletes the user first, then its sessions, then its keys. A
//     concurrent insert either runs its lookup after the user is gone and
//     undoes itself, or ran its lookup before, in which case its document
//     was inserted earlier still and the deletion of sessions and keys
//     removes it. With transactions the user and its keys are deleted in one
//     transaction; after the commit the sessions are deleted in batches of
//     1,000 (find their ids, delete those), each a short command outside
//     the transaction, so that a user with 100,000 sessions stays deletable
//     within a transaction's lifetime limit (60 s on MongoDB, 30 s on
//     Azure's vCore service), and the keys once more, to catch inserts the
//     transaction's snapshot could not see. Until the batches are done the
//     sessions are orphans, which no read accepts.
//  3. SetUser with a key inserts the user, then the key; if the key id is
//     taken, the user is deleted again (with the full cascade of step 2).
//
// Compensation, and DeleteUser's cascade once the user is gone, run even
// when the caller's context has ended (for at most 10 seconds more),
// because half a write left behind is worse than a late return.
// What the protocol cannot survive is the application dying, or the
// connection failing, between two steps: that can leave sessions or keys
// whose user is gone (orphans: every auth core call that meets such a session
// refuses and deletes it; [Adapter.Repair] removes the rest) or, in step 3, a
// user without its key while the call returned an error. Use transactions where that matters.
//
// # Sharded clusters
//
// Shard keys. Shard a collection, if at all, on {_id: "hashed"} or {_id: 1}.
// MongoDB keeps _id unique across shards only when _id leads the key, and
// the duplicate-id errors depend on it; a compound key led by _id breaks
// findAndModify by _id alone (UpdateUser, UpdateKeyPassword) on servers
// without SERVER-44422. On a mongos, New reads the keys from
// config.collections and refuses any other with a [*ShardKeyError] that
// shows the key it found; an application user usually may not read that
// collection, and then nothing is checked.
//
// What scatters. With _id keys, reads and writes by id go to one shard:
// GetSession, GetUser, GetKey, SetSession and SetKey (insert, then the user
// check), SetUser, UpdateUser, UpdateKeyPassword, ConsumeKey, DeleteSession,
// and GetSessionAndUser (each find, or the $lookup from 5.1). Everything by
// user_id goes to every shard: GetSessionsByUserID, GetKeysByUserID,
// DeleteSessionsByUserID, DeleteKeysByUserID, DeleteUser's cascade; Check and
// Repair scan all. A user_id key would target those but break id uniqueness.
//
// Transactions of SetUser-with-key and DeleteUser may span shards (two-phase
// commit). A transaction that writes to several shards cannot create a
// collection, which is why EnsureIndexes creates all three first.
//
// EnsureIndexes works through the mongos: a missing collection is created
// unsharded (on the database's primary shard), and createIndexes builds each
// index on every shard that owns chunks of a sharded collection (shards that
// receive chunks later get it with them). It never shards a collection: do
// that yourself, e.g. sh.shardCollection("app.auth_session", {_id:
// "hashed"}). Its listIndexes answers for one shard, so an index a failed
// build left missing on another shard goes unseen ($indexStats shows each
// shard's).
//
// $lookup from a sharded users collection fails before MongoDB 5.1 (error
// 28769). New's probe then chooses two finds; if the collection is sharded
// after New chose $lookup, GetSessionAndUser answers that read with two finds
// and keeps to them (ReadPathReason says since when). From 5.1 it works.
//
// # Supported servers
//
//   - MongoDB 4.4 and newer (wire version 9+): transactions on replica sets
//     and sharded clusters, $lookup, TTL. 4.4 is the driver's minimum too: it
//     refuses older servers itself, with an error naming 4.4; New's own check
//     gives a [*ServerVersionError]. Tested in this repository through
//     FerretDB and the tests' wire proxy only.
//   - FerretDB v1 (tested: 1.24.2; reports MongoDB 7.0, wire version 21):
//     standalone protocol, two finds, no TTL index (Repair does its work).
//   - The DocumentDB engine: FerretDB v2 over Microsoft's DocumentDB
//     extension, and Azure DocumentDB (vCore). Transactions where the probe
//     commits (FerretDB v2's does not: standalone protocol), after New made
//     the collections; two finds, by calibration ($lookup keeps its
//     connection busy); duplicate values named from the index's name or by
//     a lookup (see "Errors"). Not run here: its answers and timings are
//     replayed by the wire proxy in the tests, the conformance suite
//     included.
//
// New decides the transaction mode and read path once; a deployment that
// changes later (made a replica set, upgraded, moved) is seen at the next
// start. The exceptions: a users collection sharded later on a server
// before 5.1, and the read path after [Adapter.Recalibrate].
//
// # Errors
//
//   - [auth.ErrNotFound]: a read found no such user, session or key.
//   - [auth.ErrInvalidUserID]: the user does not exist (SetSession, SetKey,
//     UpdateUser).
//   - [auth.ErrInvalidKeyID]: the key does not exist (UpdateKeyPassword).
//   - [auth.ErrDuplicateUserID], [auth.ErrDuplicateKeyID],
//     [auth.ErrDuplicateSessionID]: the id is taken.
//   - [auth.ErrDuplicateValue] ([*auth.DuplicateValueError]): a unique index
//     of your own (an email) refused the value; never reported as a taken id.
//   - [auth.ErrInvalidInput] ([*auth.InputError]): a malformed id or
//     attribute, refused before any database call.
//   - [*DocumentError]: a stored document the adapter cannot read.
//   - [*IndexConflictError]: EnsureIndexes found an index in the way.
//   - [*CapabilityError] (matches [ErrNoTransactions] or [ErrNoLookup]): New
//     with TransactionsRequired or ReadPathLookup on a server that cannot;
//     Reason says what failed.
//   - [*ServerVersionError]: New, on a server older than MongoDB 4.4.
//   - [*UnknownCommitResultError] (matches [ErrUnknownCommitResult]): a
//     transaction's commit was sent, but its outcome was unknown when the
//     call had to return; read to find out.
//   - [*ShardKeyError]: New, on a collection sharded on another key than
//     {_id: 1} or {_id: "hashed"}.
//
// A duplicate key (codes 11000, 11001, 12582) is a taken id only when it is
// on _id, and every other one becomes a DuplicateValueError naming the index
// (Index) and its fields (Fields), whatever the server says of it (the
// value itself is left out, it is often personal data):
//
//   - MongoDB 4.2+ sends the index's fields (keyPattern) and its name in
//     the message ("index: email_1 dup key").
//   - DocumentDB (FerretDB v2, Azure's vCore service) sends only the name,
//     "Duplicate key violation on the requested collection: Index
//     'email_1'"; listIndexes gives its fields (and _id_ means a taken id).
//   - FerretDB v1 and MongoDB before 4.2 name nothing. One more read: if the
//     document's _id exists, the id was taken; otherwise the unique indexes
//     are checked for another document holding the values written, and the
//     first that has one is named. If none has (it was deleted meanwhile),
//     the DuplicateValueError names nothing, if the collection has a unique
//     index besides _id; if not, the id was taken.
//   - A clash caused by UpdateUser comes from DocumentDB as an InternalError,
//     `conflicting key value violates exclusion constraint
//     "documents_rum_index_985"` (a PostgreSQL constraint), and from
//     FerretDB v1 as one saying "UNIQUE constraint failed". Those words make
//     it a duplicate; the unique indexes whose fields the update sets are
//     checked as above, against the values the user would have had.
//
// Other errors are the driver's, wrapped with the operation ("mongoauth:
// insert into auth_session: ..."); timeouts and cancellations still match
// context.DeadlineExceeded and context.Canceled.
//
// A plain unique index counts a missing field as null, so only one user may
// lack the attribute; the second gets a DuplicateValueError. For an
// attribute not every user has, make the index partial
// (partialFilterExpression {email: {$exists: true}}): it then behaves as a
// SQL UNIQUE column, which ignores NULLs.
//
// # Check, Repair and doctor
//
// A crash, a lost connection, or another writer (a Lucia JavaScript app, a
// migration, a hand edit) can leave records the adapter's own protocol never
// would. [Adapter.Check] finds them, reading only; [Adapter.Repair] fixes
// what is safe:
//
//   - A missing index (user_id_1; expires_at_1 with SessionTTL):
//     Indexes.Missing; Repair creates it.
//   - A conflicting index: Indexes.Conflicts; Repair leaves it (drop it by
//     hand).
//   - An index the server does not implement (TTL on FerretDB):
//     Indexes.Unsupported, not a problem; Check asks the server without
//     creating anything.
//   - An expired session (now >= idle_expires): ExpiredSessions; Repair
//     deletes it.
//   - An expired single-use key (expires set and past; never a primary key):
//     ExpiredKeys; Repair deletes it.
//   - An orphan session or key (not expired, user missing): OrphanSessions,
//     OrphanKeys; Repair deletes it after a grace period, if the user is
//     still missing.
//   - An unreadable document (non-string _id, wrongly typed field):
//     Unreadable ([*DocumentError] samples); Repair leaves it: every read of
//     it fails closed, and another writer may need it.
//
// Each [Finding] has a count, the number deleted and a sample of up to 10
// ids. Session ids are bearer secrets, so a session shows as its first six
// characters and the first 8 hex digits of the SHA-256 of its id
// ("abc123… sha256:1a2b3c4d"): enough to tell sessions apart and to find the
// document again, for instance in mongosh,
//
//	db.auth_session.find({_id: /^abc123/}).toArray().filter(s => require("crypto").createHash("sha256").update(s._id).digest("hex").startsWith("1a2b3c4d"))
//
// but no help in guessing the id. Each collection is read once as a stream
// and users are looked up in batches of 500 with $in (one code path on every
// server), so memory does not grow with the store: a Check of 900 users,
// 10,000 sessions and 2,000 keys takes about 0.9 s on the embedded FerretDB
// (go test -run '^$' -bench BenchmarkCheck .).
//
// Repair is safe while the application runs. Every delete repeats its
// condition in its filter. Orphans need care because SetSession inserts
// before it looks its user up: a session can briefly exist before the user
// it names, if that user is being created at that moment. So Repair notes
// orphan candidates, waits [RepairOptions].OrphanGrace (default 1 minute),
// looks their users up again and deletes only candidates whose user is still
// missing (a test races session creation against user creation and deletion
// under a Repair loop).
//
// The command github.com/luciago/mongoauth/cmd/doctor runs the same from the
// command line:
//
//	MONGODB_URI='mongodb://host/app' doctor          # report only
//	MONGODB_URI='mongodb://host/app' doctor -fix     # repair what is safe, then check again
//
// Flags: -db (default: the database in the URI), -users, -sessions, -keys
// (collection names), -session-ttl, -fix, -grace (default 1m; 0 only with the
// application stopped), -sample, -timeout. The connection string is read from
// MONGODB_URI only and never printed. A database that holds none of the
// three collections (it does not exist: most likely a mistyped -db) is
// refused as a usage error, and -fix creates nothing there. Exit status: 0
// no problem left, 1 problems remain, 2 usage or database error. Example
// output:
//
//	mongoauth doctor: database "app", collections auth_user, auth_session, auth_key
//	multi-document writes: standalone protocol (standalone server: transactions need a replica set or a sharded cluster)
//	session reads: two reads (the server cannot run $lookup: (NotImplemented) `aggregate` stage "$lookup" is not implemented yet)
//	session reads timed again (Recalibrate): the server cannot run $lookup: (NotImplemented) `aggregate` stage "$lookup" is not implemented yet
//	scanned 2 users, 3 sessions, 3 keys; expiry judged at 2026-11-24T02:40:43Z
//	  index missing      auth_session.user_id_1
//	  index conflict     auth_key.user_id_1: key is {"primary_key": {"$numberInt":"1"}}, want {"user_id": {"$numberInt":"1"}} (not changed: fix by hand)
//	  orphan sessions    1  e.g. sessio… sha256:fbc50db3
//	  orphan keys        1  e.g. email:ghost
//	  expired sessions   1  e.g. old-se… sha256:13c49aa4
//	  expired keys       1  e.g. otp:ann
//	  unreadable         1 (reported, never deleted: fix or remove by hand)
//	    cannot read user document {"$numberInt":"7"}: field "_id": want a string, have 32-bit integer
//	7 problems
//
// # Session TTL
//
//	adapter, err := mongoauth.New(ctx, db, mongoauth.Options{SessionTTL: true})
//	report, err := adapter.EnsureIndexes(ctx)
//	if len(report.Unsupported) > 0 { /* no TTL indexes here: run Repair periodically */ }
//
// With [Options].SessionTTL, each new session also stores expires_at, a BSON
// Date equal to idle_expires, and EnsureIndexes creates expires_at_1
// ([SessionTTLIndex]) with expireAfterSeconds: 0, so the server deletes a
// session once it is dead. Reads never rely on it: the core checks expiry on
// every read. MongoDB creates the index (the adapter lists the indexes
// afterwards rather than trust the reply); FerretDB v1 refuses it
// (NotImplemented), which EnsureIndexes reports under Unsupported without
// failing, and Repair does the work there. Check (and doctor -session-ttl)
// finds this out before anything tried to create the index, by sending the
// index with one more option no server knows: FerretDB refuses the TTL
// option first, MongoDB refuses the unknown one while it validates, before
// it creates anything. Off by default, so documents follow the schema above
// exactly.
//
// # Behaviour under faults
//
// The package's fault tests run the standalone protocol against an embedded
// FerretDB of their own: (a) the server is stopped under four writers and
// restarted on the same data directory; (b) a proxy closes each connection
// after a random 200 to 4,000 bytes. In both, every call returns within its
// context deadline (plus at most 10 s of compensation or of DeleteUser's
// cascade), no goroutine leaks (goleak), and every acknowledged write is
// still there afterwards. What a fault can leave behind, always from a call
// that returned an error:
//
//   - DeleteUser (user deleted, sessions and keys not yet): orphan sessions
//     and keys, which the auth core refuses and deletes when it meets them;
//     retry DeleteUser (idempotent) or run Repair.
//   - SetSession or SetKey (inserted, lookup and undo failed): a record
//     nobody was told about, with no effect since its id was never handed
//     out; it expires, and Repair removes it.
//   - SetUser with a key (acknowledgement of the user insert lost, or undo
//     unreachable): the user without its key, so a retry gets
//     [auth.ErrDuplicateUserID]; clean up by hand, since Repair cannot tell it
//     from a user created without a key.
//   - DeleteSession: the session stays, so the revocation did not happen;
//     treat an error from a revocation as "not revoked" and retry.
//
// With transactions (a replica set), SetUser-with-key and DeleteUser are
// atomic (DeleteUser's sessions follow the commit, see "Standalone
// servers"), and retries settle unknown commit results within the caller's
// deadline; past it the call says so (see "Transactions").
//
// # Sharing a database with Lucia v1
//
// With @lucia-auth/adapter-mongoose, mongoose stores each model in a
// collection named after its plural: Lucia's documented models auth_user,
// auth_session, auth_key live in auth_users, auth_sessions, auth_keys unless
// the application named the collections itself. Point the adapter at them:
//
//	mongoauth.Options{UserCollection: "auth_users", SessionCollection: "auth_sessions", KeyCollection: "auth_keys"}
//
// Go reads what mongoose writes (expiries as Double, __v; see "Schema") and
// mongoose reads Go's Int64 expiries. Lucia reads only its four session
// fields, so it ignores session attributes. Package auth documents
// the rest: the one setting to use (auth.Config.LuciaV1), what each side can
// and cannot do, and the migration path.
//
// # What the adapter trusts
//
// Ids and attribute names are checked before any database call, and only
// ever used as values in filters, never as field names or operators (fuzzed:
// FuzzIDs, FuzzUserInput). Stored documents are not trusted: every read
// decodes with type checks and fails with a [*DocumentError], never a panic,
// a default value, a session or a key (fuzzed: FuzzDecoders). The server is
// trusted for what it acknowledges. Expiry is the core's business:
// [Adapter.GetSession] returns expired sessions.
//
// FerretDB v1's SQLite backend stores a field name containing a backslash or
// a control character and then cannot read the collection, and fails an
// insert whose field name contains a double quote ("malformed JSON"); avoid
// such attribute names there (MongoDB stores them literally). On that backend the user_id index is created but
// not used for queries, so listing a user's sessions or deleting a user
// scans the whole sessions collection (about 2 s with 100,000 sessions, raw
// driver and adapter alike); MongoDB uses the index.
package mongoauth
