package tether_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
)

// TestSendTrackedSaysWhichConnectionTookTheMessage: SendTracked's onWrite
// gets the epoch of the connection a message was written to: at once
// while open, at the flush for a message that waited in the buffer, and
// never for a message that was not written (still queued at the close).
func TestSendTrackedSaysWhichConnectionTookTheMessage(t *testing.T) {
	e := newEnv(t)
	c := client[string](e, tether.WithAutoConnect(false))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	took := make(chan uint64, 4)
	track := func(epoch uint64) { took <- epoch }

	_, err := c.SendTracked(ctx, "queued", track)
	require.NoError(t, err)
	assert.Empty(t, took, "not written while disconnected")
	go func() { _ = c.Connect(ctx) }()
	sc := e.accept()
	waitState(t, c, fsm.Open)
	open := c.Trace()[len(c.Trace())-1]
	require.Equal(t, fsm.Open, open.To)
	assert.Equal(t, open.Epoch, recv(t, took), "the flush wrote it to the open connection")

	_, err = c.SendTracked(ctx, "direct", track)
	require.NoError(t, err)
	assert.Equal(t, open.Epoch, recv(t, took), "written at once, inside SendTracked")
	for _, want := range []string{"queued", "direct"} {
		m, err := sc.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, want, string(m.Payload))
	}

	require.NoError(t, c.Disconnect(ctx))
	_, err = c.SendTracked(ctx, "never", track)
	require.NoError(t, err)
	require.NoError(t, c.Close(ctx))
	waitDone(t, c)
	assert.Empty(t, took, "a message dropped at the close was never written")
}
