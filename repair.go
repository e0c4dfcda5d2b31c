package mongoauth

import (
	"context"
	"time"
)

// Defaults of RepairOptions.
const (
	DefaultSampleSize  = 10
	DefaultBatchSize   = 500
	DefaultOrphanGrace = time.Minute
)

// RepairOptions tune Check and Repair. The zero value is ready to use.
type RepairOptions struct {
	// Now is the moment expiry is judged against; zero means time.Now().
	// A session is expired when Now >= idle_expires, a key when it has an
	// expiry (a single-use key) and Now >= expires.
	Now time.Time
	// SampleSize is how many ids each finding keeps; default
	// DefaultSampleSize.
	SampleSize int
	// BatchSize is how many documents have their users looked up in one
	// query, and how many are deleted by one DeleteMany; default
	// DefaultBatchSize.
	BatchSize int
	// OrphanGrace is how long Repair waits after its scan before it looks
	// the users of orphan candidates up a second time and deletes only the
	// sessions and keys whose user is still missing; default
	// DefaultOrphanGrace. It protects a SetSession or SetKey that is still
	// running: such a call inserts first and looks its user up second, so a
	// session may briefly exist before the user it names (when that user is
	// being created at the same moment). A negative value skips the wait;
	// use it only when no application writes to the database. See sweep.go.
	OrphanGrace time.Duration
}

func (o RepairOptions) withDefaults() RepairOptions {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.SampleSize <= 0 {
		o.SampleSize = DefaultSampleSize
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.OrphanGrace == 0 {
		o.OrphanGrace = DefaultOrphanGrace
	}
	return o
}

// Report is what Check found, and with Repair also what it changed.
//
// The categories of sessions and keys do not overlap: an expired document
// counts as expired whether or not its user exists (it is dead either way),
// and only a document that is not expired is checked for its user. A
// document the adapter cannot read counts under Unreadable only.
type Report struct {
	// Now is the moment expiry was judged against.
	Now time.Time
	// Indexes compares the indexes the adapter needs with those present.
	Indexes IndexState
	// Scanned counts the documents read.
	Scanned struct{ Users, Sessions, Keys int }
	// OrphanSessions and OrphanKeys name a user that does not exist.
	OrphanSessions, OrphanKeys Finding
	// ExpiredSessions have Now >= idle_expires; ExpiredKeys have an expiry
	// and Now >= expires. Primary keys are never counted as expired: Lucia
	// creates them persistent, and like DeleteNonPrimaryKey the sweep
	// removes a primary key only with its user.
	ExpiredSessions, ExpiredKeys Finding
	// ExpiredThrottleRecords are the records of Adapter.ThrottleStore (and
	// its lock documents) whose until has passed, with
	// Options.ThrottleCollection: healed records, which the TTL index
	// removes where the server has one. Their ids are shown as their kind
	// and a digest ("key:… sha256:1a2b3c4d"): they hold usernames and
	// addresses.
	ExpiredThrottleRecords Finding
	// Unreadable documents have a non-string _id or a wrongly typed field,
	// by the same rules the adapter's reads apply (*DocumentError). They are
	// reported, never deleted: see Repair.
	Unreadable Unreadable
}

// Finding is one category of documents.
type Finding struct {
	// Found counts the documents in the category.
	Found int
	// Deleted counts the documents Repair deleted (always 0 from Check).
	// It can be less than Found: Repair keeps an orphan whose user appeared
	// during OrphanGrace, and a document the application deleted meanwhile
	// is not counted.
	Deleted int
	// Sample holds the ids of the first documents found, at most
	// RepairOptions.SampleSize. Session ids are bearer secrets, so a
	// session is shown by its first six characters and the first 8 hex
	// digits of the SHA-256 of its id ("abc123… sha256:1a2b3c4d"), which
	// tells sessions apart and finds the document again (match the digest
	// among the sessions with that prefix) without revealing the id; as in
	// DocumentError.
	Sample []string
}

func (f *Finding) add(id string, limit int) {
	f.Found++
	if len(f.Sample) < limit {
		f.Sample = append(f.Sample, id)
	}
}

// Unreadable counts the documents the adapter cannot read.
type Unreadable struct {
	Found  int
	Sample []*DocumentError
}

// Problems counts everything Check found that needs attention: missing
// and conflicting indexes, orphan and expired sessions and keys, healed
// throttle records, unreadable documents. An index the server does not support is not a problem (the
// sweep does its work). On a report from Repair it counts what Repair
// found, not what remains; run Check again for that.
func (r *Report) Problems() int {
	n := len(r.Indexes.Missing) + len(r.Indexes.Created) + len(r.Indexes.Conflicts) + r.Unreadable.Found
	for _, f := range []Finding{r.OrphanSessions, r.OrphanKeys, r.ExpiredSessions, r.ExpiredKeys, r.ExpiredThrottleRecords} {
		n += f.Found
	}
	return n
}

// Check reads the whole store and reports what is wrong with it, changing
// nothing. It is safe to run while the application runs; what it reports
// is a snapshot that concurrent writes may already have changed (a
// session whose SetSession is half-way through can show as an orphan).
//
// Each collection is read once, as a stream, so memory does not grow with
// the number of users, sessions or keys; the users of sessions and keys are
// looked up in batches of BatchSize distinct ids with $in (one code path for
// every server: FerretDB has no $lookup).
func (a *Adapter) Check(ctx context.Context, opts RepairOptions) (Report, error) {
	ctx = isolate(ctx)
	return a.sweep(ctx, opts, false)
}

// Repair does what Check does and fixes what is safe to fix while the
// application runs:
//
//   - it creates missing indexes (as EnsureIndexes);
//   - it deletes expired sessions and expired single-use keys;
//   - it deletes orphan sessions and keys after OrphanGrace, if their user
//     is still missing then (see RepairOptions.OrphanGrace and sweep.go).
//
// It never drops a conflicting index (someone made it; it may serve another
// application) and never deletes an unreadable document: the adapter cannot
// tell what another writer still needs it for, and the adapter's reads
// already fail closed on it (a *DocumentError, never a session or key).
// Fix those by hand.
//
// The report says what Repair found and what it deleted or created. Every
// delete re-checks its condition in the filter (still expired, user still
// missing), so Repair never deletes a document that stopped qualifying
// since it was read. On error the report holds what was done until then.
func (a *Adapter) Repair(ctx context.Context, opts RepairOptions) (Report, error) {
	ctx = isolate(ctx)
	return a.sweep(ctx, opts, true)
}
