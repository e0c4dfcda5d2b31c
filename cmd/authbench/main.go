// Command authbench runs the benchmarks of package bench and prints them as
// Markdown tables, each operation next to its raw-driver baseline, followed
// by the published targets and whether this run meets them.
//
//	go run ./cmd/authbench [-benchtime 300ms] [-count 7] [-run regexp] [-others 100000] [-read-path auto|lookup|two-reads]
//
// It uses MONGODB_URI when set, and otherwise starts the test harness's
// server (mongotest) in a child process. Every case runs -count times, each
// time next to a run of its baseline; the table shows medians, and each
// ratio is the median of the ratios within those pairs, so ratios hold on a
// busy machine better than the absolute numbers do.
//
// -read-path forces how validations read a session with its user: the
// default, auto, lets mongoauth.New measure both paths on the server (see
// mongoauth.ReadPathAuto); lookup and two-reads force one, so that runs
// with each show what auto gains or loses on your server. lookup fails where
// the server cannot run $lookup.
package main

import (
	"bufio"
	"context"
	"errors"
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

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/bench"
)

func main() {
	bench.ServeIfChild()
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "authbench:", err)
		os.Exit(2)
	}
	// testing.Benchmark reads the test flags, which only testing.Init
	// registers; they are set here, never parsed from the command line (so
	// -h lists authbench's own flags only).
	testing.Init()
	if err := flag.CommandLine.Parse(nil); err != nil {
		log.Fatal(err)
	}
	if err := flag.Set("test.benchtime", cfg.benchtime); err != nil {
		log.Fatalf("authbench: -benchtime: %v", err)
	}

	loadBefore := loadAverage()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	env, err := bench.OpenWith(ctx, cfg.readPath)
	cancel()
	if err != nil {
		log.Fatal(err)
	}
	defer env.Close()

	ops := measure(env, selected(bench.Operations(bench.Config{OtherSessions: cfg.others}), cfg.run), cfg.count)
	hashes := measure(nil, selected(bench.Hashes(), cfg.run), cfg.count)

	fmt.Printf("Machine: %s, %d cores (GOMAXPROCS %d), %s %s/%s\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("Server: %s\n", env.Server)
	fmt.Printf("Read path (-read-path %s): %s, because %s\n", readPathFlags[cfg.readPath], env.ReadPath, env.ReadPathReason)
	fmt.Printf("Transactions: %v, because %s\n", env.Transactions, env.TransactionsReason)
	throttle := "one findAndModify with an update pipeline per update"
	if env.ThrottleLocks {
		throttle = "lock documents (no atomic updates): 4 commands per update, 3 when refused"
	}
	fmt.Printf("Shared throttle store: %s\n", throttle)
	fmt.Printf("Run: %s; -benchtime %s -count %d -others %d -read-path %s; medians of %d rounds, ratios within adjacent pairs; one client goroutine\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), cfg.benchtime, cfg.count, cfg.others, readPathFlags[cfg.readPath], cfg.count)
	fmt.Printf("Load average (1 min) before / after: %s / %s on %d cores\n\n", loadBefore, loadAverage(), runtime.NumCPU())
	printTable(ops, readPathRows(env))
	fmt.Println()
	printTable(hashes, nil)
	fmt.Println()
	printTargets(env, ops)
	printHashingTarget(ops, hashes)
}

// printHashingTarget checks that hashing a session token, as the core
// does before every lookup, costs under 5 % of a validation: the hash's
// own time over core-validate-session-user's, both medians of this run,
// and the ratio of the validation with unhashed ids (LuciaV1) to it.
func printHashingTarget(ops, hashes results) {
	hash, validate := hashes.byName[bench.HashSessionToken], ops.byName["core-validate-session-user"]
	if hash == nil || validate == nil {
		return
	}
	share := hash.nsPerOp / validate.nsPerOp
	verdict := "met"
	if share >= 0.05 {
		verdict = "MISSED"
	}
	fmt.Printf("- session token hashing: %.0f ns, %.2f %% of core-validate-session-user (%.0f ns), want < 5 %% — %s\n",
		hash.nsPerOp, 100*share, validate.nsPerOp, verdict)
	if unhashed := ops.byName["core-validate-session-user-unhashed"]; unhashed != nil {
		fmt.Printf("  (core-validate-session-user-unhashed: ×%.2f ops/s of the hashed one, range %s–%s: noise around 1)\n",
			unhashed.speedup, formatRatio(unhashed.slowest), formatRatio(unhashed.fastest))
	}
}

// config is what the command line asks for.
type config struct {
	benchtime string
	count     int
	run       *regexp.Regexp
	others    int
	readPath  mongoauth.ReadPath
}

// readPathFlags are the values of -read-path.
var readPathFlags = map[mongoauth.ReadPath]string{
	mongoauth.ReadPathAuto:     "auto",
	mongoauth.ReadPathLookup:   "lookup",
	mongoauth.ReadPathTwoReads: "two-reads",
}

// parseFlags reads authbench's own flags, on a flag set of its own: the
// test flags testing.Init adds to the command line's set are not among
// them.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := config{readPath: mongoauth.ReadPathAuto}
	fs := flag.NewFlagSet("authbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: [MONGODB_URI=mongodb://...] authbench [flags]")
		fmt.Fprintln(stderr, "Benchmarks the adapter's operations next to the raw driver and prints Markdown tables.")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.benchtime, "benchtime", "300ms", "time (or Nx iterations) per case and round, as go test -benchtime")
	fs.IntVar(&cfg.count, "count", 7, "rounds; the table shows medians")
	run := fs.String("run", "", "run only the cases whose name matches this `regexp` (and their baselines)")
	fs.IntVar(&cfg.others, "others", bench.DefaultOtherSessions, "sessions of other users around the listed user's 10")
	fs.Func("read-path", "read sessions with their user along this `path`: auto (mongoauth.New measures; the default), lookup or two-reads (forced, to compare both on your server)", func(v string) error {
		for path, name := range readPathFlags {
			if v == name {
				cfg.readPath = path
				return nil
			}
		}
		return errors.New("want auto, lookup or two-reads")
	})
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var err error
	if cfg.run, err = regexp.Compile(*run); err != nil {
		return cfg, fmt.Errorf("-run: %w", err)
	}
	if cfg.count < 1 {
		return cfg, errors.New("-count must be at least 1")
	}
	return cfg, nil
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

