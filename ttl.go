package mongoauth

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// SessionTTLIndex is the name of the TTL index on expires_at that
// EnsureIndexes creates on the sessions collection with Options.SessionTTL.
const SessionTTLIndex = "expires_at_1"

// fieldExpiresAt holds a session's idle_expires as a BSON Date, written only
// with Options.SessionTTL. A TTL index acts on Dates only, and idle_expires
// is a number (Lucia's schema), hence the copy.
//
// The TTL index has expireAfterSeconds 0: the server may delete a session
// once now >= expires_at, which is exactly when the session is dead for
// Lucia (valid while now < idle_expires). The server's TTL monitor runs about
// once a minute, so dead sessions linger a little; that is harmless, since
// the auth core checks expiry on every read and the adapter never treats a
// document as deleted because of its date.
//
// Sessions written without the option, or by other writers (Lucia's
// JavaScript adapters), have no expires_at and are never removed by the
// server; Repair deletes them once expired, as it does on servers without
// TTL indexes (FerretDB v1 refuses the index as NotImplemented; EnsureIndexes
// then lists it under IndexReport.Unsupported instead of failing).
const fieldExpiresAt = "expires_at"

// withExpiresAt adds expires_at, the idle expiry as a date, to a session
// document or $set when the adapter runs with Options.SessionTTL.
func (a *Adapter) withExpiresAt(doc bson.D, idleExpires int64) bson.D {
	if !a.sessionTTL {
		return doc
	}
	return append(doc, bson.E{Key: fieldExpiresAt, Value: bson.DateTime(idleExpires)})
}

// probeOption is the index option the TTL probe adds to make its request
// invalid. No server knows it.
const probeOption = "mongoauthProbe"

// ttlRefused finds out, without creating anything, whether the server
// refuses TTL indexes as not implemented, so that Check can report the TTL
// index as unsupported before anything has tried to create it. It sends
// createIndexes for the TTL index with one more option that no server
// knows. FerretDB v1 checks the options in order and refuses
// expireAfterSeconds as NotImplemented before it reaches the unknown one;
// MongoDB validates every index specification before it creates a
// collection or an index (and refuses the unknown option). Any answer other
// than "not implemented", an error or, on a server that ignored both, the
// index itself, leaves the question open: the index then counts as
// missing, and creating it (EnsureIndexes, Repair) settles it. The answer
// is remembered.
func (a *Adapter) ttlRefused(ctx context.Context, spec indexSpec) bool {
	err := a.db.RunCommand(ctx, bson.D{
		{Key: "createIndexes", Value: spec.coll.Name()},
		{Key: "indexes", Value: bson.A{bson.D{
			{Key: "key", Value: spec.key},
			{Key: "name", Value: spec.name},
			{Key: "expireAfterSeconds", Value: 0},
			{Key: probeOption, Value: true},
		}}},
	}).Err()
	if hasCode(err, codeNotImplemented, codeCommandNotSupported) {
		a.ttlUnsupported.Store(true)
		return true
	}
	return false
}
