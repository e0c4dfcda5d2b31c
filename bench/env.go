package bench

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/mongotest"
)

// Env is the server and the clients the cases run against. One Env serves
// a whole run; it is safe for the sequential use benchmarks make of it.
type Env struct {
	// Server describes the server, for reports.
	Server string
	// Lookup and Transactions say which paths the adapter takes on this
	// server (see mongoauth.Adapter.UsesLookup and UsesTransactions).
	Lookup, Transactions bool
	// ThrottleLocks says that the adapter's throttle store takes lock
	// documents on this server (see mongoauth.ThrottleStore.UsesLocks):
	// four commands per update instead of one.
	ThrottleLocks bool
	// ReadPath is the session-and-user read path of the run: the one
	// OpenWith was asked for, or, for mongoauth.ReadPathAuto, the one New
	// chose on this server (probed and calibrated once, at Open). Every
	// measured adapter is made with it, so that one run measures one path.
	// The reasons are New's.
	ReadPath                           mongoauth.ReadPath
	ReadPathReason, TransactionsReason string

	srv *server
	// monitored carries the measured operations; its CommandMonitor counts
	// every command it sends.
	monitored *mongo.Client
	// plain has no monitor: it does the setup, and one baseline row shows
	// what the monitor itself costs.
	plain    *mongo.Client
	commands atomic.Int64

	// fixtures caches the list fixtures by size for the whole run.
	fixturesMu sync.Mutex
	fixtures   map[int]*listFixture
}

// Open starts or finds the server (see ServeIfChild) and connects; the
// read path is the one mongoauth.ReadPathAuto chooses.
func Open(ctx context.Context) (*Env, error) { return OpenWith(ctx, mongoauth.ReadPathAuto) }

// OpenWith is Open with the read path given: ReadPathLookup or
// ReadPathTwoReads force one (New fails with ReadPathLookup where the server
// cannot run $lookup), ReadPathAuto lets New choose.
func OpenWith(ctx context.Context, readPath mongoauth.ReadPath) (*Env, error) {
	srv, err := startServer(ctx)
	if err != nil {
		return nil, err
	}
	e := &Env{srv: srv}
	monitor := &event.CommandMonitor{
		Started: func(context.Context, *event.CommandStartedEvent) { e.commands.Add(1) },
	}
	if e.monitored, err = connect(ctx, srv.uri, monitor); err != nil {
		e.Close()
		return nil, err
	}
	if e.plain, err = connect(ctx, srv.uri, nil); err != nil {
		e.Close()
		return nil, err
	}
	probeDB := e.plain.Database(mongotest.UniqueName("bench_probe"))
	probe, err := mongoauth.New(ctx, probeDB, mongoauth.Options{ReadPath: readPath, ThrottleCollection: mongoauth.DefaultThrottleCollection})
	_ = probeDB.Drop(ctx) // New may have created the empty collections (before its probe transaction)
	if err != nil {
		e.Close()
		return nil, err
	}
	throttle, err := probe.ThrottleStore()
	if err != nil {
		e.Close()
		return nil, err
	}
	e.ThrottleLocks = throttle.UsesLocks()
	e.Lookup, e.Transactions = probe.UsesLookup(), probe.UsesTransactions()
	e.ReadPath, e.ReadPathReason, e.TransactionsReason = probe.ReadPath(), probe.ReadPathReason(), probe.TransactionsReason()
	e.Server = describe(ctx, e.plain, srv)
	return e, nil
}

func connect(ctx context.Context, uri string, monitor *event.CommandMonitor) (*mongo.Client, error) {
	// B/op counts every allocation of the process, the driver's background
	// server monitoring too. Spread over thousands of short operations its
	// share is nothing, but an operation of seconds (a scan on FerretDB)
	// runs once per round and may catch a heartbeat or not: checking every
	// minute instead of every 10 s keeps that noise out of its B/op.
	opts := options.Client().ApplyURI(uri).SetHeartbeatInterval(time.Minute)
	if monitor != nil {
		opts.SetMonitor(monitor)
	}
	c, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("bench: connect: %w", err)
	}
	if err := c.Ping(ctx, nil); err != nil {
		_ = c.Disconnect(ctx)
		return nil, fmt.Errorf("bench: ping: %w", err)
	}
	return c, nil
}

// describe names the server and its version as buildInfo reports them.
func describe(ctx context.Context, c *mongo.Client, srv *server) string {
	var info struct {
		Version         string `bson:"version"`
		FerretDBVersion string `bson:"ferretdbVersion"`
	}
	_ = c.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info)
	name := "MongoDB " + info.Version
	if info.FerretDBVersion != "" {
		name = "FerretDB " + ferretDBVersion(info.FerretDBVersion)
	}
	if srv.kind == mongotest.KindFerretDB {
		name += " (SQLite backend)"
	}
	where := "given by MONGODB_URI"
	if srv.kind != mongotest.KindURI {
		where = fmt.Sprintf("started by mongotest (%s) in a child process", srv.kind)
	}
	return name + ", " + where
}

// Close drops the list fixture, disconnects and stops a server it started.
func (e *Env) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, f := range e.fixtures {
		_ = f.db.drop(ctx)
	}
	for _, c := range []*mongo.Client{e.monitored, e.plain} {
		if c != nil {
			_ = c.Disconnect(ctx)
		}
	}
	e.srv.stop()
}

// Commands returns how many commands the monitored client has sent so far.
func (e *Env) Commands() int64 { return e.commands.Load() }

// database is one fresh database seen through both clients.
type database struct {
	name string
	// measured is the adapter whose calls are measured (monitored client).
	measured *mongoauth.Adapter
	// monitored is the same database for measured raw driver calls.
	monitored *mongo.Database
	// setup writes fixtures and cleans up, unmonitored and untimed.
	setup *mongo.Database
}

// newDatabase creates a uniquely named database with the adapter's indexes.
func (e *Env) newDatabase(ctx context.Context) (*database, error) {
	name := mongotest.UniqueName("bench")
	d := &database{name: name, monitored: e.monitored.Database(name), setup: e.plain.Database(name)}
	var err error
	opts := mongoauth.Options{ReadPath: e.ReadPath, ThrottleCollection: mongoauth.DefaultThrottleCollection}
	if d.measured, err = mongoauth.New(ctx, d.monitored, opts); err != nil {
		return nil, err
	}
	if _, err = d.measured.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// ferretDBVersion prefers the module version built into this binary: an
// embedded FerretDB reports "unknown" as its own.
func ferretDBVersion(reported string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == "github.com/FerretDB/FerretDB" {
				return m.Version
			}
		}
	}
	return reported
}

func (d *database) drop(ctx context.Context) error { return d.setup.Drop(ctx) }
