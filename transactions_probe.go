package mongoauth

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// ErrNoTransactions is matched (errors.Is) by the *CapabilityError New
// returns in TransactionsRequired mode when transactions do not work on
// the server.
var ErrNoTransactions = errors.New("mongoauth: transactions required, but the server cannot run them")

// ErrNoLookup is matched (errors.Is) by the *CapabilityError New returns
// with ReadPathLookup when the server cannot run $lookup.
var ErrNoLookup = errors.New("mongoauth: $lookup required, but the server cannot run it")

// CapabilityError is returned by New when the options require a capability
// the server lacks: transactions (TransactionsRequired) or $lookup
// (ReadPathLookup). errors.Is matches ErrNoTransactions or ErrNoLookup.
type CapabilityError struct {
	// Capability is "transactions" or "$lookup".
	Capability string
	// Reason says what New found: the kind of deployment, or which probe
	// failed and how.
	Reason string
	// Err is the server's error from the probe, if there was one.
	Err error
}

// Capabilities named by CapabilityError.
const (
	capabilityTransactions = "transactions"
	capabilityLookup       = "$lookup"
)

func (e *CapabilityError) Error() string {
	return fmt.Sprintf("mongoauth: %s required, but %s", e.Capability, e.Reason)
}

func (e *CapabilityError) Unwrap() error { return e.Err }

func (e *CapabilityError) Is(target error) bool {
	return target == ErrNoTransactions && e.Capability == capabilityTransactions ||
		target == ErrNoLookup && e.Capability == capabilityLookup
}

// chooseTransactions decides whether the adapter uses transactions. A
// replica set name in hello is a claim, not a proof: FerretDB v2 advertises
// one (--dev-repl-set-name), applies a transaction's writes at once and
// answers commitTransaction with CommandNotFound. So, unless they are off,
// transactions are used only after a probe transaction has committed.
func (a *Adapter) chooseTransactions(ctx context.Context, mode TransactionMode, server serverInfo) error {
	switch mode {
	case TransactionsOff:
		a.transactionsReason = "off: Options.Transactions is TransactionsOff"
		return nil
	case TransactionsAuto, TransactionsRequired:
	default:
		return fmt.Errorf("mongoauth: unknown transaction mode %d", mode)
	}
	var probeErr error
	switch {
	case server.SetName == "" && !server.mongos():
		a.transactionsReason = "standalone server: transactions need a replica set or a sharded cluster"
	case server.LogicalSessionTimeoutMinutes == nil:
		a.transactionsReason = server.topology() + " without sessions (hello has no logicalSessionTimeoutMinutes)"
	default:
		// DocumentDB-based engines cannot run a transaction on a collection
		// that does not exist yet, not even a read: on an empty database the
		// probe would fail there, and succeed at the next start, once the
		// collections exist. So they are made first (empty, without
		// indexes; EnsureIndexes adds those). A user who may not create
		// collections gets the probe as it is.
		if err := a.ensureCollections(ctx); err != nil && !hasCode(err, codeUnauthorized) {
			return fmt.Errorf("mongoauth: create the collections for the probe transaction: %w", err)
		}
		probeErr = a.probeTransaction(ctx)
		switch {
		case probeErr == nil:
			a.transactions = true
			a.transactionsReason = server.topology() + ": a probe transaction committed"
			return nil
		case !transactionsUnsupported(probeErr):
			// An election, a timeout, missing privileges: nothing is known
			// about transactions yet, and guessing would fix the protocol
			// for the life of the process.
			return fmt.Errorf("mongoauth: probe transaction on the %s: %w", server.topology(), probeErr)
		}
		a.transactionsReason = server.topology() + " advertised, but a probe transaction failed: " + probeErr.Error()
	}
	if mode == TransactionsRequired {
		return &CapabilityError{Capability: capabilityTransactions, Reason: a.transactionsReason, Err: probeErr}
	}
	return nil
}

// probeTransaction runs a transaction the way the adapter's own run (same
// options, on the users collection, then a commit) that changes nothing:
// it finds the document whose _id is a new ObjectID, which no document has
// (the adapter's ids are strings, and an ObjectID is unique). A read
// creates no collection, which a transaction may not do on a sharded
// cluster (the collection exists anyway: chooseTransactions creates it),
// and leaves nothing behind on a server that applies a transaction's
// statements at once (FerretDB v2); the commit is what such servers fail.
func (a *Adapter) probeTransaction(ctx context.Context) error {
	sess, err := a.db.Client().StartSession()
	if err != nil {
		return err
	}
	defer sess.EndSession(ctx) // aborts the transaction if it is still open
	if err := sess.StartTransaction(transactionOptions(a.writeConcern)); err != nil {
		return err
	}
	err = a.users.FindOne(mongo.NewSessionContext(ctx, sess), byObjectID(bson.NewObjectID())).Err()
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("find in a transaction: %w", err)
	}
	if err := sess.CommitTransaction(ctx); err != nil {
		return fmt.Errorf("commitTransaction: %w", err)
	}
	return nil
}

func byObjectID(id bson.ObjectID) bson.D { return bson.D{{Key: fieldID, Value: id}} }

// Server error codes that say "this server does not do transactions", from
// a probe whose commands are valid on MongoDB: IllegalOperation ("Transaction
// numbers are only allowed on a replica set member or mongos"),
// CommandNotFound (no commitTransaction: FerretDB v2), CommandNotSupported,
// NotImplemented, FailedToParse and 40415 (an unknown field such as
// readConcern or startTransaction: FerretDB v1), ReadConcernMajorityNotEnabled
// and OperationNotSupportedInTransaction. Anything else (NotWritablePrimary,
// ShutdownInProgress, Unauthorized, a timeout, a network error) says
// nothing about transactions and fails New.
var transactionsUnsupportedCodes = []int{20, codeCommandNotFound, codeCommandNotSupported, codeNotImplemented, 9, 40415, 148, 263}

func transactionsUnsupported(err error) bool {
	return hasCode(err, transactionsUnsupportedCodes...)
}
