package mongoauth_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.uber.org/goleak"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/mongotest"
)

// Fault tests run the standalone protocol against an embedded FerretDB of
// their own (whatever MONGODB_URI says), so that they can stop it or cut its
// connections.

// callDeadline is the deadline of every call of the fault workloads.
const callDeadline = 2 * time.Second

// deadlineSlack is how far past its deadline a call may return before the
// test calls it a hang. It is generous on purpose: the rule under test is
// "honours its deadline", not a latency bound.
const deadlineSlack = 5 * time.Second

// finishGrace mirrors transactions.go: compensation, and DeleteUser's
// cascade once the user is gone, run past the caller's deadline by design,
// for at most this long.
const finishGrace = 10 * time.Second

// ledger records what the adapter acknowledged and which ids calls that
// failed may have left behind.
type ledger struct {
	mu       sync.Mutex
	users    map[string]string // acknowledged SetUser with key: user → key
	sessions map[string]string // acknowledged SetSession: session → user
	deleted  map[string]bool   // acknowledged DeleteUser
	failed   map[string]bool   // ids (user, key, session) of calls that returned an error
	errByID  map[string]error  // the error, by the first id of the call
	errs     map[string]int    // failed calls by first line of error, for the log
	calls    atomic.Int64
	failures atomic.Int64
	overruns []string
}

func newLedger() *ledger {
	return &ledger{users: map[string]string{}, sessions: map[string]string{}, deleted: map[string]bool{}, failed: map[string]bool{}, errByID: map[string]error{}, errs: map[string]int{}}
}

// call runs one adapter call with callDeadline and checks that it returned
// in time; on error the ids it touched are marked as failed.
func (l *ledger) call(fn func(context.Context) error, ids ...string) error {
	c, cancel := context.WithTimeout(context.Background(), callDeadline)
	defer cancel()
	start := time.Now()
	err := fn(c)
	elapsed := time.Since(start)
	l.calls.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	bound := callDeadline + deadlineSlack
	if err != nil && (strings.Contains(err.Error(), "undo") || strings.Contains(err.Error(), "delete sessions") || strings.Contains(err.Error(), "delete keys")) {
		bound += finishGrace
	}
	if elapsed > bound {
		l.overruns = append(l.overruns, fmt.Sprintf("%v after %v (bound %v): %v", ids, elapsed, bound, err))
	}
	if err != nil && !errors.Is(err, auth.ErrNotFound) {
		l.failures.Add(1)
		for _, id := range ids {
			l.failed[id] = true
		}
		if len(ids) > 0 {
			l.errByID[ids[0]] = err
		}
		msg := err.Error()
		if i := strings.IndexAny(msg, "\n:"); i > 0 && strings.HasPrefix(msg, "mongoauth") {
			if j := strings.Index(msg[i+1:], ":"); j > 0 {
				msg = msg[:i+1+j]
			}
		}
		l.errs[msg]++
	}
	return err
}

// workload creates users with their primary key, gives them a session,
// reads them and deletes every third, until stop is closed.
func (l *ledger) workload(a *mongoauth.Adapter, workers int, stop <-chan struct{}) {
	var wg sync.WaitGroup
	hash := "s2:salt:hash"
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				user := fmt.Sprintf("w%d-u%d", w, j)
				keyID := "email:" + user
				sessionID := "session-" + user
				key := auth.KeyRecord{ID: keyID, UserID: user, HashedPassword: &hash, PrimaryKey: true}
				if l.call(func(c context.Context) error {
					return a.SetUser(c, auth.UserRecord{ID: user, Attributes: map[string]any{"n": j}}, &key)
				}, user, keyID) != nil {
					continue
				}
				l.ack(func() { l.users[user] = keyID })
				err := l.call(func(c context.Context) error {
					return a.SetSession(c, auth.SessionRecord{ID: sessionID, UserID: user, ActiveExpires: future, IdleExpires: future})
				}, sessionID)
				if err == nil {
					l.ack(func() { l.sessions[sessionID] = user })
				}
				_ = l.call(func(c context.Context) error { _, _, err := a.GetSessionAndUser(c, sessionID); return err })
				if j%3 == 0 && l.call(func(c context.Context) error { return a.DeleteUser(c, user) }, user) == nil {
					l.ack(func() { l.deleted[user] = true })
				}
			}
		}()
	}
	wg.Wait()
}

func (l *ledger) ack(record func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	record()
}

func (l *ledger) acknowledgedUsers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.users)
}