// row is one case with the medians of its runs and, for a compared case,
// the medians of its ratios to the baseline run next to it.
type row struct {
	bench.Case
	nsPerOp, cpuPerOp, bytesPerOp, allocsPerOp, commands float64
	// speedup is baseline ns/op over this case's ns/op (× ops/s), with
	// the lowest and highest pair; memory is this case's B/op over the
	// baseline's (× B/op).
	speedup, slowest, fastest, memory float64
}

// results are the rows in table order, also found by name.
type results struct {
	rows   []*row
	byName map[string]*row
}

// pair is one run of a compared case and the run of its baseline next to it.
type pair struct{ baseline, compared testing.BenchmarkResult }

// measure runs every compared case count times, each time right next to a
// fresh run of its baseline, alternating which goes first. The machine is
// shared: a burst of load that hits one case of a pair mostly hits the other
// too, and the alternation cancels a steady drift, so the ratio of a pair
// holds better than a ratio between runs minutes apart. A baseline's own
// columns are the median of all its runs; it runs alone only when no
// selected case is compared with it.
func measure(env *bench.Env, cases []bench.Case, count int) results {
	byName := map[string]bench.Case{}
	compared := map[string]bool{}
	for _, c := range cases {
		byName[c.Name] = c
		compared[c.Baseline] = true
	}
	runs := map[string][]testing.BenchmarkResult{}
	pairs := map[string][]pair{}
	for round := 1; round <= count; round++ {
		for _, c := range cases {
			base, hasBase := byName[c.Baseline]
			switch {
			case !hasBase && compared[c.Name]: // runs with the cases compared with it
			case !hasBase:
				runs[c.Name] = append(runs[c.Name], run(env, c, round, count))
			case round%2 == 1:
				p := pair{baseline: run(env, base, round, count)}
				p.compared = run(env, c, round, count)
				pairs[c.Name] = append(pairs[c.Name], p)
			default:
				p := pair{compared: run(env, c, round, count)}
				p.baseline = run(env, base, round, count)
				pairs[c.Name] = append(pairs[c.Name], p)
			}
		}
	}
	for name, ps := range pairs {
		for _, p := range ps {
			runs[name] = append(runs[name], p.compared)
			runs[byName[name].Baseline] = append(runs[byName[name].Baseline], p.baseline)
		}
	}
	res := results{byName: map[string]*row{}}
	for _, c := range cases {
		r := &row{Case: c}
		r.nsPerOp = median(runs[c.Name], nsPerOp)
		r.cpuPerOp = median(runs[c.Name], func(b testing.BenchmarkResult) float64 { return b.Extra[bench.CPUMetric] })
		r.bytesPerOp = median(runs[c.Name], bytesPerOp)
		r.allocsPerOp = median(runs[c.Name], func(b testing.BenchmarkResult) float64 { return float64(b.MemAllocs) / float64(b.N) })
		r.commands = median(runs[c.Name], commands)
		for _, b := range runs[c.Name] {
			if commands(b) != r.commands {
				log.Fatalf("authbench: %s: commands per operation differ between runs: %v and %v", c.Name, commands(b), r.commands)
			}
		}
		speedup := func(p pair) float64 { return nsPerOp(p.baseline) / nsPerOp(p.compared) }
		r.speedup = median(pairs[c.Name], speedup)
		for i, p := range pairs[c.Name] {
			if v := speedup(p); i == 0 || v < r.slowest {
				r.slowest = v
			}
			if v := speedup(p); v > r.fastest {
				r.fastest = v
			}
		}
		r.memory = median(pairs[c.Name], func(p pair) float64 { return bytesPerOp(p.compared) / bytesPerOp(p.baseline) })
		res.rows = append(res.rows, r)
		res.byName[c.Name] = r
	}
	return res
}

