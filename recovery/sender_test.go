package recovery_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"testing"

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
