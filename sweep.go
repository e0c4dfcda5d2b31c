package mongoauth

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Why sweeping is safe while the application runs.
//
// Expired sessions and keys: expiry is a property of the document alone and
// never ends (the adapter has no call that extends a session or key), so a
// document that was expired when read is dead for good. The delete repeats
// the expiry condition in its filter all the same, in case another writer
// changed the document since.
//
// Orphans are the delicate case. SetSession and SetKey insert the document
// first and look its user up second (see insertOwned): between the two a
// session can exist whose user does not, yet. If that user is being created
// at the same moment, the lookup may find it and the call succeed. A sweep
// that saw the session, found no user and deleted the session after the
// call's lookup would destroy a session the application was just told
// exists. So Repair:
//
//  1. reads the session (at time t) and finds its user missing;
//  2. waits until OrphanGrace has passed since the end of its scan;
//  3. looks the user up again, and deletes the session only if the user is
//     still missing, with a filter naming both the session id and the
//     missing user ids.
//
// The session was inserted before t, and its SetSession looks the user up
// right after inserting. If that lookup ran before step 3 and found the
// user, the user existed then; if step 3 finds it missing, the user was
// deleted in between, and DeleteUser, which deletes the user before its
// sessions, removes the session anyway: deleting it is no loss. If the
// lookup found no user, the call fails and deletes the session itself. Only a
// SetSession whose lookup runs more than OrphanGrace after its insert (a
// stalled process) and whose user appears in that window can lose its
// session, and only to a Repair running at that moment.
//
// Deleting an orphan races harmlessly with its own inserter's compensating
// delete (deleting a missing document is not an error), and with DeleteUser
// (both delete the same documents).
//
// What the sweep cannot know: a session or key left behind by a crash,
// whose user id is later given to a new user, is no orphan any more — it
// belongs to the new user. Run Repair after a crash, and prefer random user
// ids (as Lucia generates) to reusable ones.

// testHookAfterScan, when set by a test, runs between Repair's scan and its
// grace period.
var testHookAfterScan func()

// sweeper is one run of Check or Repair.
type sweeper struct {
	a      *Adapter
	opts   RepairOptions
	nowMs  int64
	fix    bool
	report *Report
}

// owned is a session or key as the sweep sees it.
type owned struct {
	id, userID string
	expired    bool
}

// ownedKind describes sessions or keys to the sweep.
type ownedKind struct {
	coll *mongo.Collection
	// decode reads a document with the adapter's own decoder.
	decode func(doc bson.Raw, nowMs int64) (owned, error)
	// stillExpired is the delete filter's re-check of expiry.
	stillExpired func(nowMs int64) bson.D
	// show is how an id appears in a report.
	show             func(id string) string
	orphans, expired *Finding
	scanned          *int
}

func (a *Adapter) sweep(ctx context.Context, opts RepairOptions, fix bool) (Report, error) {
	opts = opts.withDefaults()
	report := Report{Now: opts.Now}
	s := &sweeper{a: a, opts: opts, nowMs: opts.Now.UnixMilli(), fix: fix, report: &report}

	var err error
	if report.Indexes, err = a.syncIndexes(ctx, fix); err != nil {
		return report, err
	}
	kinds := []ownedKind{s.sessionKind(), s.keyKind()}
	candidates := make([][]owned, len(kinds))
	for i, k := range kinds {
		if candidates[i], err = s.scan(ctx, k); err != nil {
			return report, err
		}
	}
	if err := s.scanUsers(ctx); err != nil {
		return report, err
	}
	if err := s.sweepThrottle(ctx); err != nil {
		return report, err
	}
	if !fix {
		return report, nil
	}
	if testHookAfterScan != nil {
		testHookAfterScan()
	}
	if err := s.wait(ctx, time.Now().Add(opts.OrphanGrace), candidates); err != nil {
		return report, err
	}
	for i, k := range kinds {
		if err := s.deleteOrphans(ctx, k, candidates[i]); err != nil {
			return report, err
		}
	}
	return report, nil
}

func (s *sweeper) sessionKind() ownedKind {
	return ownedKind{
		coll: s.a.sessions,
		decode: func(doc bson.Raw, nowMs int64) (owned, error) {
			v, err := decodeSession(doc)
			return owned{id: v.ID, userID: v.UserID, expired: nowMs >= v.IdleExpires}, err
		},
		stillExpired: func(nowMs int64) bson.D {
			return bson.D{{Key: fieldIdleExpires, Value: bson.D{{Key: "$lte", Value: nowMs}}}}
		},
		show:    shortSessionID,
		orphans: &s.report.OrphanSessions,
		expired: &s.report.ExpiredSessions,
		scanned: &s.report.Scanned.Sessions,
	}
}

