// Command loginflood floods the example app (examples/webapp) with
// concurrent wrong-password logins and reports what they cost it: its peak
// memory, the slowest answer, the mix of status codes, and whether it still
// serves pages and logs users in afterwards.
//
//	go run ./cmd/loginflood [-n 1000] [-max-rss-mb 300] [-max-answer 5s]
//
// It builds the app, starts it as a child process on a free loopback port
// with a fresh embedded FerretDB in a temporary directory (MONGODB_URI is
// ignored), and signs one user up. Then it sends n logins at once, each for
// another username and from another loopback address (127.0.x.y), so that
// neither the per-key nor the per-client throttle turns them away: every
// one reaches password hashing, the costly part. Peak memory is the app's
// VmHWM from /proc (the most resident memory it ever had), so this runs on
// Linux only. It exits with status 1 if a target is missed or the app is
// not healthy afterwards.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("loginflood: ")
	n := flag.Int("n", 1000, "concurrent logins")
	maxRSS := flag.Int("max-rss-mb", 300, "target: the app's peak resident memory, in MB")
	maxAnswer := flag.Duration("max-answer", 5*time.Second, "target: the slowest answer")
	appBinary := flag.String("app", "", "a built example app `binary` to run instead of building ./examples/webapp (to compare versions; one that has the -dev flag)")
	flag.Parse()
	if *n < 1 || *n > 250*250 {
		log.Fatal("-n must be between 1 and 62500")
	}
	ok, err := run(*n, int64(*maxRSS)<<20, *maxAnswer, *appBinary)
	if err != nil {
		log.Fatal(err)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(n int, maxRSS int64, maxAnswer time.Duration, appBinary string) (ok bool, err error) {
	dir, err := os.MkdirTemp("", "loginflood")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)

	app, err := startApp(dir, appBinary)
	if err != nil {
		return false, err
	}
	defer app.stop()
	fmt.Printf("app: pid %d at %s, GOMAXPROCS %s (the default hashing bound)\n", app.cmd.Process.Pid, app.url, gomaxprocs())

	const username, password = "flood-user", "the right password"
	if status, err := post(noRedirects(nil), app.url, "/signup", username, password); err != nil || status != http.StatusSeeOther {
		return false, fmt.Errorf("sign-up: status %d, %v", status, err)
	}
	before, err := peakRSS(app.cmd.Process.Pid)
	if err != nil {
		return false, err
	}

	results := flood(app.url, n)

	after, err := peakRSS(app.cmd.Process.Pid)
	if err != nil {
		return false, err
	}
	healthy := healthCheck(app.url, username, password)

	ok = true
	verdict := func(met bool) string {
		if met {
			return "met"
		}
		ok = false
		return "NOT MET"
	}
	fmt.Printf("peak RSS (VmHWM): %d MB after start and sign-up, %d MB after %d concurrent logins (target ≤ %d MB): %s\n",
		before>>20, after>>20, n, maxRSS>>20, verdict(after <= maxRSS))
	slowest, median, answered := results.durations()
	fmt.Printf("answers: %d of %d; median %s, slowest %s (target ≤ %s): %s\n",
		answered, n, median.Round(time.Millisecond), slowest.Round(time.Millisecond), maxAnswer, verdict(answered == n && slowest <= maxAnswer))
	fmt.Printf("status: %s\n", results.mix())
	if results.retryAfterMissing > 0 {
		fmt.Printf("%d answers of 429 or 503 came without Retry-After\n", results.retryAfterMissing)
		ok = false
	}
	fmt.Printf("afterwards: %s: %s\n", healthy, verdict(healthy == "healthy"))
	return ok, nil
}

// app is the example app running as a child process.
type app struct {
	cmd  *exec.Cmd
	url  string
	done chan error
}

