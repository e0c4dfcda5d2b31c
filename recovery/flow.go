package recovery

import (
	"context"
	"errors"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/luciago/mongoauth/auth"
)

// Purpose names what a token is for; it is the provider id of the
// single-use key that stores the token's digest.
type Purpose string

// The purposes of this package's tokens.
const (
	PurposeReset  Purpose = "password-reset"
	PurposeVerify Purpose = "email-verification"
)

// Defaults of Config's fields.
const (
	DefaultEmailProvider     = "email"
	DefaultVerifiedAttribute = "email_verified"
	DefaultResetExpiry       = time.Hour
	DefaultVerifyExpiry      = 24 * time.Hour
	DefaultMinResponseTime   = 250 * time.Millisecond
	DefaultSendTimeout       = 30 * time.Second
)

// Default throttles of ForgotPassword and SendVerification. Every request
// counts, whether or not the address belongs to anyone.
var (
	// DefaultAddressThrottle: 3 requests per address, then one per 10
	// minutes: at most 9 messages to one address in any hour, so that
	// the flow cannot be used to flood someone's mailbox.
	DefaultAddressThrottle = auth.ThrottlePolicy{FreeFailures: 3, MaxDelay: 10 * time.Minute}
	// DefaultClientThrottle: 20 requests per client, then one per 3
	// minutes: at most 40 addresses asked about from one client in any
	// hour.
	DefaultClientThrottle = auth.ThrottlePolicy{FreeFailures: 20, MaxDelay: 3 * time.Minute}
)

// Config configures a Flow. Sender and Link are required; every other
// field documents its default.
type Config struct {
	// Sender delivers the messages (required): recovery/smtp's Sender in
	// production, a *DevSender in development.
	Sender Sender
	// Link returns the absolute URL a message links to for a token
	// (required): the page of the application that takes the token from
	// its query and shows the reset form or the "confirm address" button,
	// for example "https://example.com/reset?token="+token. The page
	// should answer GET by asking for a POST (CheckResetToken shows whether
	// the token is good), so that a mail scanner that follows links does
	// not use the token up. It is called with url-safe tokens.
	Link func(purpose Purpose, token string) string
	// Compose writes the message for purpose to address, linking to link,
	// valid for expires; default: a short English text.
	Compose func(purpose Purpose, address, link string, expires time.Duration) Message

	// EmailProvider is the provider id of the keys that hold users'
	// e-mail addresses: the key EmailProvider + ":" + address (as
	// NormalizeAddress writes it) says whose address it is, so addresses
	// are unique, as Lucia's e-mail keys are. Default "email".
	EmailProvider string
	// PasswordProvider is the provider id of the key whose password a
	// reset sets: the user's persistent key of this provider (the one
	// with a password, if several). Default EmailProvider (Lucia's usual
	// e-mail-and-password key); an application that logs in by username
	// names its username provider.
	PasswordProvider string
	// VerifiedAttribute is the user attribute VerifyEmail sets: to the
	// address it verified, a string. The user's address is verified when
	// the attribute equals it, so that changing the address unverifies it
	// without another write. Default "email_verified".
	VerifiedAttribute string

	// ResetExpiry and VerifyExpiry are how long reset and verification
	// tokens are valid; defaults 1 hour and 24 hours.
	ResetExpiry, VerifyExpiry time.Duration

	// AddressThrottle and ClientThrottle limit ForgotPassword per address
	// and per client (auth.Config.ClientKey), and SendVerification per
	// address; zero fields take DefaultAddressThrottle and
	// DefaultClientThrottle. The records are in the auth core's
	// ThrottleStore, shared by the instances of an application when it
	// is a database's.
	AddressThrottle, ClientThrottle auth.ThrottlePolicy

	// MinResponseTime is the least time ForgotPassword takes; default
	// 250 ms. It also takes at least the core's failed-login time
	// (auth.Auth.FailedLoginFloor). It must exceed the time of issuing a
	// token (a few database round trips), since every answer, known
	// address or not, is held to it.
	MinResponseTime time.Duration
	// SendTimeout bounds each ForgotPassword message's delivery, which
	// runs after the request has been answered; default 30 s.
	SendTimeout time.Duration
	// Logger receives the failures of deliveries that run after the
	// request was answered; default slog.Default().
	Logger *slog.Logger
}