func (s *sweeper) keyKind() ownedKind {
	return ownedKind{
		coll: s.a.keys,
		decode: func(doc bson.Raw, nowMs int64) (owned, error) {
			v, err := decodeKey(doc)
			expired := !v.PrimaryKey && v.Expires != nil && nowMs >= *v.Expires
			return owned{id: v.ID, userID: v.UserID, expired: expired}, err
		},
		stillExpired: func(nowMs int64) bson.D {
			return bson.D{
				{Key: fieldExpires, Value: bson.D{{Key: "$lte", Value: nowMs}}},
				{Key: fieldPrimaryKey, Value: false},
			}
		},
		show:    func(id string) string { return id },
		orphans: &s.report.OrphanKeys,
		expired: &s.report.ExpiredKeys,
		scanned: &s.report.Scanned.Keys,
	}
}

// scan reads every document of k's collection once. It reports unreadable
// and expired documents (deleting the expired ones when fixing, a batch at
// a time) and looks the users of the others up a batch at a time. It
// returns the orphan candidates.
func (s *sweeper) scan(ctx context.Context, k ownedKind) ([]owned, error) {
	cur, err := k.coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(int32(s.opts.BatchSize)))
	if err != nil {
		return nil, wrap("scan "+k.coll.Name(), err)
	}
	defer cur.Close(context.WithoutCancel(ctx))

	var candidates, pending []owned
	var expired []string
	checkUsers := func() error {
		missing, err := s.a.missingUsers(ctx, userIDs(pending))
		if err != nil {
			return err
		}
		for _, o := range pending {
			if missing[o.userID] {
				k.orphans.add(k.show(o.id), s.opts.SampleSize)
				candidates = append(candidates, o)
			}
		}
		pending = pending[:0]
		return nil
	}
	deleteExpired := func() error {
		if s.fix {
			n, err := deleteIDs(ctx, k.coll, expired, k.stillExpired(s.nowMs))
			k.expired.Deleted += n
			if err != nil {
				return err
			}
		}
		expired = expired[:0]
		return nil
	}
	for cur.Next(ctx) {
		*k.scanned++
		o, err := k.decode(cur.Current, s.nowMs)
		switch {
		case err != nil:
			if !s.unreadable(err) {
				return candidates, err
			}
			err = nil
		case o.expired:
			k.expired.add(k.show(o.id), s.opts.SampleSize)
			if expired = append(expired, o.id); len(expired) >= s.opts.BatchSize {
				err = deleteExpired()
			}
		default:
			if pending = append(pending, o); len(pending) >= s.opts.BatchSize {
				err = checkUsers()
			}
		}
		if err != nil {
			return candidates, err
		}
	}
	if err := cur.Err(); err != nil {
		return candidates, wrap("scan "+k.coll.Name(), err)
	}
	if err := checkUsers(); err != nil {
		return candidates, err
	}
	return candidates, deleteExpired()
}

