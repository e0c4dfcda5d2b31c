package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// gate holds one call at a point of its own choosing until the test lets
// it go, so that a race can be played out in a fixed order instead of
// being hoped for.
type gate struct {
	reached chan struct{} // closed when the held call arrives
	release chan struct{} // closed by the test to let it go on
}

func newGate() *gate { return &gate{reached: make(chan struct{}), release: make(chan struct{})} }

// hold is called by the held call: it signals arrival and waits.
func (g *gate) hold(ctx context.Context) {
	close(g.reached)
	select {
	case <-g.release:
	case <-ctx.Done():
	}
}

// wait waits until the held call has arrived.
func (g *gate) wait(t *testing.T) {
	t.Helper()
	select {
	case <-g.reached:
	case <-time.After(time.Minute):
		t.Fatal("the call never reached the gate")
	}
}

// open lets the held call go on.
func (g *gate) open() { close(g.release) }

// gateHasher is a PasswordHasher that can hold its next Hash (once the hash
// is computed) or its next Verify (once the password is checked) at a
// gate. Other calls pass straight through.
type gateHasher struct {
	auth.PasswordHasher
	mu                   sync.Mutex
	nextHash, nextVerify *gate
}

func newGateHasher() *gateHasher { return &gateHasher{PasswordHasher: auth.InsecureFastHasher()} }

// newGateEnv returns an env over a fresh adapter of b whose hasher is a
// gateHasher; configure may change the Config further. A held call keeps
// its hashing slot, so there are 4 slots whatever GOMAXPROCS is; and the
// measurement the first login makes (timing.go) is made here, so that a
// gate armed later holds the call the test means.
func newGateEnv(t *testing.T, b backend, configure ...func(*auth.Config)) (*env, *gateHasher) {
	t.Helper()
	hasher := newGateHasher()
	e := newEnv(t, b.newAdapter(t), func(c *auth.Config) {
		c.PasswordHasher = hasher
		c.MaxConcurrentHashes = 4
		for _, f := range configure {
			f(c)
		}
	})
	require.NoError(t, auth.PrepareLogins(e.ctx, e.a))
	return e, hasher
}

// holdNextHash arms a gate for the next Hash call.
func (h *gateHasher) holdNextHash() *gate {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nextHash = newGate()
	return h.nextHash
}

// holdNextVerify arms a gate for the next Verify call.
func (h *gateHasher) holdNextVerify() *gate {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nextVerify = newGate()
	return h.nextVerify
}

// take returns the armed gate *g, if any, and disarms it.
func (h *gateHasher) take(g **gate) *gate {
	h.mu.Lock()
	defer h.mu.Unlock()
	taken := *g
	*g = nil
	return taken
}

func (h *gateHasher) Hash(ctx context.Context, password string) (string, error) {
	hash, err := h.PasswordHasher.Hash(ctx, password)
	if g := h.take(&h.nextHash); g != nil {
		g.hold(ctx)
	}
	return hash, err
}

func (h *gateHasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	ok, err := h.PasswordHasher.Verify(ctx, hash, password)
	if g := h.take(&h.nextVerify); g != nil {
		g.hold(ctx)
	}
	return ok, err
}

// everyBackend is every adapter the core's tests run on: memory with and
// without the optional interfaces, MongoDB and SQLite.
func everyBackend() []backend {
	return append(memoryBackends[:len(memoryBackends):len(memoryBackends)], mongoBackend, sqliteBackend)
}

// forEveryBackend runs test on each backend, in parallel.
func forEveryBackend(t *testing.T, test func(t *testing.T, b backend)) {
	for _, b := range everyBackend() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, b)
		})
	}
}

// result is what a call running in a goroutine returned.
type result[T any] struct {
	value T
	err   error
}

// async runs f in a goroutine; receive its result from the channel.
func async[T any](f func() (T, error)) <-chan result[T] {
	ch := make(chan result[T], 1)
	go func() {
		v, err := f()
		ch <- result[T]{v, err}
	}()
	return ch
}
