package mongoauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth/auth"
)

// ReadPath says how GetSessionAndUser, the read behind every validated
// request, reads a session and its user.
type ReadPath int

const (
	// ReadPathAuto is the default: two finds where the server cannot run
	// $lookup; elsewhere New times both paths for a moment, as requests
	// would feel them, and keeps $lookup unless two finds are faster (see
	// Adapter.Recalibrate; on an empty database, the first read of a
	// stored session times them again). On MongoDB a round trip dominates and one
	// aggregation beats two finds; on FerretDB v2 over DocumentDB (and
	// Azure's vCore service, the same engine) an aggregation with $lookup
	// keeps its connection busy for some 55 ms after its reply, so that
	// each read costs that, against 1–2.5 ms for both finds. ReadPath and
	// ReadPathReason say what New chose and why.
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
	a.readPathOption = opt
	switch opt {
	case ReadPathTwoReads:
		a.setReadPath(ReadPathTwoReads, "Options.ReadPath is ReadPathTwoReads")
		return nil
	case ReadPathLookup:
		unsupported, err := a.probeLookup(ctx)
		switch {
		case err != nil:
			return err
		case unsupported != nil:
			return unsupported
		}
		a.setReadPath(ReadPathLookup, "Options.ReadPath is ReadPathLookup")
		return nil
	case ReadPathAuto:
		c, err := a.calibrateReadPath(ctx)
		if err != nil {
			return err
		}
		a.setCalibration(c)
		return nil
	}
	return fmt.Errorf("mongoauth: unknown read path %d", opt)
}

// probeLookup runs the $lookup aggregation once, for an id no session has.
// A server that cannot run it gives a *CapabilityError (ErrNoLookup); any
// other failure, an error.
func (a *Adapter) probeLookup(ctx context.Context) (unsupported *CapabilityError, err error) {
	_, _, err = a.readByLookup(ctx, probeID)
	switch {
	case err == nil || errors.Is(err, auth.ErrNotFound):
		return nil, nil
	case lookupUnsupported(err):
		reason := "the server cannot run $lookup: " + serverMessage(err)
		if hasCode(err, codeLookupFromSharded) {
			reason = lookupFromShardedReason + ": " + serverMessage(err)
		}
		return &CapabilityError{Capability: capabilityLookup, Reason: reason, Err: err}, nil
	}
	return nil, fmt.Errorf("mongoauth: probe $lookup: %w", err)
}

// probeID is the session id of the probe, and of the calibration when no
// session is stored: empty, so never one the adapter stores
// (auth.CheckID refuses it). Reading another writer's document with that
// id would do no harm.
const probeID = ""

// Calibration is what a timing of both read paths found; see
// Adapter.Recalibrate.
type Calibration struct {
	// Path is the path the timings favour: ReadPathLookup or
	// ReadPathTwoReads. Where the server cannot run $lookup it is
	// ReadPathTwoReads, without timings.
	Path ReadPath
	// Lookup and TwoReads are the median times of one read along each path,
	// over Samples consecutive reads (or more) each, after one read that
	// does not count.
	Lookup, TwoReads time.Duration
	Samples          int
	// Stored says that the reads were of a session stored in the database,
	// with its user, as a request's are. Otherwise (no session stored yet)
	// they were of ids no document has: the same commands, but the $lookup
	// had nothing to join.
	Stored bool
	// Reason says why Path, as ReadPathReason does.
	Reason string
}