// Flow is account recovery over an auth.Auth: password reset and e-mail
// verification by single-use tokens. It is safe for concurrent use.
type Flow[A any] struct {
	auth   *auth.Auth[A]
	config Config

	// now and sleep hold ForgotPassword to its time; tests replace them
	// (export_test.go).
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration)

	// pending counts the deliveries running in the background; idle is
	// signalled when it falls to zero.
	mu      sync.Mutex
	pending int
	idle    *sync.Cond
}

// New returns the flows over a, configured by config.
func New[A any](a *auth.Auth[A], config Config) (*Flow[A], error) {
	switch {
	case a == nil:
		return nil, errors.New("recovery: nil auth")
	case config.Sender == nil:
		return nil, errors.New("recovery: no Sender")
	case config.Link == nil:
		return nil, errors.New("recovery: no Link")
	case config.ResetExpiry < 0 || config.VerifyExpiry < 0:
		return nil, errors.New("recovery: negative token expiry")
	}
	c := &config
	setDefault(&c.EmailProvider, DefaultEmailProvider)
	setDefault(&c.PasswordProvider, c.EmailProvider)
	setDefault(&c.VerifiedAttribute, DefaultVerifiedAttribute)
	setDefault(&c.ResetExpiry, DefaultResetExpiry)
	setDefault(&c.VerifyExpiry, DefaultVerifyExpiry)
	setDefault(&c.MinResponseTime, DefaultMinResponseTime)
	setDefault(&c.SendTimeout, DefaultSendTimeout)
	if c.Compose == nil {
		c.Compose = compose
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	for _, p := range []string{c.EmailProvider, c.PasswordProvider} {
		if strings.IndexByte(p, ':') >= 0 {
			return nil, errors.New("recovery: provider id contains ':'")
		}
	}
	c.AddressThrottle = c.AddressThrottle.WithDefaults(DefaultAddressThrottle)
	c.ClientThrottle = c.ClientThrottle.WithDefaults(DefaultClientThrottle)
	f := &Flow[A]{auth: a, config: config, now: time.Now, sleep: sleepContext}
	f.idle = sync.NewCond(&f.mu)
	return f, nil
}

func setDefault[T comparable](field *T, value T) {
	var zero T
	if *field == zero {
		*field = value
	}
}

func sleepContext(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// Wait waits until no message of ForgotPassword is being delivered in the
// background any more (each one delivered or failed): call it before the
// process exits, after the HTTP server's Shutdown. It may be called at any
// time; deliveries that start while it waits are waited for too.
func (f *Flow[A]) Wait() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.pending > 0 {
		f.idle.Wait()
	}
}

// NormalizeAddress returns the form of an e-mail address that the e-mail
// keys hold: a bare address (no display name), trimmed, in lower case,
// or an *auth.InputError. Lower-casing the local part is not what RFC 5321
// allows, but it is what people expect: "Ann@Example.com" and
// "ann@example.com" are one account. Store addresses through it.
func NormalizeAddress(address string) (string, error) {
	address = strings.TrimSpace(address)
	parsed, err := mail.ParseAddress(address)
	if err != nil || parsed.Name != "" || parsed.Address != address || len(address) > 254 {
		return "", &auth.InputError{Field: "e-mail address", Reason: "not a bare address of at most 254 bytes"}
	}
	return strings.ToLower(address), nil
}

// compose is Config.Compose's default.
func compose(purpose Purpose, address, link string, expires time.Duration) Message {
	m := Message{To: address}
	switch purpose {
	case PurposeReset:
		m.Subject = "Reset your password"
		m.Text = "Someone, probably you, asked to reset the password of the account with this address.\n\n" +
			"To choose a new password, open this link within " + expires.String() + ":\n\n" + link + "\n\n" +
			"If you did not ask for it, ignore this message: your password stays as it is.\n"
	default:
		m.Subject = "Confirm your e-mail address"
		m.Text = "To confirm that this address is yours, open this link within " + expires.String() + ":\n\n" + link + "\n\n" +
			"If you did not give this address to us, ignore this message.\n"
	}
	return m
}
