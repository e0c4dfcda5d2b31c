package mongoauth

import (
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// The adapter's integrity rests on three properties of its reads and
// writes, so it sets their concerns itself, on its own database and
// collection handles and on its transactions, and ignores what the client's
// URI or options say:
//
//   - Every write is acknowledged: a duplicate id is only detected from the
//     server's reply, and the standalone protocol's compensation runs only
//     when a step is known to have failed. A client with w=0 would hide both.
//   - Writes wait for a majority (Options.WriteConcern may lower this to
//     w: 1): an acknowledged session, key or deletion then survives a
//     failover, and a reader on the new primary sees it.
//   - Reads outside transactions use read concern "local" on the primary:
//     they see every write the primary has acknowledged, the adapter's own
//     and concurrent ones. The standalone protocol depends on it
//     (SetSession inserts, then looks the user up; DeleteUser deletes the
//     user, then the sessions): a "majority" read may return a snapshot
//     older than a w: 1 deletion it must see, and "available" may return
//     orphaned documents on a sharded cluster. "local" can also return a
//     write that a failover later rolls back; with majority writes, only
//     writes whose call has not returned yet.
//   - Transactions read at "snapshot", write with the adapter's write
//     concern on commit and read from the primary: transactions refuse
//     "available", "linearizable", w: 0 and secondaries, any of which a
//     client could otherwise hand down.

// errUnacknowledged refuses a write concern without acknowledgement.
var errUnacknowledged = errors.New("mongoauth: Options.WriteConcern must be acknowledged (w: 0 would hide duplicate ids and failed writes)")

// writeConcern returns the write concern the adapter uses: the option, or
// the default. An unacknowledged or invalid one is refused.
func writeConcern(wc *writeconcern.WriteConcern) (*writeconcern.WriteConcern, error) {
	if wc == nil {
		return writeconcern.Majority(), nil
	}
	if !wc.Acknowledged() || !wc.IsValid() {
		return nil, errUnacknowledged
	}
	copied := *wc
	return &copied, nil
}

// ownDatabase returns db as the adapter uses it: the same database on the
// same client, with the adapter's concerns instead of the client's.
// Collections taken from it inherit them.
func ownDatabase(db *mongo.Database, wc *writeconcern.WriteConcern) *mongo.Database {
	return db.Client().Database(db.Name(), options.Database().
		SetWriteConcern(wc).
		SetReadConcern(readconcern.Local()).
		SetReadPreference(readpref.Primary()))
}

// transactionOptions are the options of every transaction the adapter
// starts, so that nothing is inherited from the client.
func transactionOptions(wc *writeconcern.WriteConcern) *options.TransactionOptionsBuilder {
	return options.Transaction().
		SetReadConcern(readconcern.Snapshot()).
		SetWriteConcern(wc).
		SetReadPreference(readpref.Primary())
}