// verify checks the store against the ledger: every acknowledged write is
// there, and whatever is half-written belongs to a call that failed. Then
// Repair must leave no orphan behind.
func (l *ledger) verify(t *testing.T, a *mongoauth.Adapter, db *mongo.Database) {
	t.Helper()
	c := ctx(t)
	l.mu.Lock()
	defer l.mu.Unlock()
	require.Empty(t, l.overruns, "calls that did not honour their deadline")
	t.Logf("%d calls, %d failed; %d users, %d sessions and %d deletions acknowledged; failures: %v",
		l.calls.Load(), l.failures.Load(), len(l.users), len(l.sessions), len(l.deleted), l.errs)

	for user, keyID := range l.users {
		if l.deleted[user] {
			_, err := a.GetUser(c, user)
			assert.ErrorIs(t, err, auth.ErrNotFound, "deleted user %s", user)
			keys, err := a.GetKeysByUserID(c, user)
			require.NoError(t, err)
			assert.Empty(t, keys, "keys of deleted user %s", user)
			sessions, err := a.GetSessionsByUserID(c, user)
			require.NoError(t, err)
			assert.Empty(t, sessions, "sessions of deleted user %s", user)
			continue
		}
		if l.failed[user] { // a failed DeleteUser may have gone part of the way
			continue
		}
		_, err := a.GetUser(c, user)
		assert.NoError(t, err, "acknowledged user %s", user)
		k, err := a.GetKey(c, keyID)
		if assert.NoError(t, err, "primary key of acknowledged user %s", user) {
			assert.True(t, k.PrimaryKey)
		}
	}
	for sessionID, user := range l.sessions {
		if l.deleted[user] || l.failed[user] {
			continue
		}
		_, _, err := a.GetSessionAndUser(c, sessionID)
		assert.NoError(t, err, "acknowledged session %s", sessionID)
	}

	// Half-written state: users without their primary key, orphans. Each
	// must trace back to a call that returned an error to its caller.
	usersWithoutKey := 0
	cur, err := db.Collection(mongoauth.DefaultUserCollection).Find(c, bson.D{})
	require.NoError(t, err)
	for cur.Next(c) {
		user := cur.Current.Lookup("_id").StringValue()
		keys, err := a.GetKeysByUserID(c, user)
		require.NoError(t, err)
		if len(keys) == 0 {
			usersWithoutKey++
			assert.True(t, l.failed[user], "user %s has no key, yet its SetUser was acknowledged", user)
			t.Logf("user %s without its key; its call said: %v", user, l.errByID[user])
		}
	}
	require.NoError(t, cur.Err())
	orphans := map[string]int{}
	for _, name := range []string{mongoauth.DefaultSessionCollection, mongoauth.DefaultKeyCollection} {
		cur, err := db.Collection(name).Find(c, bson.D{})
		require.NoError(t, err)
		for cur.Next(c) {
			id, user := cur.Current.Lookup("_id").StringValue(), cur.Current.Lookup("user_id").StringValue()
			if _, err := a.GetUser(c, user); errors.Is(err, auth.ErrNotFound) {
				orphans[name]++
				assert.True(t, l.failed[id] || l.failed[user], "orphan %s of %s from no failed call", id, user)
			}
		}
		require.NoError(t, cur.Err())
	}
	report, err := a.Check(c, mongoauth.RepairOptions{})
	require.NoError(t, err)
	assert.Zero(t, report.Unreadable.Found, "no torn documents")
	assert.Equal(t, orphans[mongoauth.DefaultSessionCollection], report.OrphanSessions.Found, "Check finds the orphan sessions")
	assert.Equal(t, orphans[mongoauth.DefaultKeyCollection], report.OrphanKeys.Found, "Check finds the orphan keys")
	t.Logf("half-written after the fault, each from a call that reported an error: %d users without their key, %d orphan sessions, %d orphan keys",
		usersWithoutKey, report.OrphanSessions.Found, report.OrphanKeys.Found)

	_, err = a.Repair(c, mongoauth.RepairOptions{OrphanGrace: -1}) // no writer runs now
	require.NoError(t, err)
	after, err := a.Check(c, mongoauth.RepairOptions{})
	require.NoError(t, err)
	assert.Zero(t, after.OrphanSessions.Found+after.OrphanKeys.Found, "Repair leaves no orphan")
}

// leakCheck returns a function that fails t if goroutines started after
// leakCheck are still running, after letting them settle for a while.
func leakCheck(t *testing.T) func() {
	before := goleak.IgnoreCurrent()
	return func() {
		t.Helper()
		var err error
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if err = goleak.Find(before); err == nil {
				return
			}
		}
		t.Errorf("goroutines leaked: %v", err)
	}
}

func connectClient(t *testing.T, uri string) *mongo.Client {
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	require.NoError(t, err)
	return client
}

// disconnect closes client within a deadline. Without a server the
// driver's endSessions cannot be sent and Disconnect reports the deadline;
// what matters is that it returns and leaves no goroutine behind.
func disconnect(t *testing.T, client *mongo.Client) {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Disconnect(c); err != nil {
		t.Logf("disconnect: %v", err)
	}
}

