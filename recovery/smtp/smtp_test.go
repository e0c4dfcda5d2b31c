package smtp_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime/quotedprintable"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/recovery"
	"github.com/luciago/mongoauth/recovery/smtp"
)

// server is an SMTP server in the test process that speaks the protocol
// (RFC 5321, STARTTLS, AUTH PLAIN) over TCP, enough for a client to
// deliver to it, and records what it received.
type server struct {
	t        *testing.T
	ln       net.Listener
	cert     tls.Certificate
	roots    *x509.CertPool
	starttls bool // offer STARTTLS
	implicit bool // TLS from the first byte
	silent   bool // accept connections and say nothing

	open atomic.Int32 // connections being served

	mu   sync.Mutex
	mail []delivery
	auth []string // "user\x00password" of AUTH PLAIN
}

type delivery struct {
	from, to, data string
	tls            bool
}

func startServer(t *testing.T, configure func(*server)) *server {
	t.Helper()
	s := &server{t: t, starttls: true}
	s.cert, s.roots = selfSigned(t)
	if configure != nil {
		configure(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	if s.implicit {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{s.cert}})
	}
	s.ln = ln
	var conns sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); conns.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.open.Add(1)
			conns.Go(func() { defer s.open.Add(-1); s.serve(c) })
		}
	}()
	return s
}

// requireClosed checks that the client has closed every connection: the
// server's reads end then, well before their 30-second deadline.
func (s *server) requireClosed() {
	s.t.Helper()
	require.Eventually(s.t, func() bool { return s.open.Load() == 0 }, 5*time.Second, 10*time.Millisecond, "a connection was left open")
}

func (s *server) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *server) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivery(nil), s.mail...)
}

func (s *server) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if s.silent {
		buf := make([]byte, 1)
		_, _ = c.Read(buf) // until the client gives up
		return
	}
	_, inTLS := c.(*tls.Conn)
	r := bufio.NewReader(c)
	reply := func(lines ...string) {
		for _, l := range lines {
			_, _ = c.Write([]byte(l + "\r\n"))
		}
	}
	reply("220 test.local ESMTP")
	var d delivery
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ext := []string{"250-test.local"}
			if s.starttls && !inTLS {
				ext = append(ext, "250-STARTTLS")
			}
			if inTLS {
				ext = append(ext, "250-AUTH PLAIN")
			}
			reply(append(ext, "250 8BITMIME")...)
		case "STARTTLS":
			reply("220 go ahead")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{s.cert}})
			if tc.Handshake() != nil {
				return
			}
			c, r, inTLS = tc, bufio.NewReader(tc), true // reply writes to c
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(initial)
			if mech != "PLAIN" || err != nil {
				reply("504 unsupported")
				continue
			}
			s.mu.Lock()
			s.auth = append(s.auth, strings.TrimPrefix(string(raw), "\x00"))
			s.mu.Unlock()
			reply("235 authenticated")
		case "MAIL":
			d = delivery{from: arg, tls: inTLS}
			reply("250 ok")
		case "RCPT":
			d.to = arg
			reply("250 ok")
		case "DATA":
			reply("354 end with .")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			d.data = data.String()
			s.mu.Lock()
			s.mail = append(s.mail, d)
			s.mu.Unlock()
			reply("250 queued")
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

var message = recovery.Message{To: "ann@example.com", Subject: "Reset your password", Text: "Open https://app.test/password-reset?token=abc\n"}

func newSender(t *testing.T, s *server, configure func(*smtp.Config)) *smtp.Sender {
	t.Helper()
	c := smtp.Config{
		Host: "127.0.0.1", Port: s.port(), From: "Accounts <accounts@example.com>",
		TLSConfig: &tls.Config{RootCAs: s.roots, MinVersion: tls.VersionTLS12},
		Timeout:   10 * time.Second,
	}
	if configure != nil {
		configure(&c)
	}
	sender, err := smtp.New(c)
	require.NoError(t, err)
	return sender
}

func TestSendOverSTARTTLSWithAuth(t *testing.T) {
	s := startServer(t, nil)
	sender := newSender(t, s, func(c *smtp.Config) { c.Username, c.Password = "app", "secret" })
	require.NoError(t, sender.Send(ctx(t), message))

	got := s.deliveries()
	require.Len(t, got, 1)
	d := got[0]
	assert.True(t, d.tls, "the message went over TLS")
	assert.Contains(t, d.from, "<accounts@example.com>")
	assert.Contains(t, d.to, "<ann@example.com>")
	assert.Contains(t, d.data, "Subject: Reset your password\r\n")
	assert.Contains(t, d.data, "To: <ann@example.com>\r\n")
	_, body, _ := strings.Cut(d.data, "\r\n\r\n")
	decoded, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	require.NoError(t, err)
	assert.Equal(t, "Open https://app.test/password-reset?token=abc\r\n", string(decoded))
	assert.Contains(t, d.data, "text/plain")
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Equal(t, []string{"app\x00secret"}, s.auth)
}

