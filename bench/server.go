package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/luciago/mongoauth/mongotest"
)

// serveEnv marks a process started by startServer: it runs the harness's
// server and nothing else.
const serveEnv = "MONGOAUTH_BENCH_SERVE"

// ServeIfChild turns this process into the benchmark server when it was
// started as one by startServer, and returns otherwise. Call it first thing
// in main and TestMain.
//
// The server runs in its own process because B/op and allocs/op come from
// runtime.MemStats, which counts every allocation of the process: an
// embedded FerretDB in the benchmarking process would add its allocations
// to the client's.
func ServeIfChild() {
	if os.Getenv(serveEnv) == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	srv, err := mongotest.Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: server:", err)
		os.Exit(1)
	}
	fmt.Printf("%s\t%s\n", srv.Kind, srv.URI)
	// The parent closes stdin when it is done, or dies; either way, stop.
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
	os.Exit(0)
}

// server is where the benchmarks send their commands.
type server struct {
	uri  string
	kind mongotest.Kind
	stop func()
}

// startServer uses MONGODB_URI when set. Otherwise it re-executes this
// binary as a child that picks a server the way mongotest does (Docker, else
// embedded FerretDB) and reports its URI.
func startServer(ctx context.Context) (*server, error) {
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		return &server{uri: uri, kind: mongotest.KindURI, stop: func() {}}, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: find own binary: %w", err)
	}
	// -test.run=^$ keeps a test binary from running tests should it ever
	// get past ServeIfChild; other binaries ignore arguments here.
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), serveEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start server process: %w", err)
	}
	stop := func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	type reply struct {
		line string
		err  error
	}
	lines := make(chan reply, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		lines <- reply{line, err}
	}()
	select {
	case r := <-lines:
		kind, uri, ok := strings.Cut(strings.TrimSpace(r.line), "\t")
		if r.err != nil || !ok {
			stop()
			return nil, errors.Join(errors.New("bench: server process gave no URI"), r.err)
		}
		return &server{uri: uri, kind: mongotest.Kind(kind), stop: stop}, nil
	case <-ctx.Done():
		stop()
		return nil, fmt.Errorf("bench: waiting for the server process: %w", ctx.Err())
	}
}
