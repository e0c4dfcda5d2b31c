// Command devdb runs a MongoDB-compatible server for development: an
// embedded FerretDB (SQLite backend), nothing to install. It prints the
// server's URI and serves until interrupted.
//
//	go run github.com/luciago/mongoauth/cmd/devdb@latest [-addr 127.0.0.1:27017] [-data DIR]
//	MONGODB_URI=mongodb://127.0.0.1:27017/ go run .   # in another terminal: your app
//
// The data stays in -data (default: devdb-data in the current directory)
// between runs. FerretDB v1 has no transactions, no $lookup and no TTL
// indexes; the adapter runs without them (see the mongoauth godoc). It is
// for development and tests only: it listens on loopback, without
// authentication.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/luciago/mongoauth/internal/ferretdb"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("devdb", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:27017", "the address to listen on (port 0: a free one)")
	data := flags.String("data", "devdb-data", "the directory that keeps the data")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	uri, stop, err := ferretdb.StartAt(ctx, *data, *addr)
	if err != nil {
		fmt.Fprintf(stderr, "devdb: %v\n", err)
		return 1
	}
	defer stop()
	fmt.Fprintf(stdout, "MONGODB_URI=%s\n", uri)
	fmt.Fprintf(stdout, "devdb: FerretDB, data in %s; Ctrl-C stops it\n", *data)
	<-ctx.Done()
	return 0
}
