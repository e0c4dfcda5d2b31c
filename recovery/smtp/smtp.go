// Package smtp delivers package recovery's messages over SMTP, on
// github.com/wneessen/go-mail. It is a package of its own so that only
// applications that send mail this way import the mail library.
//
// Connections are encrypted by default: STARTTLS on port 587, which must
// succeed (a server that does not offer it, or whose certificate does not
// verify for Host, gets no message and no password), or TLS from the
// first byte with ImplicitTLS (port 465). Credentials, when given, go out
// only over TLS, by the strongest mechanism the server offers. Each
// message uses a connection of its own, bounded by the context's deadline
// and by Config.Timeout.
package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/luciago/mongoauth/recovery"
)

// DefaultTimeout is Config.Timeout when left zero.
const DefaultTimeout = 30 * time.Second

// Config says where and how to send.
type Config struct {
	// Host is the SMTP server's name (required); its certificate must be
	// valid for it.
	Host string
	// Port defaults to 587 (submission with STARTTLS), or 465 with
	// ImplicitTLS.
	Port int
	// From is the sender: "accounts@example.com" or
	// "Example <accounts@example.com>" (required).
	From string
	// Username and Password authenticate to the server (SMTP AUTH), only
	// over TLS; empty Username: no authentication.
	Username, Password string
	// ImplicitTLS speaks TLS from the first byte (SMTPS), instead of
	// upgrading with STARTTLS.
	ImplicitTLS bool
	// TLSConfig is used for TLS; nil: the system's roots, ServerName Host.
	TLSConfig *tls.Config
	// InsecurePlaintext sends without TLS: only for a relay on this
	// machine. Credentials are then refused by New.
	InsecurePlaintext bool
	// Timeout bounds each step of a delivery (connecting, each command);
	// default DefaultTimeout. The context's deadline bounds the whole.
	Timeout time.Duration
}

// Sender is a recovery.Sender over SMTP. It is safe for concurrent use.
type Sender struct {
	config Config
}

var _ recovery.Sender = (*Sender)(nil)

// New checks config and returns its Sender. It does not connect.
func New(config Config) (*Sender, error) {
	switch {
	case config.Host == "":
		return nil, errors.New("smtp: no Host")
	case config.Port < 0 || config.Port > 65535:
		return nil, errors.New("smtp: Port out of range")
	case config.InsecurePlaintext && config.ImplicitTLS:
		return nil, errors.New("smtp: InsecurePlaintext with ImplicitTLS")
	case config.InsecurePlaintext && config.Username != "":
		return nil, errors.New("smtp: credentials without TLS")
	}
	if _, err := mail.ParseAddress(config.From); err != nil {
		return nil, fmt.Errorf("smtp: From: %w", err)
	}
	if config.Port == 0 {
		config.Port = 587
		if config.ImplicitTLS {
			config.Port = 465
		}
	}
	if config.Timeout <= 0 {
		config.Timeout = DefaultTimeout
	}
	return &Sender{config: config}, nil
}

// Send delivers m as a plain-text message from Config.From, within ctx's
// deadline. A recipient or subject that could smuggle headers or commands
// (line breaks) is refused before connecting.
func (s *Sender) Send(ctx context.Context, m recovery.Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.config.From); err != nil {
		return fmt.Errorf("smtp: From: %w", err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Address != m.To {
		return fmt.Errorf("smtp: To %q is not a bare address", m.To)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("smtp: To: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)

	var conns connections
	// go-mail v0.8.1 bounds only the dial by ctx, and leaves the
	// connection open when the greeting, STARTTLS or AUTH fails: the
	// connections are closed here when ctx ends and when Send returns.
	stop := context.AfterFunc(ctx, conns.close)
	defer stop()
	defer conns.close()
	client, err := gomail.NewClient(s.config.Host, s.options(ctx, &conns)...)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if cause := ctxEnded(ctx); cause != nil {
			err = fmt.Errorf("%w (%w)", cause, err)
		}
		return fmt.Errorf("smtp: sending to %s:%d: %w", s.config.Host, s.config.Port, err)
	}
	return nil
}

// ctxEnded returns ctx's error once it has ended, or when its deadline
// has passed (the connection's deadline, which Send sets to it, may fire
// first).
func ctxEnded(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// connections are the connections one Send opened.
type connections struct {
	mu    sync.Mutex
	conns []net.Conn
	done  bool
}

func (c *connections) add(conn net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return false
	}
	c.conns = append(c.conns, conn)
	return true
}

func (c *connections) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
}

func (s *Sender) options(ctx context.Context, conns *connections) []gomail.Option {
	c := s.config
	timeout := c.Timeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = max(min(timeout, time.Until(deadline)), time.Millisecond)
	}
	tlsConfig := c.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tlsConfig.ServerName == "" {
		tlsConfig = tlsConfig.Clone()
		tlsConfig.ServerName = c.Host
	}
	dialer := &net.Dialer{}
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		var conn net.Conn
		var err error
		if c.ImplicitTLS {
			conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, network, address)
		} else {
			conn, err = dialer.DialContext(ctx, network, address)
		}
		if err != nil {
			return nil, err
		}
		if !conns.add(conn) {
			_ = conn.Close()
			return nil, context.Cause(ctx)
		}
		return conn, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(c.Port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(tlsConfig),
		gomail.WithDialContextFunc(dial),
	}
	switch {
	case c.InsecurePlaintext:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case c.ImplicitTLS:
		// dial speaks TLS already; go-mail sees the TLS state of the
		// connection (and so sends credentials) only when it does not
		// dial TLS itself, with a policy that lets it find no STARTTLS.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	return opts
}