// Recalibrate times both read paths again, as New does with ReadPathAuto,
// and returns what it measured: one read along each path that does not
// count, then consecutive reads (at least one, at most 7, while the path's
// time stays within 250 ms) of a stored session and its user (whichever
// find returns first), or of ids no document has where no session is
// stored yet.
//
// Consecutive, because that is how requests feel them: on DocumentDB an
// aggregation with $lookup answers in a few milliseconds but keeps its
// connection busy for some 55 ms after, so the next command on that
// connection, whatever it is, waits that long. Timing the paths in turn
// would bill that wait to the two finds that follow and make $lookup look
// fast ("$lookup 6.2 ms, two finds 22 ms" where validations then ran at
// 18/s, a tenth of what two finds give). Of a stored session, because the
// $lookup of a session that does not exist joins nothing, and two finds of
// it stop after one.
//
// $lookup is kept unless its median is more than lookupPenalty (1.1) times
// that of the two finds: within that margin one command is worth having,
// and either path is within 10% of the faster. A path slow enough that
// fewer than three reads fit in its budget is still timed at least once
// (and the reason says "few fit"): a $lookup that slow is the very case to
// catch.
//
// With ReadPathAuto the adapter then reads along the path the timings
// favour, and ReadPathReason says why; with a path forced by
// Options.ReadPath it keeps that path, and the timings show what the other
// would cost. When New ran on an empty database it timed ids no document
// has (Calibration.Stored is false), whose $lookup joins nothing: with
// ReadPathAuto the first GetSessionAndUser that reads a stored session
// then times both paths again on it, once, beside that read (which does
// not wait for it; at most 5 s). Run Recalibrate when the deployment
// changed; the doctor command prints its result. Where the server cannot
// run $lookup it measures nothing and returns ReadPathTwoReads with the
// server's reason. It costs up to about half a second.
func (a *Adapter) Recalibrate(ctx context.Context) (Calibration, error) {
	ctx = isolate(ctx)
	c, err := a.calibrateReadPath(ctx)
	if err == nil && a.readPathOption == ReadPathAuto {
		a.setCalibration(c)
	}
	return c, err
}

// setCalibration makes c's path the read path (ReadPathAuto). A
// calibration that timed both paths on ids no document has (an empty
// database) cannot tell what a $lookup that joins costs: then the first
// read of a stored session calibrates again on it (calibrateOn).
func (a *Adapter) setCalibration(c Calibration) {
	a.setReadPath(c.Path, c.Reason)
	a.calibrateOnRead.Store(c.Samples > 0 && !c.Stored)
}

// calibrateOn times both paths on the stored session s and its user, once,
// after a calibration that could not (see setCalibration), and sets the
// path they favour. GetSessionAndUser runs it beside the read that found
// s, so that no request waits for it, on ctx without its cancellation and
// within calibrateOnReadLimit; an error leaves the path as it was
// (Recalibrate can try again).
func (a *Adapter) calibrateOn(ctx context.Context, s auth.SessionRecord) {
	ctx, cancel := context.WithTimeout(ctx, calibrateOnReadLimit)
	defer cancel()
	target := readTarget{sessionID: s.ID, userID: s.UserID, stored: true}
	lookup, twoReads, err := calibrate(ctx, func(ctx context.Context, p ReadPath) (time.Duration, error) {
		return a.timeRead(ctx, p, target)
	})
	if err == nil {
		a.setCalibration(chooseByTimings(lookup, twoReads, true))
	}
}

// calibrateOnReadLimit bounds the calibration a read starts (calibrateOn),
// which takes about half a second.
const calibrateOnReadLimit = 5 * time.Second

// calibrateReadPath probes $lookup and, where it works, times both paths.
func (a *Adapter) calibrateReadPath(ctx context.Context) (Calibration, error) {
	unsupported, err := a.probeLookup(ctx)
	switch {
	case err != nil:
		return Calibration{}, err
	case unsupported != nil:
		return Calibration{Path: ReadPathTwoReads, Reason: unsupported.Reason}, nil
	}
	target, err := a.calibrationTarget(ctx)
	if err != nil {
		return Calibration{}, fmt.Errorf("mongoauth: calibrate the read path: %w", err)
	}
	lookup, twoReads, err := calibrate(ctx, func(ctx context.Context, p ReadPath) (time.Duration, error) {
		return a.timeRead(ctx, p, target)
	})
	if err != nil {
		return Calibration{}, fmt.Errorf("mongoauth: calibrate the read path: %w", err)
	}
	c := chooseByTimings(lookup, twoReads, target.stored)
	return c, nil
}

// The calibration: for each path in turn, one read that does not count (a
// first command may pay for a connection, a query plan, or the previous
// path's after-cost), then consecutive reads while the path's time stays
// within calibrationBudget, at least one and at most calibrationSamples.
// A slow server gets fewer; below minCalibrationSamples the reason says so.
const (
	calibrationSamples    = 7
	minCalibrationSamples = 3
	calibrationBudget     = 250 * time.Millisecond
)