// startApp builds the example app into dir (unless bin names a built one)
// and starts it with its data in dir, on a free loopback port, in
// development mode (-dev: plain HTTP); it returns once the app serves.
func startApp(dir, bin string) (*app, error) {
	if bin == "" {
		root, err := moduleRoot()
		if err != nil {
			return nil, err
		}
		bin = filepath.Join(dir, "webapp")
		build := exec.Command("go", "build", "-o", bin, "./examples/webapp")
		build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("build the example app: %w", err)
		}
	}

	cmd := exec.Command(bin, "-dev", "-addr", "127.0.0.1:0", "-data", filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "MONGODB_URI=")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	a := &app{cmd: cmd, done: make(chan error, 1)}
	found := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			if _, u, ok := strings.Cut(scanner.Text(), "serving on "); ok {
				found <- strings.Fields(u)[0]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { a.done <- cmd.Wait() }()
	select {
	case a.url = <-found:
		return a, nil
	case err := <-a.done:
		return nil, fmt.Errorf("the example app exited before serving: %v", err)
	case <-time.After(5 * time.Minute):
		a.stop()
		return nil, errors.New("the example app did not start within 5 minutes")
	}
}

// stop interrupts the app, as Ctrl-C does, and kills it if it has not
// stopped within 15 seconds.
func (a *app) stop() {
	_ = a.cmd.Process.Signal(os.Interrupt)
	select {
	case <-a.done:
	case <-time.After(15 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.done
	}
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run loginflood inside the mongoauth module")
	}
	return filepath.Dir(gomod), nil
}

func gomaxprocs() string {
	if v := os.Getenv("GOMAXPROCS"); v != "" {
		return v
	}
	return strconv.Itoa(runtime.NumCPU()) // the child's default, on this machine
}

// peakRSS reads VmHWM, the peak resident set size, of process pid.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read the app's memory (Linux only): %w", err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/<pid>/status")
}

// post sends the login or sign-up form as a browser would, with Origin.
func post(client *http.Client, base, path, username, password string) (int, error) {
	status, _, err := postForm(context.Background(), client, base, path, username, password)
	return status, err
}

func postForm(ctx context.Context, client *http.Client, base, path, username, password string) (status int, retryAfter bool, err error) {
	form := url.Values{"username": {username}, "password": {password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err := client.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header.Get("Retry-After") != "", nil
}

// noRedirects is a client that reports redirects instead of following them.
func noRedirects(transport http.RoundTripper) *http.Client {
	return &http.Client{
		Transport:     transport,
		Timeout:       time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// results are the flood's answers.
type results struct {
	mu                sync.Mutex
	took              []time.Duration
	statuses          map[string]int
	retryAfterMissing int
}

func (r *results) add(status int, retryAfter bool, took time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := strconv.Itoa(status)
	if err != nil {
		key = "error"
	} else {
		r.took = append(r.took, took)
	}
	r.statuses[key]++
	if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && !retryAfter {
		r.retryAfterMissing++
	}
}

func (r *results) durations() (slowest, median time.Duration, answered int) {
	took := slices.Clone(r.took)
	slices.Sort(took)
	if len(took) == 0 {
		return 0, 0, 0
	}
	return took[len(took)-1], took[len(took)/2], len(took)
}

func (r *results) mix() string {
	keys := make([]string, 0, len(r.statuses))
	for k := range r.statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, r.statuses[k])
	}
	return strings.Join(parts, ", ")
}

// flood sends n wrong-password logins at once, each for another unknown
// username from another loopback address, and waits for every answer.
func flood(base string, n int) *results {
	r := &results{statuses: map[string]int{}}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		// 127.0.1.1, 127.0.1.2, ...: all loopback on Linux, each its own
		// client for the app's throttle.
		local := &net.TCPAddr{IP: net.IPv4(127, 0, byte(1+i/250), byte(1+i%250))}
		dialer := &net.Dialer{LocalAddr: local, Timeout: time.Minute}
		client := noRedirects(&http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true})
		wg.Go(func() {
			<-start
			began := time.Now()
			status, retryAfter, err := postForm(context.Background(), client, base, "/login", "flood-"+strconv.Itoa(i), "a wrong password")
			r.add(status, retryAfter, time.Since(began), err)
		})
	}
	close(start)
	wg.Wait()
	return r
}

// healthCheck reports "healthy" if the app serves the login page and logs
// the user in, from an address the flood did not use; otherwise what
// failed.
func healthCheck(base, username, password string) string {
	res, err := http.Get(base + "/login")
	if err != nil {
		return "GET /login: " + err.Error()
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Sprintf("GET /login: status %d", res.StatusCode)
	}
	status, err := post(noRedirects(nil), base, "/login", username, password)
	switch {
	case err != nil:
		return "login: " + err.Error()
	case status != http.StatusSeeOther:
		return fmt.Sprintf("login: status %d, want 303", status)
	}
	return "healthy"
}
