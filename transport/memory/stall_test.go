package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

func TestStallResume(t *testing.T) {
	c, sc := newPipe(t, memory.WithQueueLimit(3))
	ctx := testCtx(t)
	sc.Stall()
	sc.Stall()

	// Writes fill the queue, then block; the server reads nothing.
	require.NoError(t, c.Write(ctx, transport.Text, []byte("1")))
	require.NoError(t, c.Ping(ctx, []byte("p")))
	require.NoError(t, c.Write(ctx, transport.Text, []byte("2")))
	require.ErrorIs(t, c.Write(shortCtx(t), transport.Text, []byte("x")), context.DeadlineExceeded)
	_, err := sc.Recv(shortCtx(t))
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// The script can still send, and the ping got no pong before it.
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("from server")))
	m, err := c.Read()
	require.NoError(t, err)
	require.Equal(t, transport.Message{Type: transport.Text, Payload: []byte("from server")}, m)

	blocked := make(chan error, 1)
	go func() { blocked <- c.Write(ctx, transport.Text, []byte("3")) }()
	sc.Resume()
	sc.Resume()

	m, err = c.Read()
	require.NoError(t, err)
	require.Equal(t, transport.Message{Type: transport.Pong, Payload: []byte("p")}, m, "the pong comes on Resume")
	want := []transport.Message{
		{Type: transport.Text, Payload: []byte("1")},
		{Type: transport.Ping, Payload: []byte("p")},
		{Type: transport.Text, Payload: []byte("2")},
		{Type: transport.Text, Payload: []byte("3")},
	}
	for i, w := range want {
		got, err := sc.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, w, got)
		if i == 0 {
			require.NoError(t, recv(t, blocked))
		}
	}
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestResumeAcknowledgesPendingClose(t *testing.T) {
	fc := tethertest.NewFakeClock(time.Time{})
	c, sc := newPipe(t, memory.WithClock(fc))
	ctx := testCtx(t)
	sc.Stall()
	done := make(chan error, 1)
	go func() { done <- c.Close(transport.StatusGoingAway, "") }()
	require.NoError(t, fc.BlockUntil(ctx, 1), "a stalled server does not acknowledge")
	_, err := sc.Recv(shortCtx(t))
	require.ErrorIs(t, err, context.DeadlineExceeded, "nor does it read")

	sc.Resume()
	require.NoError(t, recv(t, done))
	_, err = sc.Recv(ctx)
	requireClose(t, err, transport.StatusGoingAway, "", true)
	requireClose(t, sc.Err(), transport.StatusGoingAway, "", true)
	require.Zero(t, fc.Waiters(), "Close stopped its timer")
}
