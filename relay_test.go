package mongoauth_test

import (
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// relay accepts TCP connections on a free local port and hands each one,
// with a new connection to upstream, to handle. close stops accepting,
// closes every connection and waits for the handlers. The test proxies
// (chaosProxy, wireProxy) are relays with a handler of their own.
type relay struct {
	ln       net.Listener
	upstream string
	handle   func(client, server net.Conn)

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startRelay(t testing.TB, upstream string, handle func(client, server net.Conn)) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &relay{ln: ln, upstream: upstream, handle: handle, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.serve()
	t.Cleanup(r.close)
	return r
}

func (r *relay) addr() string { return r.ln.Addr().String() }

func (r *relay) serve() {
	defer r.wg.Done()
	for {
		conn, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.wg.Add(1)
		go r.connect(conn)
	}
}

func (r *relay) connect(client net.Conn) {
	defer r.wg.Done()
	if !r.track(client) {
		return
	}
	server, err := net.Dial("tcp", r.upstream)
	if err != nil || !r.track(server) {
		client.Close()
		return
	}
	r.handle(client, server)
}

func (r *relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns == nil { // closed
		c.Close()
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *relay) close() {
	r.mu.Lock()
	conns := r.conns
	r.conns = nil
	r.mu.Unlock()
	_ = r.ln.Close()
	for c := range conns {
		c.Close()
	}
	r.wg.Wait()
}
