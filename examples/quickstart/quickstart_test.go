package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/luciago/mongoauth/internal/readme"
	"github.com/luciago/mongoauth/mongotest"
)

// TestQuickStartAsANewcomer does what a newcomer does with the README's
// Quick start: copies its code block into a new module, builds it, points
// it at a database with MONGODB_URI and uses it over plain HTTP, as a
// browser on http://localhost would (Origin and Sec-Fetch-Site headers).
func TestQuickStartAsANewcomer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the README's Quick start in a scratch module")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command: " + err.Error())
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	blocks, err := readme.GoBlocks(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	var program string
	for _, b := range blocks {
		if b.Section == "Quick start" {
			program = b.Code
			break
		}
	}
	require.NotEmpty(t, program, "README.md has no ```go block under ## Quick start")

	// The newcomer's module: the block as main.go, this checkout for the
	// library, and the checksums of its go.sum (what the sum database
	// would give); modules come from the local module cache.
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("go.mod", "module example.com/quickstart\n\ngo 1.26.0\n\nrequire github.com/luciago/mongoauth v0.0.0\n\nreplace github.com/luciago/mongoauth => "+root+"\n")
	sums, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	write("go.sum", string(sums))
	write("main.go", program)
	bin := filepath.Join(dir, "quickstart")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOPROXY=off")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "the README's Quick start, copied into a new module, does not build:\n%s", out)

	// Run it as the newcomer would, with one hashing slot so that a burst
	// of logins finds it busy.
	// The embedded FerretDB, of this test alone (the program uses the
	// database "app").
	srv, err := mongotest.StartFerretDB(mongotest.Context(t), "")
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	addr := freeAddr(t)
	base := "http://" + addr
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "MONGODB_URI="+srv.URI, "ADDR="+addr, "GOMAXPROCS=1")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	logs := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			logs <- s.Text()
		}
		close(logs)
	}()
	waitServing(t, base, logs)

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path, origin string, form url.Values, cookies ...*http.Cookie) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}
	creds := func(user, password string) url.Values {
		return url.Values{"username": {user}, "password": {password}}
	}

	// The page with the form.
	resp, err := client.Get(base + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "action=/login")

	// Sign-up over plain HTTP: a cookie a browser keeps on http://.
	resp = post("/signup", base, creds("ann", "correct horse"))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	cookie := sessionCookie(t, resp)
	assert.False(t, cookie.Secure, "Development's cookie works over plain HTTP")
	assert.Equal(t, "auth_session", cookie.Name)
	assert.Equal(t, "hello ann\n", get(t, client, base+"/me", http.StatusOK, cookie))
	get(t, client, base+"/me", http.StatusUnauthorized)
	assert.Equal(t, http.StatusConflict, post("/signup", base, creds("ann", "other password")).StatusCode, "username taken")
	assert.Equal(t, http.StatusBadRequest, post("/signup", base, creds("eve", "")).StatusCode, "a sign-up without a password")
	assert.Equal(t, http.StatusUnauthorized, post("/login", base, creds("eve", "")).StatusCode, "no passwordless account was made")

	// Login, and each of its errors as the godoc says.
	resp = post("/login", base, creds("ann", "correct horse"))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "hello ann\n", get(t, client, base+"/me", http.StatusOK, sessionCookie(t, resp)))
	assert.Equal(t, http.StatusForbidden, post("/login", "http://evil.example", creds("ann", "correct horse")).StatusCode, "CSRF")
	assert.Equal(t, http.StatusUnauthorized, post("/login", base, creds("ann", "wrong")).StatusCode, "wrong password")
	assert.Equal(t, http.StatusUnauthorized, post("/login", base, creds("nobody", "x")).StatusCode, "unknown username")
	// A bcrypt hash, as Lucia v1 reported: ErrOutdatedPassword.
	ctx := mongotest.Context(t)
	app := srv.Client.Database("app")
	_, err = app.Collection("auth_user").InsertOne(ctx, bson.D{{Key: "_id", Value: "bcryptuser"}, {Key: "username", Value: "bob"}})
	require.NoError(t, err)
	_, err = app.Collection("auth_key").InsertOne(ctx, bson.D{{Key: "_id", Value: "username:bob"}, {Key: "user_id", Value: "bcryptuser"},
		{Key: "hashed_password", Value: "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"}, {Key: "primary_key", Value: true}, {Key: "expires", Value: nil}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, post("/login", base, creds("bob", "x")).StatusCode, "outdated (bcrypt) hash")

	// Throttled: ten free failures per username, then 429 with Retry-After.
	var throttled *http.Response
	for range 12 {
		if resp := post("/login", base, creds("carl", "guess")); resp.StatusCode != http.StatusUnauthorized {
			throttled = resp
			break
		}
	}
	require.NotNil(t, throttled, "no login was throttled")
	assert.Equal(t, http.StatusTooManyRequests, throttled.StatusCode)
	assert.NotEmpty(t, throttled.Header.Get("Retry-After"), "429 without Retry-After")

	// Busy: more logins at once than one hashing slot and its waiters.
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			resp := post("/login", base, creds(fmt.Sprintf("flood%d", i), "guess"))
			mu.Lock()
			defer mu.Unlock()
			statuses[resp.StatusCode]++
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
	wg.Wait()
	t.Logf("40 logins at once: %v", statuses)
	assert.Positive(t, statuses[http.StatusServiceUnavailable], "no login found the server busy")
	assert.Equal(t, 40, statuses[http.StatusServiceUnavailable]+statuses[http.StatusUnauthorized], "only 401 and 503")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// waitServing waits until the program answers, failing with its log if it
// exits first.
func waitServing(t *testing.T, base string, logs <-chan string) {
	t.Helper()
	var seen []string
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case line, ok := <-logs:
			if !ok {
				t.Fatalf("the Quick start exited:\n%s", strings.Join(seen, "\n"))
			}
			seen = append(seen, line)
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := http.Get(base + "/"); err == nil {
			_ = resp.Body.Close()
			return
		}
	}
	t.Fatalf("the Quick start does not answer on %s:\n%s", base, strings.Join(seen, "\n"))
}

func get(t *testing.T, client *http.Client, url string, status int, cookies ...*http.Cookie) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, status, resp.StatusCode, "GET %s", url)
	return string(body)
}

func sessionCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Value != "" {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", resp.Header["Set-Cookie"])
	return nil
}