// calibrate times both paths with measure, $lookup first.
func calibrate(ctx context.Context, measure func(context.Context, ReadPath) (time.Duration, error)) (lookup, twoReads []time.Duration, err error) {
	timings := map[ReadPath][]time.Duration{}
	for _, p := range []ReadPath{ReadPathLookup, ReadPathTwoReads} {
		spent, err := measure(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		for len(timings[p]) == 0 || len(timings[p]) < calibrationSamples && spent < calibrationBudget {
			d, err := measure(ctx, p)
			if err != nil {
				return nil, nil, err
			}
			spent += d
			timings[p] = append(timings[p], d)
		}
	}
	return timings[ReadPathLookup], timings[ReadPathTwoReads], nil
}

// lookupPenalty is how much slower than both finds together $lookup may be
// and still be kept: a margin for noise, in favour of fewer commands, small
// enough that ReadPathAuto stays within 10% of the faster path.
const lookupPenalty = 1.1

// chooseByTimings picks the path from the calibration's timings, and
// says why.
func chooseByTimings(lookup, twoReads []time.Duration, stored bool) Calibration {
	n := min(len(lookup), len(twoReads))
	c := Calibration{Path: ReadPathLookup, Samples: n, Stored: stored}
	if n == 0 {
		c.Reason = "no timings: kept $lookup, one command"
		return c
	}
	c.Lookup, c.TwoReads = median(lookup), median(twoReads)
	of := "of a stored session"
	if !stored {
		of = "of ids no document has, no session being stored yet"
	}
	c.Reason = fmt.Sprintf("calibrated: $lookup %s, two finds %s (medians of %d and %d consecutive reads %s",
		milliseconds(c.Lookup), milliseconds(c.TwoReads), len(lookup), len(twoReads), of)
	if n < minCalibrationSamples {
		c.Reason += fmt.Sprintf("; few fit in %v", calibrationBudget)
	}
	c.Reason += "): $lookup"
	if float64(c.Lookup) > lookupPenalty*float64(c.TwoReads) {
		c.Path = ReadPathTwoReads
		c.Reason = strings.TrimSuffix(c.Reason, "$lookup") + "two finds"
	}
	return c
}

func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[len(s)/2]
}

func milliseconds(d time.Duration) string {
	return fmt.Sprintf("%.2g ms", float64(d)/float64(time.Millisecond))
}

// readTarget is what the calibration reads: a stored session and its
// user, or probeID for both.
type readTarget struct {
	sessionID, userID string
	stored            bool
}

// calibrationTarget finds a stored session to read, if there is one.
func (a *Adapter) calibrationTarget(ctx context.Context) (readTarget, error) {
	only := options.FindOne().SetProjection(bson.D{{Key: fieldID, Value: 1}, {Key: fieldUserID, Value: 1}})
	doc, err := a.sessions.FindOne(ctx, bson.D{}, only).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return readTarget{sessionID: probeID, userID: probeID}, nil
	}
	if err != nil {
		return readTarget{}, wrap("find a session", err)
	}
	id, ok := doc.Lookup(fieldID).StringValueOK()
	userID, _ := doc.Lookup(fieldUserID).StringValueOK()
	if !ok || auth.CheckID("session id", id) != nil {
		return readTarget{sessionID: probeID, userID: probeID}, nil // another writer's
	}
	return readTarget{sessionID: id, userID: userID, stored: true}, nil
}

// timeRead times one read of target along p, through the code
// GetSessionAndUser runs. Of an id no document has, two reads are two finds
// all the same (GetSessionAndUser would stop after the first).
func (a *Adapter) timeRead(ctx context.Context, p ReadPath, target readTarget) (time.Duration, error) {
	start := time.Now()
	var err error
	switch {
	case p == ReadPathLookup:
		_, _, err = a.readByLookup(ctx, target.sessionID)
	case target.stored:
		_, _, err = a.readTwice(ctx, target.sessionID)
	default:
		if _, err = findByID(ctx, a.sessions, target.sessionID); errors.Is(err, auth.ErrNotFound) {
			_, err = findByID(ctx, a.users, target.userID)
		}
	}
	var unreadable *DocumentError
	if errors.Is(err, auth.ErrNotFound) || errors.As(err, &unreadable) {
		err = nil // a read all the same
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
	s, u, err := a.readSessionAndUser(ctx, sessionID)
	if err == nil && a.calibrateOnRead.Load() && a.calibrateOnRead.CompareAndSwap(true, false) {
		go a.calibrateOn(context.WithoutCancel(ctx), s)
	}
	return s, u, err
}

// readSessionAndUser is GetSessionAndUser's read along the current path.
func (a *Adapter) readSessionAndUser(ctx context.Context, sessionID string) (auth.SessionRecord, auth.UserRecord, error) {
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
	defer closeCursor(ctx, cur)
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