// sweepThrottle finds the throttle records (and lock documents) whose
// until has passed, which hold no debt, and deletes them when fixing: the
// TTL index's work, where the server has none. Other writers cannot make
// such a record count again (an update reads it as healed), so it needs
// no grace.
func (s *sweeper) sweepThrottle(ctx context.Context) error {
	coll := s.a.throttle
	if coll == nil {
		return nil
	}
	f := &s.report.ExpiredThrottleRecords
	healed := bson.D{{Key: fieldUntil, Value: bson.D{{Key: "$lte", Value: bson.DateTime(s.nowMs)}}}}
	cur, err := coll.Find(ctx, healed, options.Find().SetProjection(bson.D{{Key: fieldID, Value: 1}}).SetBatchSize(int32(s.opts.BatchSize)))
	if err != nil {
		return wrap("scan "+coll.Name(), err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		id, _ := cur.Current.Lookup(fieldID).StringValueOK()
		f.add(showThrottleKey(id), s.opts.SampleSize)
	}
	if err := cur.Err(); err != nil {
		return wrap("scan "+coll.Name(), err)
	}
	if !s.fix || f.Found == 0 {
		return nil
	}
	res, err := coll.DeleteMany(ctx, healed)
	if err != nil {
		return wrap("delete from "+coll.Name(), err)
	}
	f.Deleted = int(res.DeletedCount)
	return nil
}

// scanUsers reads every user's _id with the adapter's decoder, to report
// users it cannot read. Only _id can make a user unreadable, so only _id is
// fetched.
func (s *sweeper) scanUsers(ctx context.Context) error {
	opts := options.Find().SetProjection(bson.D{{Key: fieldID, Value: 1}}).SetBatchSize(int32(s.opts.BatchSize))
	cur, err := s.a.users.Find(ctx, bson.D{}, opts)
	if err != nil {
		return wrap("scan "+s.a.users.Name(), err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		s.report.Scanned.Users++
		if _, err := decodeUser(cur.Current); err != nil && !s.unreadable(err) {
			return err
		}
	}
	return wrap("scan "+s.a.users.Name(), cur.Err())
}

// unreadable records a *DocumentError and reports whether err was one.
func (s *sweeper) unreadable(err error) bool {
	var de *DocumentError
	if !errors.As(err, &de) {
		return false
	}
	s.report.Unreadable.Found++
	if len(s.report.Unreadable.Sample) < s.opts.SampleSize {
		s.report.Unreadable.Sample = append(s.report.Unreadable.Sample, de)
	}
	return true
}

// wait sleeps until the grace period of orphan candidates is over, or ctx
// ends; without candidates there is nothing to wait for.
func (s *sweeper) wait(ctx context.Context, until time.Time, candidates [][]owned) error {
	total := 0
	for _, c := range candidates {
		total += len(c)
	}
	if total == 0 || s.opts.OrphanGrace < 0 {
		return nil
	}
	timer := time.NewTimer(time.Until(until))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return wrap("wait for orphan grace period", context.Cause(ctx))
	}
}

// deleteOrphans looks the candidates' users up again and deletes the
// candidates whose user is still missing, a batch at a time.
func (s *sweeper) deleteOrphans(ctx context.Context, k ownedKind, candidates []owned) error {
	for len(candidates) > 0 {
		batch := candidates[:min(len(candidates), s.opts.BatchSize)]
		candidates = candidates[len(batch):]
		missing, err := s.a.missingUsers(ctx, userIDs(batch))
		if err != nil {
			return err
		}
		var ids, users []string
		for _, o := range batch {
			if missing[o.userID] {
				ids = append(ids, o.id)
			}
		}
		for id := range missing {
			users = append(users, id)
		}
		n, err := deleteIDs(ctx, k.coll, ids, bson.D{{Key: fieldUserID, Value: bson.D{{Key: "$in", Value: users}}}})
		k.orphans.Deleted += n
		if err != nil {
			return err
		}
	}
	return nil
}

// missingUsers returns the ids among userIDs that name no user, with one
// query.
func (a *Adapter) missingUsers(ctx context.Context, userIDs []string) (map[string]bool, error) {
	missing := make(map[string]bool, len(userIDs))
	for _, id := range userIDs {
		missing[id] = true
	}
	if len(missing) == 0 {
		return missing, nil
	}
	distinct := make([]string, 0, len(missing))
	for id := range missing {
		distinct = append(distinct, id)
	}
	filter := bson.D{{Key: fieldID, Value: bson.D{{Key: "$in", Value: distinct}}}}
	cur, err := a.users.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: fieldID, Value: 1}}))
	if err != nil {
		return nil, wrap("find users", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		if id, ok := cur.Current.Lookup(fieldID).StringValueOK(); ok {
			delete(missing, id)
		}
	}
	return missing, wrap("find users", cur.Err())
}

// deleteIDs deletes the documents with the given ids that also match
// condition, and returns how many it deleted.
func deleteIDs(ctx context.Context, coll *mongo.Collection, ids []string, condition bson.D) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	filter := append(bson.D{{Key: fieldID, Value: bson.D{{Key: "$in", Value: ids}}}}, condition...)
	res, err := coll.DeleteMany(ctx, filter)
	if err != nil {
		return 0, wrap("delete from "+coll.Name(), err)
	}
	return int(res.DeletedCount), nil
}

func userIDs(docs []owned) []string {
	out := make([]string, len(docs))
	for i, o := range docs {
		out[i] = o.userID
	}
	return out
}
