package bench_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/luciago/mongoauth/bench"
)

var (
	envOnce sync.Once
	env     *bench.Env
	envErr  error
)

func TestMain(m *testing.M) {
	bench.ServeIfChild()
	code := m.Run()
	if env != nil {
		env.Close()
	}
	os.Exit(code)
}

// sharedEnv opens the Env on first use, so that a run that selects nothing
// needing a server starts none.
func sharedEnv(tb testing.TB) *bench.Env {
	tb.Helper()
	envOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		env, envErr = bench.Open(ctx)
	})
	if envErr != nil {
		tb.Fatalf("no server: %v", envErr)
	}
	return env
}

// BenchmarkOperations runs the adapter operations and their raw-driver
// baselines; cmd/authbench runs the same cases and prints ratios.
func BenchmarkOperations(b *testing.B) {
	e := sharedEnv(b)
	b.Logf("server: %s; $lookup: %v; transactions: %v", e.Server, e.Lookup, e.Transactions)
	for _, c := range bench.Operations(bench.Config{}) {
		b.Run(c.Name, c.Benchmark(e))
	}
}

// BenchmarkPasswordHash compares Lucia's scrypt parameters with argon2id.
func BenchmarkPasswordHash(b *testing.B) {
	for _, c := range bench.Hashes() {
		b.Run(c.Name, c.Benchmark(nil))
	}
}
