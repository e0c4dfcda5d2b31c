package mongoauth

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// The driver runs an operation in the session a context carries
// (mongo.NewSessionContext, or the context WithTransaction hands its
// callback). The adapter never joins a caller's session: New and every
// method start with isolate, so their commands run in sessions of their
// own, outside any transaction of the caller.
//
// Joining would break what the adapter promises. Inside a caller's
// transaction, the standalone protocol's insert is invisible to concurrent
// deletions until the caller commits, and its user check reads the
// caller's snapshot, so a session could outlive its deleted user; its
// compensating deletes would roll back with the caller's abort instead of
// undoing the insert. DeleteUser's transaction and its pass after the
// commit would straddle two sessions. So an adapter call inside a caller's
// transaction commits, or fails, on its own, and the caller's abort does not
// undo it.

// isolate returns ctx without the MongoDB session it may carry; deadline,
// cancellation and values stay.
func isolate(ctx context.Context) context.Context {
	if mongo.SessionFromContext(ctx) == nil {
		return ctx
	}
	return mongo.NewSessionContext(ctx, nil)
}