// TestServerGoesAway stops the server under a running workload: calls must
// fail within their deadline, nothing may leak, and after a restart on the
// same data every acknowledged write must be there.
func TestServerGoesAway(t *testing.T) {
	noLeaks := leakCheck(t)
	dir := t.TempDir()
	dbName := mongotest.UniqueName("faults")
	srv, err := mongotest.StartFerretDB(ctx(t), dir)
	require.NoError(t, err)
	client := connectClient(t, srv.URI)
	a, err := mongoauth.New(ctx(t), client.Database(dbName), mongoauth.Options{})
	require.NoError(t, err)
	_, err = a.EnsureIndexes(ctx(t))
	require.NoError(t, err)

	l := newLedger()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { l.workload(a, 4, stop); close(done) }()
	for deadline := time.Now().Add(30 * time.Second); l.acknowledgedUsers() < 40 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%v: stopping the server", time.Now().Format(time.StampMilli))
	srv.Close() // stops FerretDB mid-run; the adapter's client stays
	t.Logf("%v: stopped", time.Now().Format(time.StampMilli))
	failuresAtStop := l.failures.Load()
	time.Sleep(2 * callDeadline)
	close(stop)
	<-done
	t.Logf("%v: workload ended", time.Now().Format(time.StampMilli))
	assert.Greater(t, l.failures.Load(), failuresAtStop, "calls fail while the server is gone")
	disconnect(t, client)
	noLeaks()
	t.Logf("%v: no leaks", time.Now().Format(time.StampMilli))

	srv, err = mongotest.StartFerretDB(ctx(t), dir)
	require.NoError(t, err)
	defer srv.Close()
	db := srv.Client.Database(dbName)
	a, err = mongoauth.New(ctx(t), db, mongoauth.Options{})
	require.NoError(t, err)
	l.verify(t, a, db)
}

// TestConnectionsCut runs the workload through a proxy that cuts every
// connection after a random number of bytes, mid-message.
func TestConnectionsCut(t *testing.T) {
	noLeaks := leakCheck(t)
	srv, err := mongotest.StartFerretDB(ctx(t), "")
	require.NoError(t, err)
	addr := strings.TrimSuffix(strings.TrimPrefix(srv.URI, "mongodb://"), "/")
	proxy := startChaosProxy(t, addr, 200, 4_000)
	client := connectClient(t, "mongodb://"+proxy.addr()+"/?directConnection=true")
	dbName := mongotest.UniqueName("faults")
	db := srv.Client.Database(dbName) // direct, for setup and checks
	direct, err := mongoauth.New(ctx(t), db, mongoauth.Options{})
	require.NoError(t, err)
	_, err = direct.EnsureIndexes(ctx(t))
	require.NoError(t, err)
	var a *mongoauth.Adapter
	for range 20 { // New itself may be cut
		if a, err = mongoauth.New(ctx(t), client.Database(dbName), mongoauth.Options{}); err == nil {
			break
		}
	}
	require.NoError(t, err)

	l := newLedger()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { l.workload(a, 4, stop); close(done) }()
	for deadline := time.Now().Add(30 * time.Second); (l.acknowledgedUsers() < 40 || l.failures.Load() < 10) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	<-done
	t.Logf("proxy cut %d connections", proxy.cuts.Load())
	assert.Positive(t, proxy.cuts.Load())
	assert.Positive(t, l.failures.Load(), "cut connections make calls fail")
	disconnect(t, client)
	proxy.close()

	l.verify(t, direct, db)
	srv.Close()
	noLeaks()
}

// chaosProxy forwards TCP connections and cuts each one, both ways, after
// a random number of bytes between min and max.
type chaosProxy struct {
	*relay
	min, max int64
	cuts     atomic.Int64
}

func startChaosProxy(t *testing.T, upstream string, minBytes, maxBytes int64) *chaosProxy {
	p := &chaosProxy{min: minBytes, max: maxBytes}
	p.relay = startRelay(t, upstream, p.forward)
	return p
}

func (p *chaosProxy) forward(client, server net.Conn) {
	var budget atomic.Int64
	budget.Store(p.min + rand.Int64N(p.max-p.min))
	var once sync.Once
	cut := func() {
		once.Do(func() {
			client.Close()
			server.Close()
		})
	}
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 512)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				left := budget.Add(-int64(n))
				if left < 0 { // forward part of the chunk, then cut mid-message
					n += int(left)
					if n > 0 {
						_, _ = dst.Write(buf[:n])
					}
					p.cuts.Add(1)
					cut()
					return
				}
				if _, err := dst.Write(buf[:n]); err != nil {
					cut()
					return
				}
			}
			if err != nil {
				cut()
				return
			}
		}
	}
	var both sync.WaitGroup
	both.Add(2)
	go func() { defer both.Done(); pipe(server, client) }()
	go func() { defer both.Done(); pipe(client, server) }()
	both.Wait()
}