func TestSendOverImplicitTLS(t *testing.T) {
	s := startServer(t, func(s *server) { s.implicit = true })
	sender := newSender(t, s, func(c *smtp.Config) { c.ImplicitTLS, c.Username, c.Password = true, "app", "secret" })
	require.NoError(t, sender.Send(ctx(t), message))
	require.Len(t, s.deliveries(), 1)
	assert.True(t, s.deliveries()[0].tls)
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Equal(t, []string{"app\x00secret"}, s.auth)
}

// TestNoTLSNoMessage: a server (or a network attacker stripping STARTTLS
// from its greeting) that does not offer TLS gets neither the message
// nor the password.
func TestNoTLSNoMessage(t *testing.T) {
	s := startServer(t, func(s *server) { s.starttls = false })
	err := newSender(t, s, func(c *smtp.Config) { c.Username, c.Password = "app", "secret" }).Send(ctx(t), message)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "smtp: "), err.Error())
	assert.Empty(t, s.deliveries())
	assert.Empty(t, s.auth)
	s.requireClosed()
}

func TestUntrustedCertificateNoMessage(t *testing.T) {
	s := startServer(t, nil)
	err := newSender(t, s, func(c *smtp.Config) { c.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12} }).Send(ctx(t), message)
	require.Error(t, err)
	assert.Empty(t, s.deliveries())
	s.requireClosed()
}

func TestInsecurePlaintextForLocalRelay(t *testing.T) {
	s := startServer(t, func(s *server) { s.starttls = false })
	require.NoError(t, newSender(t, s, func(c *smtp.Config) { c.InsecurePlaintext = true }).Send(ctx(t), message))
	require.Len(t, s.deliveries(), 1)
	assert.False(t, s.deliveries()[0].tls)
}

// TestSendHonoursContext: a server that never answers holds Send only
// until the context's deadline, not for the (long) Timeout.
func TestSendHonoursContext(t *testing.T) {
	s := startServer(t, func(s *server) { s.silent = true })
	sender := newSender(t, s, func(c *smtp.Config) { c.Timeout = 10 * time.Minute })
	c, cancel := context.WithTimeout(ctx(t), 200*time.Millisecond)
	defer cancel()
	err := sender.Send(c, message)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	s.requireClosed()
}

// TestHeaderInjectionRefused: a recipient with a line break, which could
// add recipients or commands, is refused before connecting; a subject's
// line breaks do not become headers.
func TestHeaderInjectionRefused(t *testing.T) {
	s := startServer(t, nil)
	sender := newSender(t, s, nil)
	for _, to := range []string{"ann@example.com\r\nRCPT TO:<eve@example.com>", "Ann <ann@example.com>", "ann@example.com, eve@example.com"} {
		m := message
		m.To = to
		require.Error(t, sender.Send(ctx(t), m), "%q", to)
	}
	assert.Empty(t, s.deliveries())

	m := message
	m.Subject = "Hello\r\nBcc: eve@example.com"
	require.NoError(t, sender.Send(ctx(t), m))
	require.Len(t, s.deliveries(), 1)
	assert.NotContains(t, s.deliveries()[0].data, "\r\nBcc:")
}

func TestNewChecksConfig(t *testing.T) {
	for name, c := range map[string]smtp.Config{
		"no host":                 {From: "a@example.com"},
		"no from":                 {Host: "mail.example.com"},
		"bad from":                {Host: "mail.example.com", From: "not an address"},
		"bad port":                {Host: "mail.example.com", From: "a@example.com", Port: 70000},
		"credentials in the open": {Host: "mail.example.com", From: "a@example.com", InsecurePlaintext: true, Username: "u"},
		"plaintext and implicit":  {Host: "mail.example.com", From: "a@example.com", InsecurePlaintext: true, ImplicitTLS: true},
	} {
		_, err := smtp.New(c)
		require.Error(t, err, name)
		assert.True(t, strings.HasPrefix(err.Error(), "smtp: "), name)
	}
	_, err := smtp.New(smtp.Config{Host: "mail.example.com", From: "a@example.com"})
	require.NoError(t, err)
}
