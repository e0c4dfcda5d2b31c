package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startRun calls run as `go run ./examples/webapp -addr 127.0.0.1:0 -data
// dir [flags]` would, and returns the URL it prints and a stop function
// that cancels run's context (as Ctrl-C does) and returns everything run
// printed and its error.
func startRun(t *testing.T, dataDir string, flags ...string) (url string, stop func() (output string, err error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, in := io.Pipe()
	result := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"-addr", "127.0.0.1:0", "-data", dataDir}, flags...), in)
		in.Close()
		result <- err
	}()

	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		for s := bufio.NewScanner(out); s.Scan(); {
			lines <- s.Text()
		}
	}()
	var printed []string
	read := func() {
		for line := range lines {
			printed = append(printed, line)
		}
	}
	stop = func() (string, error) {
		cancel()
		select {
		case err := <-result:
			read()
			return strings.Join(printed, "\n"), err
		case <-time.After(time.Minute):
			t.Fatal("run did not return within a minute of the cancellation")
			return "", nil
		}
	}

	timeout := time.After(time.Minute)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				output, err := stop()
				t.Fatalf("run ended before serving: %v\n%s", err, output)
			}
			printed = append(printed, line)
			if _, url, found := strings.Cut(line, "serving on "); found {
				url, _, _ = strings.Cut(url, " ")
				return url, stop
			}
		case <-timeout:
			output, err := stop()
			t.Fatalf("run printed no URL within a minute: %v\n%s", err, output)
		}
	}
}

// TestRun starts the app as the README's `go run ./examples/webapp -dev`
// does on a fresh clone (no MONGODB_URI: embedded FerretDB on a data
// directory), uses it over plain HTTP, stops it, and starts it again on
// the same directory: the account and the session are still there.
func TestRun(t *testing.T) {
	t.Setenv("MONGODB_URI", "")
	dataDir := t.TempDir()

	url, stop := startRun(t, dataDir, "-dev")
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)
	v := newVisitor(t, url)
	res := v.get("/")
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Equal(t, "/login", res.Location)
	res = v.get("/login")
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, `<main id="page-login">`)

	signup, cookies := signUpEve(t, v, url, "Origin", url)
	// -dev: Development cookies, not Secure, so that they work over plain
	// HTTP, and no HSTS.
	assert.False(t, cookies[0].Secure, "session cookie with -dev")
	assert.Equal(t, "auth_session", cookies[0].Name)
	assert.True(t, cookies[0].HttpOnly)
	assert.Empty(t, signup.Header.Get("Strict-Transport-Security"))
	require.Contains(t, v.get("/").Body, `<strong id="username">eve</strong>`)

	output, err := stop()
	require.NoError(t, err)
	assert.Contains(t, output, "embedded FerretDB, data in "+dataDir)
	assert.True(t, strings.HasSuffix(output, "webapp: stopped"), output)

	// Same data directory, new port: the session cookie (cookies belong to
	// a host, not a port) still logs in, and so does the password.
	url, stop = startRun(t, dataDir, "-dev")
	v.base, v.origin = url, url
	res = v.get("/")
	require.Equal(t, http.StatusOK, res.Status, "the session survived the restart")
	assert.Contains(t, res.Body, `<strong id="username">eve</strong>`)
	res = newVisitor(t, url).post("/login", "username", "eve", "password", "eve's password")
	assert.Equal(t, http.StatusSeeOther, res.Status, res.message("error"))
	_, err = stop()
	require.NoError(t, err)
}

// TestRunIsProductionByDefault: without -dev the app is in production
// mode whatever its address, loopback included (the usual setup behind a
// TLS-terminating proxy on the same host): a __Host- cookie that is
// Secure, HSTS, and a note that it wants HTTPS in front.
func TestRunIsProductionByDefault(t *testing.T) {
	t.Setenv("MONGODB_URI", "")
	url, stop := startRun(t, t.TempDir())
	v := newVisitor(t, url)
	res := v.get("/login")
	require.Equal(t, http.StatusOK, res.Status)

	// What a browser sends to the app through an HTTPS proxy.
	signup, cookies := signUpEve(t, v, url, "Sec-Fetch-Site", "same-origin")
	assert.Equal(t, "__Host-auth_session", cookies[0].Name)
	assert.True(t, cookies[0].Secure)
	assert.Equal(t, "/", cookies[0].Path)
	assert.Empty(t, cookies[0].Domain)
	assert.Equal(t, "max-age=31536000", signup.Header.Get("Strict-Transport-Security"))

	output, err := stop()
	require.NoError(t, err)
	assert.Contains(t, output, "HTTPS")
	assert.Contains(t, output, "-dev")
}

// signUpEve signs eve up at the app at url with the request header given
// (name, value) and returns the response, whose one cookie is the session
// cookie.
func signUpEve(t *testing.T, v *visitor, url, header, value string) (*http.Response, []*http.Cookie) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/signup", strings.NewReader("username=eve&password=eve's+password"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(header, value)
	signup, err := v.client.Do(req)
	require.NoError(t, err)
	signup.Body.Close()
	require.Equal(t, http.StatusSeeOther, signup.StatusCode)
	cookies := signup.Cookies()
	require.Len(t, cookies, 1)
	return signup, cookies
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true,
		"127.0.0.2:80":   true,
		"[::1]:8080":     true,
		"localhost:8080": true,
		":8080":          false,
		"0.0.0.0:8080":   false,
		"[::]:8080":      false,
		"192.0.2.1:80":   false,
		"example.com:80": false,
		"127.0.0.1":      false, // no port: not an address run can serve on
	} {
		assert.Equal(t, want, isLoopback(addr), addr)
	}
}

// TestRunCutsOffSlowClients: a client that sends its headers and then
// trickles the body, a byte a second, cannot hold a connection (and a
// goroutine) for long: the server run starts closes it.
func TestRunCutsOffSlowClients(t *testing.T) {
	const limit = 30 * time.Second
	url, stop := startRun(t, t.TempDir(), "-dev")
	defer func() {
		_, err := stop()
		require.NoError(t, err)
	}()
	host := strings.TrimPrefix(url, "http://")
	conn, err := net.Dial("tcp", host)
	require.NoError(t, err)
	defer conn.Close()

	start := time.Now()
	_, err = fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n", host, url)
	require.NoError(t, err)
	closed := make(chan struct{})
	go func() { // the client: answer or not, read until the server hangs up
		defer close(closed)
		_, _ = io.Copy(io.Discard, conn)
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-closed:
			t.Logf("the server closed the connection after %v", time.Since(start).Round(time.Second))
			return
		case <-tick.C:
			if time.Since(start) > limit {
				t.Fatalf("the server still reads a trickled body after %v", limit)
			}
			_, _ = conn.Write([]byte("u"))
		}
	}
}

// TestServerTimeouts checks what TestRunCutsOffSlowClients cannot wait
// for: every timeout is set, and a request may run well past the time
// its body takes to arrive, since a login may wait seconds for a hashing
// slot before it hashes.
func TestServerTimeouts(t *testing.T) {
	s := newServer(http.NotFoundHandler())
	assert.Positive(t, s.ReadHeaderTimeout)
	assert.GreaterOrEqual(t, s.ReadTimeout, s.ReadHeaderTimeout)
	assert.GreaterOrEqual(t, s.WriteTimeout, s.ReadTimeout+10*time.Second)
	assert.Positive(t, s.IdleTimeout)
}
