package mongoauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/luciago/mongoauth/auth"
)

// ReadPath says how GetSessionAndUser, the read behind every validated
// request, reads a session and its user.
type ReadPath int

const (
	// ReadPathAuto is the default: two finds where the server cannot run
	// $lookup; elsewhere New times both paths for a moment and keeps
	// $lookup unless it is clearly the slower. On MongoDB a round trip
	// dominates and one aggregation beats two finds; on FerretDB v2 over
	// DocumentDB (and Azure's vCore service, the same engine) an aggregation
	// with $lookup costs a flat ~6 ms against ~1.4 ms for both finds.
	// ReadPath and ReadPathReason say what New chose and why.
	ReadPathAuto ReadPath = iota
	// ReadPathLookup reads both in one aggregation with $lookup. New fails
	// with a *CapabilityError matching ErrNoLookup where the server cannot
	// run it.
	ReadPathLookup
	// ReadPathTwoReads finds the session by _id, then its user by _id. New
	// sends no probe.
	ReadPathTwoReads
)

func (p ReadPath) String() string {
	switch p {
	case ReadPathAuto:
		return "auto"
	case ReadPathLookup:
		return "$lookup"
	case ReadPathTwoReads:
		return "two reads"
	}
	return fmt.Sprintf("ReadPath(%d)", int(p))
}

// readPathChoice is a path and why it was chosen.
type readPathChoice struct {
	path   ReadPath
	reason string
}

// ReadPath reports how GetSessionAndUser reads: ReadPathLookup or
// ReadPathTwoReads.
func (a *Adapter) ReadPath() ReadPath { return a.readPath.Load().path }

// ReadPathReason says why ReadPath is what it is: the option, the server's
// answer to the $lookup probe, or the timings of the calibration.
func (a *Adapter) ReadPathReason() string { return a.readPath.Load().reason }

// UsesLookup reports whether GetSessionAndUser reads session and user in one
// aggregation ($lookup) rather than two finds.
func (a *Adapter) UsesLookup() bool { return a.ReadPath() == ReadPathLookup }

func (a *Adapter) setReadPath(path ReadPath, reason string) {
	a.readPath.Store(&readPathChoice{path: path, reason: reason})
}

// Server error codes that mean "this server cannot run the $lookup": the
// stage is unknown (MongoDB's 40324, "Unrecognized pipeline stage name") or
// not implemented (FerretDB v1 answers NotImplemented), or the users
// collection is sharded on a server before MongoDB 5.1, which cannot look up
// from a sharded collection (28769). Any other error, such as
// NotWritablePrimary during an election, ShutdownInProgress, Unauthorized or
// a timeout, says nothing about $lookup and fails New.
const (
	codeUnrecognizedStage = 40324
	codeLookupFromSharded = 28769
)

func lookupUnsupported(err error) bool {
	return hasCode(err, codeUnrecognizedStage, codeNotImplemented, codeLookupFromSharded)
}

// lookupFromShardedReason explains the fallback after error 28769.
const lookupFromShardedReason = "the users collection is sharded, and servers before MongoDB 5.1 cannot $lookup from a sharded collection"

// chooseReadPath sets the read path for opt, probing and timing the server
// as ReadPathAuto needs.
func (a *Adapter) chooseReadPath(ctx context.Context, opt ReadPath) error {
	switch opt {
	case ReadPathTwoReads:
		a.setReadPath(ReadPathTwoReads, "Options.ReadPath is ReadPathTwoReads")
		return nil
	case ReadPathAuto, ReadPathLookup:
	default:
		return fmt.Errorf("mongoauth: unknown read path %d", opt)
	}
	_, _, err := a.readByLookup(ctx, probeID)
	switch {
	case err == nil || errors.Is(err, auth.ErrNotFound):
	case lookupUnsupported(err):
		reason := "the server cannot run $lookup: " + serverMessage(err)
		if hasCode(err, codeLookupFromSharded) {
			reason = lookupFromShardedReason + ": " + serverMessage(err)
		}
		if opt == ReadPathLookup {
			return &CapabilityError{Capability: capabilityLookup, Reason: reason, Err: err}
		}
		a.setReadPath(ReadPathTwoReads, reason)
		return nil
	default:
		return fmt.Errorf("mongoauth: probe $lookup: %w", err)
	}
	if opt == ReadPathLookup {
		a.setReadPath(ReadPathLookup, "Options.ReadPath is ReadPathLookup")
		return nil
	}
	lookup, twoReads, err := calibrate(ctx, a.measureReadPath)
	if err != nil {
		return fmt.Errorf("mongoauth: calibrate the read path: %w", err)
	}
	a.setReadPath(chooseByTimings(lookup, twoReads))
	return nil
}

