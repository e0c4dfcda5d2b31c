package recovery_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/recovery"
)

func TestDevSenderKeepsAndLogs(t *testing.T) {
	var log bytes.Buffer
	d := &recovery.DevSender{Keep: 2, Logger: slog.New(slog.NewTextHandler(&log, nil))}
	for i := range 3 {
		require.NoError(t, d.Send(context.Background(), recovery.Message{To: "a@example.com", Subject: "s" + strconv.Itoa(i), Text: "link " + strconv.Itoa(i)}))
	}
	got := d.Messages()
	require.Len(t, got, 2, "Keep bounds what is kept")
	assert.Equal(t, "s2", got[0].Subject, "newest first")
	assert.Equal(t, "s1", got[1].Subject)
	assert.Contains(t, log.String(), "link 0", "every message is logged, link included")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, d.Send(ctx, recovery.Message{}), context.Canceled)
}

// gatedSender holds each Send until released, then fails it.
type gatedSender struct {
	started chan struct{}
	release chan struct{}
}

func (g *gatedSender) Send(ctx context.Context, m recovery.Message) error {
	g.started <- struct{}{}
	<-g.release
	return errors.New("mail server down")
}

// TestDeliveryInBackground: ForgotPassword answers before the message is
// delivered; Wait waits for the delivery, whose failure is logged.
func TestDeliveryInBackground(t *testing.T) {
	gate := &gatedSender{started: make(chan struct{}, 1), release: make(chan struct{})}
	var log bytes.Buffer
	f := newFixture(t, openSQLite(t), func(c *recovery.Config) {
		c.Sender = gate
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	f.user("sam", "sam@example.com")
	require.NoError(t, f.forgot("sam@example.com", "192.0.2.1"), "answered while the delivery is held")
	<-gate.started
	waited := make(chan struct{})
	go func() { f.flow.Wait(); close(waited) }()
	select {
	case <-waited:
		t.Fatal("Wait returned before the delivery ended")
	case <-time.After(50 * time.Millisecond):
	}
	close(gate.release)
	<-waited
	assert.Contains(t, log.String(), "mail server down")
}