func run(env *bench.Env, c bench.Case, round, count int) testing.BenchmarkResult {
	fmt.Fprintf(os.Stderr, "authbench: round %d/%d: %s ...", round, count, c.Name)
	r := testing.Benchmark(c.Benchmark(env))
	if r.N == 0 {
		// The benchmark failed; testing.Benchmark discards its log.
		log.Fatalf("authbench: %s failed; for its log run: go test -run '^$' -bench '/^%s$' ./bench", c.Name, c.Name)
	}
	fmt.Fprintf(os.Stderr, " %d iterations\n", r.N)
	return r
}

func nsPerOp(b testing.BenchmarkResult) float64    { return float64(b.T.Nanoseconds()) / float64(b.N) }
func bytesPerOp(b testing.BenchmarkResult) float64 { return float64(b.MemBytes) / float64(b.N) }
func commands(b testing.BenchmarkResult) float64   { return b.Extra[bench.CommandsMetric] }

// median of value over xs; 0 for none.
func median[T any](xs []T, value func(T) float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = value(x)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// readPathCases are the rows that read a session with its user.
var readPathCases = []string{"validate-with-user", "core-validate-session-user", "core-validate-session", "core-validate-session-user-unhashed", "validate-with-user-attributes", "core-validate-last-seen-not-due", "core-validate-last-seen-due"}

// readPathRows notes the read path on readPathCases.
func readPathRows(env *bench.Env) map[string]string {
	note := " (" + env.ReadPath.String() + ")"
	notes := make(map[string]string, len(readPathCases))
	for _, name := range readPathCases {
		notes[name] = note
	}
	return notes
}

// printTable prints the rows; notes, nil for the hash table, adds a note
// to the names of some rows and the commands column.
func printTable(res results, notes map[string]string) {
	if len(res.rows) == 0 {
		return
	}
	withCommands := notes != nil
	if withCommands {
		fmt.Println("| operation | cmds/op | ops/s | ns/op | client CPU ns/op | B/op | allocs/op | compared with | × ops/s (range) | × B/op |")
		fmt.Println("|---|--:|--:|--:|--:|--:|--:|---|--:|--:|")
	} else {
		fmt.Println("| operation | hashes/s | ns/op | client CPU ns/op | B/op (≈ peak) | allocs/op | compared with | × hashes/s (range) | × B/op |")
		fmt.Println("|---|--:|--:|--:|--:|--:|---|--:|--:|")
	}
	for _, r := range res.rows {
		cells := []string{r.Name + notes[r.Name]}
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
			fmt.Sprintf("%.0f", r.cpuPerOp),
			formatBytes(r.bytesPerOp),
			fmt.Sprintf("%.0f", r.allocsPerOp))
		if base := res.byName[r.Baseline]; base != nil {
			speedup := formatRatio(r.speedup)
			if r.slowest != r.fastest {
				speedup += fmt.Sprintf(" (%s–%s)", formatRatio(r.slowest), formatRatio(r.fastest))
			}
			cells = append(cells, base.Name, speedup, formatRatio(r.memory))
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
	for _, name := range readPathCases {
		if r := rows[name]; r != nil {
			want := 2.0
			if env.Lookup {
				want = 1
			}
			if name == "core-validate-last-seen-due" {
				want++ // the one update of last seen
			}
			report(fmt.Sprintf("%s: %.0f commands, want %.0f (read path: %s)", name, r.commands, want, env.ReadPath), r.commands == want)
		}
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
	constant(2, "create-session-1-existing", "create-session-1000-existing", "create-session-with-attributes")
	constant(0, "delete-user-1-session", "delete-user-10-sessions", "delete-user-10-among-others")
	if r, base := rows["delete-user-1000-sessions"], rows["delete-user-1-session"]; r != nil && base != nil {
		want, why := base.commands, ""
		if env.Transactions { // sessions go after the commit, 1,000 per find
			want, why = want+1, " (after a transaction a full batch of 1,000 sessions is followed by one more find)"
		}
		report(fmt.Sprintf("delete-user-1000-sessions %.0f commands, want %.0f as delete-user-1-session%s", r.commands, want, why), r.commands == want)
	}
	for _, r := range res.rows {
		base := rows[r.Baseline]
		if base == nil || strings.HasPrefix(r.Name, "raw-") || r.commands != 1 || r.Hashes {
			continue
		}
		report(fmt.Sprintf("%s (one command): ×%.2f ops/s, want ≥ 0.9; ×%.2f B/op, want ≤ 1.5 (of %s)", r.Name, r.speedup, r.memory, base.Name),
			r.speedup >= 0.9 && r.memory <= 1.5)
	}
}

// loadAverage is the one-minute load average from /proc/loadavg (Linux).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b) + " ?")[0]
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