// probeID is the session id of the probe and the calibration: empty, so
// never one the adapter stores (auth.CheckID refuses it). Reading another
// writer's document with that id would do no harm.
const probeID = ""

// The calibration: a warm-up of each path (a first command may pay for a
// connection or a query plan), then up to calibrationRounds rounds of both,
// in alternating order, while the time spent stays within
// calibrationBudget. A slow server gets fewer rounds; below
// minCalibrationRounds the timings decide nothing and $lookup is kept:
// there, round trips dominate, which favours the single command anyway.
const (
	calibrationRounds    = 7
	minCalibrationRounds = 3
	calibrationBudget    = 500 * time.Millisecond
)

// calibrate times both paths with measure.
func calibrate(ctx context.Context, measure func(context.Context, ReadPath) (time.Duration, error)) (lookup, twoReads []time.Duration, err error) {
	var spent time.Duration
	sample := func(p ReadPath) (time.Duration, error) {
		d, err := measure(ctx, p)
		spent += d
		return d, err
	}
	for _, p := range []ReadPath{ReadPathLookup, ReadPathTwoReads} {
		if _, err := sample(p); err != nil {
			return nil, nil, err
		}
	}
	for round := 0; round < calibrationRounds && spent < calibrationBudget; round++ {
		order := []ReadPath{ReadPathLookup, ReadPathTwoReads}
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, p := range order {
			d, err := sample(p)
			if err != nil {
				return nil, nil, err
			}
			if p == ReadPathLookup {
				lookup = append(lookup, d)
			} else {
				twoReads = append(twoReads, d)
			}
		}
	}
	return lookup, twoReads, nil
}

// lookupPenalty is how much slower than both finds together $lookup may be
// and still be kept: a margin for noise, in favour of fewer commands.
const lookupPenalty = 1.5

// chooseByTimings picks the path from the calibration's timings, and
// says why.
func chooseByTimings(lookup, twoReads []time.Duration) (ReadPath, string) {
	n := min(len(lookup), len(twoReads))
	if n < minCalibrationRounds {
		return ReadPathLookup, fmt.Sprintf("calibration incomplete (%d of %d rounds within %v): kept $lookup, one command", n, minCalibrationRounds, calibrationBudget)
	}
	l, t := median(lookup), median(twoReads)
	path := ReadPathLookup
	if float64(l) > lookupPenalty*float64(t) {
		path = ReadPathTwoReads
	}
	return path, fmt.Sprintf("calibrated: $lookup %s, two finds %s (medians of %d rounds): %s",
		milliseconds(l), milliseconds(t), n, map[ReadPath]string{ReadPathLookup: "$lookup", ReadPathTwoReads: "two finds"}[path])
}

func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[len(s)/2]
}

func milliseconds(d time.Duration) string {
	return fmt.Sprintf("%.2g ms", float64(d)/float64(time.Millisecond))
}

// measureReadPath times one read of a session that does not exist, along
// the same code as GetSessionAndUser.
func (a *Adapter) measureReadPath(ctx context.Context, p ReadPath) (time.Duration, error) {
	read := a.readTwice
	if p == ReadPathLookup {
		read = a.readByLookup
	}
	start := time.Now()
	_, _, err := read(ctx, probeID)
	if errors.Is(err, auth.ErrNotFound) {
		err = nil
	}
	return time.Since(start), err
}

