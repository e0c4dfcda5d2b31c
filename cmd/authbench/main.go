// Command authbench runs the benchmarks of package bench and prints them as
// Markdown tables, each operation next to its raw-driver baseline, followed
// by the published targets and whether this run meets them.
//
//	go run ./cmd/authbench [-benchtime 1s] [-count 3] [-run regexp] [-others 100000]
//
// It uses MONGODB_URI when set, and otherwise starts the test harness's
// server (mongotest) in a child process. Every case runs -count times,
// round by round, and the table shows the median of each column; ratios are
// taken between medians of the same run, so they hold on a busy machine
// better than the absolute numbers do.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/luciago/mongoauth/bench"
)

func main() {
	bench.ServeIfChild()
	testing.Init()
	benchtime := flag.String("benchtime", "1s", "time (or Nx iterations) per case and round, as go test -benchtime")
	count := flag.Int("count", 3, "rounds; the table shows medians")
	run := flag.String("run", "", "run only the cases whose name matches this `regexp` (and their baselines)")
	others := flag.Int("others", bench.DefaultOtherSessions, "sessions of other users around the listed user's 10")
	flag.Parse()
	if err := flag.Set("test.benchtime", *benchtime); err != nil {
		log.Fatalf("authbench: -benchtime: %v", err)
	}
	match, err := regexp.Compile(*run)
	if err != nil {
		log.Fatalf("authbench: -run: %v", err)
	}
	if *count < 1 {
		log.Fatal("authbench: -count must be at least 1")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	env, err := bench.Open(ctx)
	cancel()
	if err != nil {
		log.Fatal(err)
	}
	defer env.Close()

	ops := measure(env, selected(bench.Operations(bench.Config{OtherSessions: *others}), match), *count)
	hashes := measure(nil, selected(bench.Hashes(), match), *count)

	fmt.Printf("Machine: %s, %d cores (GOMAXPROCS %d), %s %s/%s\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("Server: %s; $lookup: %v; transactions: %v\n", env.Server, env.Lookup, env.Transactions)
	fmt.Printf("Run: %s; -benchtime %s -count %d -others %d; medians of %d rounds; one client goroutine\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), *benchtime, *count, *others, *count)
	printTable(ops, true)
	fmt.Println()
	printTable(hashes, false)
	fmt.Println()
	printTargets(env, ops)
}

// selected keeps the cases matching the pattern and the baselines they
// are compared with.
func selected(cases []bench.Case, match *regexp.Regexp) []bench.Case {
	keep := map[string]bool{}
	for _, c := range cases {
		if match.MatchString(c.Name) {
			keep[c.Name], keep[c.Baseline] = true, true
		}
	}
	return slices.DeleteFunc(cases, func(c bench.Case) bool { return !keep[c.Name] })
}

// row is one case with the medians of its rounds.
type row struct {
	bench.Case
	nsPerOp, bytesPerOp, allocsPerOp, commands float64
}

// results are the rows in table order, also found by name.
type results struct {
	rows   []*row
	byName map[string]*row
}

// measure runs every case count times, one round after the other, so that a
// burst of load on the machine spreads over all cases instead of hitting one.
func measure(env *bench.Env, cases []bench.Case, count int) results {
	runs := make([][]testing.BenchmarkResult, len(cases))
	for round := 1; round <= count; round++ {
		for i, c := range cases {
			fmt.Fprintf(os.Stderr, "authbench: round %d/%d: %s ...", round, count, c.Name)
			r := testing.Benchmark(c.Benchmark(env))
			if r.N == 0 {
				// The benchmark failed; testing.Benchmark discards its log.
				log.Fatalf("authbench: %s failed; for its log run: go test -run '^$' -bench '/^%s$' ./bench", c.Name, c.Name)
			}
			fmt.Fprintf(os.Stderr, " %d iterations\n", r.N)
			runs[i] = append(runs[i], r)
		}
	}
	res := results{byName: map[string]*row{}}
	for i, c := range cases {
		r := &row{Case: c}
		r.nsPerOp = median(runs[i], func(b testing.BenchmarkResult) float64 { return float64(b.T.Nanoseconds()) / float64(b.N) })
		r.bytesPerOp = median(runs[i], func(b testing.BenchmarkResult) float64 { return float64(b.MemBytes) / float64(b.N) })
		r.allocsPerOp = median(runs[i], func(b testing.BenchmarkResult) float64 { return float64(b.MemAllocs) / float64(b.N) })
		r.commands = median(runs[i], func(b testing.BenchmarkResult) float64 { return b.Extra[bench.CommandsMetric] })
		for _, b := range runs[i] {
			if b.Extra[bench.CommandsMetric] != r.commands {
				log.Fatalf("authbench: %s: commands per operation differ between rounds: %v and %v", c.Name, b.Extra[bench.CommandsMetric], r.commands)
			}
		}
		res.rows = append(res.rows, r)
		res.byName[c.Name] = r
	}
	return res
}

func median(runs []testing.BenchmarkResult, value func(testing.BenchmarkResult) float64) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = value(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func printTable(res results, withCommands bool) {
	if len(res.rows) == 0 {
		return
	}
	if withCommands {
		fmt.Println("| operation | cmds/op | ops/s | ns/op | B/op | allocs/op | compared with | × ops/s | × B/op |")
		fmt.Println("|---|--:|--:|--:|--:|--:|---|--:|--:|")
	} else {
		fmt.Println("| operation | hashes/s | ns/op | B/op (≈ peak) | allocs/op | compared with | × hashes/s | × B/op |")
		fmt.Println("|---|--:|--:|--:|--:|---|--:|--:|")
	}
	for _, r := range res.rows {
		cells := []string{r.Name}
		if withCommands {
			commands := fmt.Sprintf("%.0f", r.commands)
			if r.Uncounted {
				commands = "(not counted)"
			}
			cells = append(cells, commands)
		}
		cells = append(cells,
			formatRate(1e9/r.nsPerOp),
			fmt.Sprintf("%.0f", r.nsPerOp),
			formatBytes(r.bytesPerOp),
			fmt.Sprintf("%.0f", r.allocsPerOp))
		if base := res.byName[r.Baseline]; base != nil {
			cells = append(cells, base.Name, formatRatio(base.nsPerOp/r.nsPerOp), formatRatio(r.bytesPerOp/base.bytesPerOp))
		} else {
			cells = append(cells, "—", "", "")
		}
		fmt.Println("| " + strings.Join(cells, " | ") + " |")
	}
}

// formatRate keeps two significant digits for slow operations.
func formatRate(perSecond float64) string {
	switch {
	case perSecond >= 100:
		return fmt.Sprintf("%.0f", perSecond)
	case perSecond >= 10:
		return fmt.Sprintf("%.1f", perSecond)
	}
	return fmt.Sprintf("%.2f", perSecond)
}

// formatRatio shows two decimals, or two significant digits below 0.1.
func formatRatio(v float64) string {
	if v < 0.1 {
		return fmt.Sprintf("%.2g", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func formatBytes(n float64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	}
	return fmt.Sprintf("%.0f", n)
}

// printTargets checks the published targets against this run.
func printTargets(env *bench.Env, res results) {
	fmt.Println("Targets:")
	report := func(what string, ok bool) {
		verdict := "met"
		if !ok {
			verdict = "MISSED"
		}
		fmt.Printf("- %s — %s\n", what, verdict)
	}
	rows := res.byName
	if r := rows["validate-with-user"]; r != nil {
		want := 2.0
		if env.Lookup {
			want = 1
		}
		report(fmt.Sprintf("validate-with-user: %.0f commands, want %.0f ($lookup: %v)", r.commands, want, env.Lookup), r.commands == want)
	}
	constant := func(limit float64, names ...string) {
		var have []string
		ok := true
		for _, n := range names {
			if r := rows[n]; r != nil {
				have = append(have, fmt.Sprintf("%s %.0f", n, r.commands))
				ok = ok && r.commands == rows[names[0]].commands && (limit == 0 || r.commands <= limit)
			}
		}
		if len(have) > 0 {
			want := "the same count"
			if limit > 0 {
				want = fmt.Sprintf("the same count, at most %.0f", limit)
			}
			report(fmt.Sprintf("%s commands, want %s", strings.Join(have, ", "), want), ok)
		}
	}
	constant(2, "create-session-1-existing", "create-session-1000-existing")
	constant(0, "delete-user-1-session", "delete-user-10-sessions", "delete-user-1000-sessions", "delete-user-10-among-others")
	for _, r := range res.rows {
		base := rows[r.Baseline]
		if base == nil || strings.HasPrefix(r.Name, "raw-") || r.commands != 1 {
			continue
		}
		speed, mem := base.nsPerOp/r.nsPerOp, r.bytesPerOp/base.bytesPerOp
		report(fmt.Sprintf("%s (one command): ×%.2f ops/s, want ≥ 0.9; ×%.2f B/op, want ≤ 1.5 (of %s)", r.Name, speed, mem, base.Name),
			speed >= 0.9 && mem <= 1.5)
	}
}

// cpuModel reads the CPU model from /proc/cpuinfo (Linux).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	return modelName(f)
}

func modelName(r io.Reader) string {
	s := bufio.NewScanner(r)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
