// Package interop_test runs the real Lucia v1 (lucia-auth 1.8.0 on its
// mongoose and PostgreSQL adapters, and @lucia-auth/oauth 1.2.1, in Node)
// and this module's Go core on one database, and checks that each side
// accepts what the other writes.
//
// The Node project is testdata/lucia (exact versions in package.json and
// package-lock.json). Install it once with
//
//	npm ci --prefix interop/testdata/lucia
//
// Without node or the installed packages the tests skip, saying why; with
// LUCIA_INTEROP=required (set by .ci/run) they fail instead.
package interop_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// nodeProject is the Node project with the real Lucia.
const nodeProject = "testdata/lucia"

// callTimeout bounds one request to Lucia; scrypt takes a fraction of it.
const callTimeout = 30 * time.Second

// requireNode skips t, or fails it under LUCIA_INTEROP=required, when Node
// or the Node project's packages are missing.
func requireNode(t *testing.T) string {
	t.Helper()
	missing := func(reason string) {
		t.Helper()
		if os.Getenv("LUCIA_INTEROP") == "required" {
			t.Fatalf("LUCIA_INTEROP=required, but %s", reason)
		}
		t.Skipf("skipped: %s", reason)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed (Node 20 runs the real Lucia v1)")
	}
	for _, pkg := range []string{"lucia-auth", "@lucia-auth/oauth"} {
		if _, err := os.Stat(filepath.Join(nodeProject, "node_modules", pkg, "package.json")); err != nil {
			missing("the Node packages are not installed: run `npm ci --prefix interop/testdata/lucia`")
		}
	}
	return node
}

// lucia is one running Lucia application (testdata/lucia/lucia.js),
// answering one request at a time.
type lucia struct {
	t      *testing.T
	stdin  *json.Encoder
	lines  chan []byte
	stderr *lockedBuffer
}

// startLucia starts Node with the real Lucia on the given adapter
// ("mongoose" or "postgresql") and environment, and stops it when t ends.
func startLucia(t *testing.T, adapter string, env ...string) *lucia {
	t.Helper()
	node := requireNode(t)
	cmd := exec.Command(node, "lucia.js")
	cmd.Dir = nodeProject
	cmd.Env = append(os.Environ(), append([]string{"LUCIA_ADAPTER=" + adapter}, env...)...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	l := &lucia{t: t, stdin: json.NewEncoder(stdin), lines: make(chan []byte), stderr: &lockedBuffer{}}
	cmd.Stderr = l.stderr
	require.NoError(t, cmd.Start())
	go func() {
		defer close(l.lines)
		scanner := bufio.NewScanner(stdout)
		scanner.Buffer(nil, 1<<20)
		for scanner.Scan() {
			l.lines <- bytes.Clone(scanner.Bytes())
		}
	}()
	t.Cleanup(func() {
		// Closing stdin ends the request loop; Lucia then disconnects and
		// exits.
		_ = stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("lucia.js: %v\n%s", err, l.stderr)
			}
		case <-time.After(callTimeout):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("lucia.js did not exit\n%s", l.stderr)
		}
	})
	var ready struct{ Ready bool }
	l.read(&ready)
	require.True(t, ready.Ready)
	return l
}

// read decodes the next line from Lucia into v.
func (l *lucia) read(v any) {
	l.t.Helper()
	select {
	case line, ok := <-l.lines:
		if !ok {
			l.t.Fatalf("lucia.js exited\n%s", l.stderr)
		}
		require.NoError(l.t, json.Unmarshal(line, v), "%s", line)
	case <-time.After(callTimeout):
		l.t.Fatalf("lucia.js did not answer within %s\n%s", callTimeout, l.stderr)
	}
}

// call runs a Lucia method with args, decodes its result into result (if
// not nil) and returns the LuciaError code it threw, "" on success. Any
// other exception fails the test.
func (l *lucia) call(result any, op string, args ...any) (code string) {
	l.t.Helper()
	require.NoError(l.t, l.stdin.Encode(map[string]any{"op": op, "args": args}))
	var answer struct {
		Result  json.RawMessage
		Error   string
		Failure string
	}
	l.read(&answer)
	if answer.Failure != "" {
		l.t.Fatalf("Lucia %s%v failed: %s", op, args, answer.Failure)
	}
	if answer.Error == "" && result != nil {
		require.NoError(l.t, json.Unmarshal(answer.Result, result), "%s", answer.Result)
	}
	return answer.Error
}

// must is call for calls that must succeed.
func (l *lucia) must(result any, op string, args ...any) {
	l.t.Helper()
	if code := l.call(result, op, args...); code != "" {
		l.t.Fatalf("Lucia %s%v: %s", op, args, code)
	}
}

// jsUser is what lucia.js's transformDatabaseUser returns: the id and
// every other field of the stored user.
type jsUser struct {
	UserID     string         `json:"userId"`
	Attributes map[string]any `json:"attributes"`
}

// jsSession is a Lucia session, dates in Unix ms.
type jsSession struct {
	SessionID             string `json:"sessionId"`
	UserID                string `json:"userId"`
	State                 string `json:"state"`
	Fresh                 bool   `json:"fresh"`
	ActivePeriodExpiresAt int64  `json:"activePeriodExpiresAt"`
	IdlePeriodExpiresAt   int64  `json:"idlePeriodExpiresAt"`
}

// jsKey is a Lucia key.
type jsKey struct {
	ProviderID      string `json:"providerId"`
	ProviderUserID  string `json:"providerUserId"`
	UserID          string `json:"userId"`
	PasswordDefined bool   `json:"passwordDefined"`
}

// signUp creates a user with a primary username key, as a Lucia sign-up
// form does. An empty password makes a key without one.
func (l *lucia) signUp(username, password string, attributes map[string]any) jsUser {
	l.t.Helper()
	var u jsUser
	var pw any
	if password != "" {
		pw = password
	}
	l.must(&u, "createUser", "username", username, pw, attributes)
	return u
}

// logIn is Lucia's useKey with a username key.
func (l *lucia) logIn(username, password string) (jsKey, string) {
	l.t.Helper()
	var k jsKey
	code := l.call(&k, "useKey", "username", username, password)
	return k, code
}

// validate is Lucia's validateSessionUser.
func (l *lucia) validate(sessionID string) (jsSession, jsUser, string) {
	l.t.Helper()
	var r struct {
		Session jsSession
		User    jsUser
	}
	code := l.call(&r, "validateSessionUser", sessionID)
	return r.Session, r.User, code
}

// lockedBuffer collects Node's stderr for failure messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() == 0 {
		return "(no stderr)"
	}
	return fmt.Sprintf("stderr:\n%s", b.buf.String())
}