// GetSessionAndUser implements auth.SessionAndUserGetter, along the path
// New chose (see ReadPath). A session whose user is missing comes back
// with auth.ErrNotFound, as the contract asks. If the users collection is sharded later, on a
// server before MongoDB 5.1, the $lookup fails with code 28769: the read is
// then made with two finds, as are all later ones.
func (a *Adapter) GetSessionAndUser(ctx context.Context, sessionID string) (auth.SessionRecord, auth.UserRecord, error) {
	ctx = isolate(ctx)
	if err := auth.CheckID("session id", sessionID); err != nil {
		return auth.SessionRecord{}, auth.UserRecord{}, err
	}
	if a.UsesLookup() {
		s, u, err := a.readByLookup(ctx, sessionID)
		if !hasCode(err, codeLookupFromSharded) {
			return s, u, err
		}
		a.setReadPath(ReadPathTwoReads, lookupFromShardedReason+" (since "+time.Now().UTC().Format(time.RFC3339)+")")
	}
	return a.readTwice(ctx, sessionID)
}

// readTwice finds the session, then its user.
func (a *Adapter) readTwice(ctx context.Context, sessionID string) (auth.SessionRecord, auth.UserRecord, error) {
	doc, err := findByID(ctx, a.sessions, sessionID) // unchecked: the calibration reads probeID
	if err != nil {
		return auth.SessionRecord{}, auth.UserRecord{}, err
	}
	s, err := decodeSession(doc)
	if err != nil {
		return auth.SessionRecord{}, auth.UserRecord{}, err
	}
	u, err := a.GetUser(ctx, s.UserID)
	if errors.Is(err, auth.ErrNotFound) {
		return s, auth.UserRecord{}, err // an orphan: the caller deletes it
	}
	if err != nil {
		return auth.SessionRecord{}, auth.UserRecord{}, err
	}
	return s, u, nil
}

// readByLookup reads session and user in one aggregation.
func (a *Adapter) readByLookup(ctx context.Context, sessionID string) (auth.SessionRecord, auth.UserRecord, error) {
	cur, err := a.sessions.Aggregate(ctx, a.sessionAndUserPipeline(sessionID))
	if err != nil {
		return auth.SessionRecord{}, auth.UserRecord{}, wrap("aggregate session and user", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	if !cur.Next(ctx) {
		if err := cur.Err(); err != nil {
			return auth.SessionRecord{}, auth.UserRecord{}, wrap("aggregate session and user", err)
		}
		return auth.SessionRecord{}, auth.UserRecord{}, auth.ErrNotFound
	}
	s, err := decodeSession(cur.Current)
	if err != nil {
		return auth.SessionRecord{}, auth.UserRecord{}, err
	}
	users, _ := cur.Current.Lookup(joinedUser).ArrayOK()
	first, err := users.IndexErr(0)
	if err != nil { // no user: the session is an orphan, which the caller deletes
		return s, auth.UserRecord{}, auth.ErrNotFound
	}
	doc, ok := first.DocumentOK()
	if !ok {
		return auth.SessionRecord{}, auth.UserRecord{}, &DocumentError{Record: "user", ID: s.UserID, Field: joinedUser, Reason: "not a document"}
	}
	u, err := decodeUser(doc)
	if err != nil {
		return auth.SessionRecord{}, auth.UserRecord{}, err
	}
	return s, u, nil
}

// joinedUser is the array field the $lookup stage adds to a session.
const joinedUser = "__user"

func (a *Adapter) sessionAndUserPipeline(sessionID string) mongo.Pipeline {
	return mongo.Pipeline{
		{{Key: "$match", Value: byID(sessionID)}},
		{{Key: "$lookup", Value: bson.D{
			{Key: "from", Value: a.users.Name()},
			{Key: "localField", Value: fieldUserID},
			{Key: "foreignField", Value: fieldID},
			{Key: "as", Value: joinedUser},
		}}},
	}
}
