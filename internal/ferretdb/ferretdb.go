// Package ferretdb runs an embedded FerretDB (SQLite backend) inside the
// process: a MongoDB-wire server that needs no installation. The test
// harness (package mongotest) and the example apps use it; the library
// never imports it.
package ferretdb

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Start runs FerretDB on a free port of 127.0.0.1 with its SQLite files
// in dir, which is created if missing and kept afterwards. It returns the
// server's MongoDB URI and a stop function that shuts the server down and
// waits for it. ctx is checked before starting; the start itself (opening
// the SQLite directory and binding the port) is quick and cannot be
// interrupted.
//
// FerretDB's own log goes to stderr, errors only.
func Start(ctx context.Context, dir string) (uri string, stop func(), err error) {
	return StartAt(ctx, dir, "127.0.0.1:0")
}

// StartAt is Start on the TCP address addr ("127.0.0.1:27017"; port 0 picks
// a free one).
func StartAt(ctx context.Context, dir, addr string) (uri string, stop func(), err error) {
	if dir == "" {
		return "", nil, fmt.Errorf("ferretdb: no data directory")
	}
	if err := ctx.Err(); err != nil {
		return "", nil, fmt.Errorf("ferretdb: %w", err)
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", nil, fmt.Errorf("ferretdb: data directory: %w", err)
	}
	// FerretDB passes the directory on to SQLite inside a URI without
	// escaping it, and SQLite would cut or decode the path at these.
	if strings.ContainsAny(dir, "#?%") {
		return "", nil, fmt.Errorf("ferretdb: data directory %q: FerretDB cannot use a path with '#', '?' or '%%'", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("ferretdb: data directory: %w", err)
	}
	// FerretDB takes the directory as a file: URI ending in "/"; net/url
	// escapes what needs it (spaces, for instance).
	sqliteURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir) + "/"}).String()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		return "", nil, fmt.Errorf("ferretdb: start on %s: %w", dir, err)
	}

	// Run serves until runCtx is cancelled; ctx only bounds the start.
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(runCtx)
	}()
	stop = func() {
		cancel()
		<-done
	}

	// ferretdb.New has bound the port already: the URI is known and
	// connections queue until Run accepts them.
	return f.MongoDBURI(), stop, nil
}
