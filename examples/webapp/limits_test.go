package main

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// TestLoginIsThrottled: after the free failed logins for a username (10
// by default, 3 here to keep the test short) the app answers 429 with
// Retry-After and says so, the same way whether or not the username exists.
func TestLoginIsThrottled(t *testing.T) {
	base, _ := fastApp(t, func(c *auth.Config) { c.KeyThrottle.FreeFailures = 3 })
	newVisitor(t, base).post("/signup", "username", "gus", "password", "gus's password")

	v := newVisitor(t, base)
	var answers []response
	for _, username := range []string{"gus", "nobody"} {
		for i := range 3 {
			res := v.post("/login", "username", username, "password", "a wrong guess")
			require.Equal(t, http.StatusUnauthorized, res.Status, "%s: failure %d", username, i+1)
		}
		res := v.post("/login", "username", username, "password", "gus's password")
		assert.Equal(t, http.StatusTooManyRequests, res.Status, username)
		assert.Equal(t, "900", res.RetryAfter, username)
		assert.Equal(t, "Too many failed login attempts. Please wait 15 minutes and try again.", res.message("error"), username)
		assert.Equal(t, http.StatusSeeOther, v.get("/").Status, "%s: still logged out", username)
		answers = append(answers, res)
	}
	assert.Equal(t, strings.ReplaceAll(answers[0].Body, `value="gus"`, `value="nobody"`), answers[1].Body,
		"the page does not tell whether the username exists")
}

// gatedHasher holds Verify calls while its gate is closed.
type gatedHasher struct {
	auth.PasswordHasher
	mu      sync.Mutex
	gate    chan struct{} // nil: open
	entered chan struct{}
}

func (h *gatedHasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	h.mu.Lock()
	gate := h.gate
	h.mu.Unlock()
	if gate != nil {
		select {
		case h.entered <- struct{}{}:
		default:
		}
		<-gate
	}
	return h.PasswordHasher.Verify(ctx, hash, password)
}

// TestBusyServerAnswers503: when every hashing slot is taken for longer
// than the wait, logins and sign-ups get 503 with Retry-After at once.
func TestBusyServerAnswers503(t *testing.T) {
	hasher := &gatedHasher{PasswordHasher: auth.InsecureFastHasher(), entered: make(chan struct{}, 1)}
	base, _ := startApp(t, func(c *auth.Config) {
		c.PasswordHasher = hasher
		c.MaxConcurrentHashes = 1
		c.MaxHashWait = 10 * time.Millisecond
	})
	newVisitor(t, base).post("/signup", "username", "hal", "password", "hal's password")

	gate := make(chan struct{})
	hasher.mu.Lock()
	hasher.gate = gate
	hasher.mu.Unlock()
	open := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(open) // before the server closes, should the test fail early
	done := make(chan response)
	go func() { done <- newVisitor(t, base).post("/login", "username", "hal", "password", "hal's password") }()
	<-hasher.entered // the only slot is taken

	v := newVisitor(t, base)
	for _, post := range [][]string{
		{"/login", "username", "hal", "password", "hal's password"},
		{"/signup", "username", "ida", "password", "ida's password"},
	} {
		res := v.post(post[0], post[1:]...)
		assert.Equal(t, http.StatusServiceUnavailable, res.Status, post[0])
		assert.Equal(t, "1", res.RetryAfter, post[0])
		assert.Equal(t, msgBusy, res.message("error"), post[0])
	}
	open()
	assert.Equal(t, http.StatusSeeOther, (<-done).Status, "the login holding the slot went through")
}
