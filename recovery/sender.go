package recovery

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Message is one e-mail a flow sends: plain text, to one address.
type Message struct {
	To      string
	Subject string
	Text    string
}

// Sender delivers messages. Send must honour ctx's deadline and be safe
// for concurrent use. Package recovery/smtp has an SMTP sender;
// DevSender keeps messages in memory for development and tests.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// DevSender is the development Sender: it keeps the last messages in
// memory (Messages) and logs each one, link included, with Logger (default
// slog.Default()), so that a developer can follow the links without a
// mail server. It delivers nothing. Never use it in production: whoever
// reads the log or the page that shows Messages can reset anyone's
// password.
type DevSender struct {
	// Logger receives each message; nil: slog.Default().
	Logger *slog.Logger
	// Keep is how many messages Messages returns at most; default 50.
	Keep int

	mu       sync.Mutex
	messages []SentMessage
}

// SentMessage is a message a DevSender received, and when.
type SentMessage struct {
	Message
	Sent time.Time
}

// Send keeps and logs m. It fails only if ctx has ended.
func (d *DevSender) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	logger := d.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.InfoContext(ctx, "recovery: development mail (not delivered)", "to", m.To, "subject", m.Subject, "text", m.Text)
	keep := d.Keep
	if keep <= 0 {
		keep = 50
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.messages = append(d.messages, SentMessage{Message: m, Sent: time.Now()})
	if len(d.messages) > keep {
		d.messages = slices.Delete(d.messages, 0, len(d.messages)-keep)
	}
	return nil
}

// Messages returns the kept messages, newest first.
func (d *DevSender) Messages() []SentMessage {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := slices.Clone(d.messages)
	slices.Reverse(out)
	return out
}
