package bench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Case is one measured operation: one row of the table.
type Case struct {
	// Name identifies the case in the table and in `go test -bench`.
	Name string
	// Baseline names the case this one is compared with; empty for the
	// baselines themselves.
	Baseline string
	// Uncounted marks a case that runs on the client without a command
	// monitor, so its commands per operation read 0.
	Uncounted bool
	// Hashes marks a case that hashes or verifies a password (with the fast
	// test hasher). Such a case is not held to the one-command overhead
	// target, which measures the adapter: hashing has cases of its own.
	Hashes bool
	// Prepare builds what the operation needs, untimed and uncounted, and
	// returns the steps to run.
	Prepare func(ctx context.Context, env *Env) (*Steps, error)
}

// Steps are a prepared case. Only Op is timed and only the commands Op
// sends are counted; Before and After run with the timer stopped, through
// the unmonitored client.
type Steps struct {
	// Op is the measured operation; i counts iterations from 0.
	Op func(ctx context.Context, i int) error
	// Before prepares iteration i (optional).
	Before func(ctx context.Context, i int) error
	// After cleans up after iteration i, so that every iteration starts
	// from the same state (optional).
	After func(ctx context.Context, i int) error
	// Close releases what Prepare made (optional).
	Close func(ctx context.Context) error
}

// Result is what a loop over Steps observed.
type Result struct {
	Iterations int
	// Commands is the number of commands Op sent in all iterations.
	Commands int64
}

// CommandsPerOp is Commands divided by Iterations.
func (r Result) CommandsPerOp() float64 {
	if r.Iterations == 0 {
		return 0
	}
	return float64(r.Commands) / float64(r.Iterations)
}

// Loop runs the steps while next returns true, calling pause and resume
// around the untimed Before and After, and once more at the end. The benchmark passes b.Loop, b.StopTimer and b.StartTimer; a
// test can pass a fixed count.
func (s *Steps) Loop(ctx context.Context, env *Env, next func() bool, pause, resume func()) (Result, error) {
	var r Result
	for ; next(); r.Iterations++ {
		i := r.Iterations
		// One pause covers the previous iteration's After and this one's
		// Before: stopping the timer reads MemStats, which stops the world.
		if s.Before != nil || (s.After != nil && i > 0) {
			pause()
			err := s.after(ctx, i-1)
			if err == nil && s.Before != nil {
				err = s.Before(ctx, i)
			}
			resume()
			if err != nil {
				return r, fmt.Errorf("prepare iteration %d: %w", i, err)
			}
		}
		var before int64
		if env != nil {
			before = env.Commands()
		}
		if err := s.Op(ctx, i); err != nil {
			return r, fmt.Errorf("iteration %d: %w", i, err)
		}
		if env != nil {
			r.Commands += env.Commands() - before
		}
	}
	pause() // a benchmark's loop has stopped its timer already; no matter
	return r, s.after(ctx, r.Iterations-1)
}

func (s *Steps) after(ctx context.Context, i int) error {
	if s.After == nil || i < 0 {
		return nil
	}
	if err := s.After(ctx, i); err != nil {
		return fmt.Errorf("clean up iteration %d: %w", i, err)
	}
	return nil
}

// Units under which benchmarks report their own metrics.
const (
	// CommandsMetric is commands sent per operation.
	CommandsMetric = "cmds/op"
	// CPUMetric is the CPU time the client process spent per operation, in
	// nanoseconds: the adapter's own cost without the server's time and
	// without the waiting that load from other processes adds to ns/op.
	CPUMetric = "cpu-ns/op"
)

// Benchmark returns the benchmark function of c, the same for
// `go test -bench` and testing.Benchmark.
func (c Case) Benchmark(env *Env) func(*testing.B) {
	return func(b *testing.B) {
		ctx := context.Background()
		steps, err := c.Prepare(ctx, env)
		if err != nil {
			b.Fatalf("%s: prepare: %v", c.Name, err)
		}
		if steps.Close != nil {
			defer func() {
				if err := steps.Close(ctx); err != nil {
					b.Errorf("%s: close: %v", c.Name, err)
				}
			}()
		}
		b.ReportAllocs()
		// CPU time is counted like the benchmark timer: from the start of
		// the loop, without the pauses.
		var cpu cpuStopwatch
		cpu.start()
		// (Outside the benchmark timer's calls, which read MemStats.)
		pause := func() { cpu.stop(); b.StopTimer() }
		resume := func() { b.StartTimer(); cpu.start() }
		r, err := steps.Loop(ctx, env, b.Loop, pause, resume)
		if err != nil {
			b.Fatalf("%s: %v", c.Name, err)
		}
		cpu.stop()
		if env != nil { // cases without a server send no commands
			b.ReportMetric(r.CommandsPerOp(), CommandsMetric)
		}
		b.ReportMetric(float64(cpu.total.Nanoseconds())/float64(r.Iterations), CPUMetric)
	}
}

// cpuStopwatch adds up the process's CPU time between start and stop;
// repeated calls of either are harmless.
type cpuStopwatch struct {
	total, since time.Duration
	running      bool
}

func (w *cpuStopwatch) start() {
	if !w.running {
		w.since, w.running = processCPU(), true
	}
}

func (w *cpuStopwatch) stop() {
	if w.running {
		w.total += processCPU() - w.since
		w.running = false
	}
}
