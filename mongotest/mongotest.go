// Package mongotest finds a MongoDB-compatible server for tests, so that
// `go test ./...` needs no setup.
//
// The server is chosen once per test binary, in this order:
//
//  1. MONGODB_URI, when set: that server is used as is.
//  2. A reachable Docker engine: testcontainers-go starts MongoDB
//     (image MONGODB_IMAGE, default mongo:7) as a single-node replica set,
//     so the transactional code paths run.
//  3. Otherwise an embedded FerretDB (SQLite backend in a temporary
//     directory) runs inside the test process.
//
// Every test gets its own database, dropped when the test ends, so tests may
// run in parallel against one server.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcmongo "github.com/testcontainers/testcontainers-go/modules/mongodb"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth/internal/ferretdb"
)

// Kind names where a Server came from.
type Kind string

const (
	KindURI      Kind = "MONGODB_URI"
	KindDocker   Kind = "docker"
	KindFerretDB Kind = "ferretdb"
)

// Server is a running MongoDB-compatible server.
type Server struct {
	Kind Kind
	// URI connects to the server.
	URI string
	// Client is connected to URI and shared by all tests of the binary.
	Client *mongo.Client

	stop func()
}

// Description says which server this is, for test logs.
func (s *Server) Description() string {
	return fmt.Sprintf("%s (%s)", s.Kind, redact(s.URI))
}

// Close disconnects and stops the server if this package started it.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.Client.Disconnect(ctx)
	if s.stop != nil {
		s.stop()
	}
}

var (
	sharedOnce sync.Once
	shared     *Server
	sharedErr  error
)

// Shared returns the server of this test binary, starting it on first use.
// It fails tb when no server can be found or started.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	startShared()
	if sharedErr != nil {
		tb.Fatalf("mongotest: no server: %v", sharedErr)
	}
	return shared
}

// Main runs the tests of a package and then stops the shared server, if one
// was started. Use it from TestMain: os.Exit(mongotest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	return code
}

// MainWithURI is Main for packages whose examples connect as an application
// does, with os.Getenv("MONGODB_URI"): it sets MONGODB_URI, for the run, to
// a server of this package's own, so that the examples, written as a reader
// would copy them, run against it and may use and drop any database. That
// server is the shared one when this package started it (Docker or
// FerretDB), and otherwise (MONGODB_URI was set) an embedded FerretDB
// started for the examples, so that they never write to a server of yours.
// It returns 1 when no server can be found or started. Use it from
// TestMain: os.Exit(mongotest.MainWithURI(m)).
func MainWithURI(m *testing.M) int {
	startShared()
	if sharedErr != nil {
		fmt.Fprintf(os.Stderr, "mongotest: no server: %v\n", sharedErr)
		return 1
	}
	examples := shared
	if shared.Kind == KindURI {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		srv, err := StartFerretDB(ctx, "")
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "mongotest: a server for the examples: %v\n", err)
			return 1
		}
		defer srv.Close()
		examples = srv
	}
	if err := os.Setenv("MONGODB_URI", examples.URI); err != nil {
		fmt.Fprintf(os.Stderr, "mongotest: %v\n", err)
		return 1
	}
	return Main(m)
}

// startShared starts the shared server on first use.
func startShared() {
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		shared, sharedErr = Start(ctx)
	})
}

// Database returns a fresh, uniquely named database on the shared server,
// dropped when tb ends. The server in use is logged.
func Database(tb testing.TB) *mongo.Database {
	tb.Helper()
	srv := Shared(tb)
	db := srv.Client.Database(UniqueName("t"))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			tb.Logf("mongotest: drop %s: %v", db.Name(), err)
		}
	})
	return db
}

// Context returns a context for one test's database calls: a minute
// long, cancelled when tb ends.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// UniqueName returns prefix followed by random hex, usable as a database name.
func UniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// Start finds or starts a server as described in the package comment.
func Start(ctx context.Context) (*Server, error) {
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		return connect(ctx, KindURI, uri, nil)
	}
	if dockerAvailable(ctx) {
		return startDocker(ctx)
	}
	return StartFerretDB(ctx, "")
}

// StartFerretDB runs FerretDB in this process with its SQLite files in dir;
// an empty dir means a new temporary directory, removed by Close.
func StartFerretDB(ctx context.Context, dir string) (*Server, error) {
	removeDir := false
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "mongotest-ferretdb-"); err != nil {
			return nil, err
		}
		removeDir = true
	}
	uri, stopServer, err := ferretdb.Start(ctx, dir)
	if err != nil {
		if removeDir {
			_ = os.RemoveAll(dir)
		}
		return nil, fmt.Errorf("mongotest: %w", err)
	}
	stop := func() {
		stopServer()
		if removeDir {
			_ = os.RemoveAll(dir)
		}
	}
	srv, err := connect(ctx, KindFerretDB, uri, stop)
	if err != nil {
		stop()
		return nil, err
	}
	return srv, nil
}

func startDocker(ctx context.Context) (*Server, error) {
	image := os.Getenv("MONGODB_IMAGE")
	if image == "" {
		image = "mongo:7"
	}
	c, err := tcmongo.Run(ctx, image, tcmongo.WithReplicaSet("rs0"))
	if err != nil {
		_ = testcontainers.TerminateContainer(c)
		return nil, fmt.Errorf("mongotest: start %s in Docker: %w", image, err)
	}
	stop := func() { _ = testcontainers.TerminateContainer(c) }
	uri, err := c.ConnectionString(ctx)
	if err != nil {
		stop()
		return nil, err
	}
	// The replica set advertises a container-internal host name; talk to the
	// mapped port directly.
	uri += "&directConnection=true"
	srv, err := connect(ctx, KindDocker, uri, stop)
	if err != nil {
		stop()
		return nil, err
	}
	return srv, nil
}

func connect(ctx context.Context, kind Kind, uri string, stop func()) (*Server, error) {
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return nil, fmt.Errorf("mongotest: connect to %s: %w", redact(uri), err)
	}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(ctx)
		return nil, fmt.Errorf("mongotest: ping %s: %w", redact(uri), err)
	}
	return &Server{Kind: kind, URI: uri, Client: client, stop: stop}, nil
}

// dockerAvailable reports whether a Docker engine answers. testcontainers
// panics in some setups without one, hence the recover.
func dockerAvailable(ctx context.Context) (ok bool) {
	if os.Getenv("DOCKER_HOST") == "" {
		if _, err := os.Stat("/var/run/docker.sock"); err != nil {
			return false
		}
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	p, err := testcontainers.ProviderDocker.GetProvider()
	if err != nil {
		return false
	}
	defer p.Close()
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return p.Health(hctx) == nil
}

// redact hides a password in a URI for logs.
func redact(uri string) string {
	at := strings.LastIndex(uri, "@")
	scheme := strings.Index(uri, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return uri
	}
	return uri[:scheme+3] + "…" + uri[at:]
}
