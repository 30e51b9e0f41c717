package memory_test

import (
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

func TestServerCloseAfterData(t *testing.T) {
	c, sc := newPipe(t)
	ctx := testCtx(t)
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("last words")))
	sc.Close(4000, "bye")
	sc.Close(4001, "ignored")
	require.ErrorIs(t, sc.Send(ctx, transport.Text, nil), transport.ErrClosed)
	require.False(t, closed(c.Done()), "the client has not read the close frame yet")

	m, err := c.Read()
	require.NoError(t, err)
	require.Equal(t, "last words", string(m.Payload))
	_, err = c.Read()
	ce := requireClose(t, err, 4000, "bye", true)
	require.True(t, closed(c.Done()))
	require.Same(t, ce, c.Err())
	_, err = c.Read()
	require.Same(t, ce, err, "after the end Read returns Err")
	require.Same(t, ce, c.Write(ctx, transport.Text, nil))

	// The client echoed the code; the server's view is its own close.
	code, reason, ok := sc.CloseReceived()
	require.True(t, ok)
	assert.Equal(t, transport.StatusCode(4000), code)
	assert.Empty(t, reason)
	_, err = sc.Recv(ctx)
	requireClose(t, err, 4000, "", true)
	recv(t, sc.Done())
	requireClose(t, sc.Err(), 4000, "bye", false)
	_, err = sc.Recv(ctx)
	require.Same(t, sc.Err(), err)
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
}

func TestServerCloseWithoutStatus(t *testing.T) {
	c, sc := newPipe(t)
	sc.Close(transport.StatusNoStatusReceived, "")
	_, err := c.Read()
	requireClose(t, err, transport.StatusNoStatusReceived, "", true)
}

func TestInvalidServerCloseFrames(t *testing.T) {
	cases := []struct {
		name   string
		code   transport.StatusCode
		reason string
		want   transport.StatusCode
		cause  error
	}{
		{"reserved code", transport.StatusAbnormalClosure, "", transport.StatusProtocolError, transport.ErrProtocol},
		{"out of range", 999, "", transport.StatusProtocolError, transport.ErrProtocol},
		{"1005 with reason", transport.StatusNoStatusReceived, "x", transport.StatusProtocolError, transport.ErrProtocol},
		{"long reason", transport.StatusNormalClosure, strings.Repeat("r", 124), transport.StatusProtocolError, transport.ErrProtocol},
		{"invalid UTF-8 reason", transport.StatusNormalClosure, "\xff", transport.StatusInvalidPayloadData, transport.ErrInvalidUTF8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, sc := newPipe(t)
			sc.Close(tc.code, tc.reason)
			_, err := c.Read()
			requireClose(t, err, tc.want, "", false)
			require.ErrorIs(t, err, tc.cause)
			_, err = sc.Recv(testCtx(t))
			requireClose(t, err, tc.want, "", true)
		})
	}
	t.Run("longest reason is fine", func(t *testing.T) {
		c, sc := newPipe(t)
		long := strings.Repeat("r", 123)
		sc.Close(transport.StatusGoingAway, long)
		_, err := c.Read()
		requireClose(t, err, transport.StatusGoingAway, long, true)
	})
}

func TestClientCloseAutoAck(t *testing.T) {
	fc := tethertest.NewFakeClock(time.Time{})
	c, sc := newPipe(t, memory.WithClock(fc))
	ctx := testCtx(t)
	require.NoError(t, c.Write(ctx, transport.Text, []byte("x")))
	_, _, received := sc.CloseReceived()
	require.False(t, received)
	require.NoError(t, c.Close(4100, "done"))
	require.Zero(t, fc.Waiters(), "an acknowledged close arms no timer")

	ce := requireClose(t, c.Err(), 4100, "done", false)
	require.True(t, closed(c.Done()))
	_, err := c.Read()
	require.Same(t, ce, err)
	require.ErrorIs(t, c.Write(ctx, transport.Text, nil), transport.ErrClosed)
	require.ErrorIs(t, c.Ping(ctx, nil), transport.ErrClosed)
	require.NoError(t, c.Close(transport.StatusNormalClosure, "again"))
	require.Same(t, ce, c.Err())

	m, err := sc.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "x", string(m.Payload))
	_, err = sc.Recv(ctx)
	requireClose(t, err, 4100, "done", true)
	code, reason, ok := sc.CloseReceived()
	require.True(t, ok)
	assert.Equal(t, transport.StatusCode(4100), code)
	assert.Equal(t, "done", reason)
	require.True(t, closed(sc.Done()))
	requireClose(t, sc.Err(), 4100, "done", true)
}

func TestCloseUnblocksRead(t *testing.T) {
	c, _ := newPipe(t)
	res := readAsync(c)
	require.NoError(t, c.Close(transport.StatusGoingAway, "bye"))
	r := recv(t, res)
	requireClose(t, r.err, transport.StatusGoingAway, "bye", false)
}

func TestCloseUnblocksWrite(t *testing.T) {
	c, _ := newPipe(t, memory.WithQueueLimit(1))
	require.NoError(t, c.Write(testCtx(t), transport.Text, nil))
	done := make(chan error, 1)
	go func() { done <- c.Write(testCtx(t), transport.Text, nil) }()
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))
	require.ErrorIs(t, recv(t, done), transport.ErrClosed)
}

func TestConcurrentClose(t *testing.T) {
	c, sc := newPipe(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { assert.NoError(t, c.Close(transport.StatusNormalClosure, "")) })
	}
	wg.Wait()
	require.True(t, closed(c.Done()))
	require.True(t, closed(sc.Done()))
}

func TestClientCloseManualAck(t *testing.T) {
	fc := tethertest.NewFakeClock(time.Time{})
	c, sc := newPipe(t, memory.WithManualCloseAck(), memory.WithClock(fc))
	ctx := testCtx(t)
	done := make(chan error, 1)
	go func() { done <- c.Close(transport.StatusNormalClosure, "client") }()

	_, err := sc.Recv(ctx)
	requireClose(t, err, transport.StatusNormalClosure, "client", true)
	require.NoError(t, fc.BlockUntil(ctx, 1), "Close waits under its timeout")
	require.False(t, closed(c.Done()))
	require.NoError(t, c.Err(), "no error while the handshake is under way")
	// What the server sends before its answer reaches Read.
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("between")))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, "between", string(m.Payload))
	res := readAsync(c)

	sc.Close(transport.StatusNormalClosure, "server")
	requireClose(t, recv(t, res).err, transport.StatusNormalClosure, "client", false)
	require.NoError(t, recv(t, done))
	requireClose(t, c.Err(), transport.StatusNormalClosure, "client", false)
	recv(t, sc.Done())
	requireClose(t, sc.Err(), transport.StatusNormalClosure, "client", true)
}

func TestCloseAnsweredByEarlierServerClose(t *testing.T) {
	c, sc := newPipe(t, memory.WithManualCloseAck())
	sc.Close(4200, "server first")
	require.NoError(t, c.Close(4300, "client"), "the server's close frame is the answer")
	requireClose(t, c.Err(), 4300, "client", false)
	requireClose(t, sc.Err(), 4200, "server first", false)
}

func TestCloseTimeout(t *testing.T) {
	for _, name := range []string{"stalled", "manual ack"} {
		t.Run(name, func(t *testing.T) {
			fc := tethertest.NewFakeClock(time.Time{})
			opts := []memory.Option{memory.WithClock(fc), memory.WithCloseTimeout(3 * time.Second)}
			if name == "manual ack" {
				opts = append(opts, memory.WithManualCloseAck())
			}
			c, sc := newPipe(t, opts...)
			if name == "stalled" {
				sc.Stall()
			}
			done := make(chan error, 1)
			go func() { done <- c.Close(transport.StatusNormalClosure, "bye") }()

			ctx := testCtx(t)
			require.NoError(t, fc.BlockUntil(ctx, 1))
			require.Equal(t, []time.Duration{3 * time.Second}, fc.Pending())
			fc.Step(3*time.Second - time.Nanosecond)
			require.False(t, closed(c.Done()))
			fc.Step(time.Nanosecond)

			err := recv(t, done)
			te, ok := errors.AsType[*transport.TimeoutError](err)
			require.True(t, ok, "got %v", err)
			assert.Equal(t, "close", te.Phase)
			assert.Equal(t, 3*time.Second, te.After)
			require.ErrorIs(t, err, transport.ErrTimeout)
			require.True(t, closed(c.Done()))
			requireClose(t, c.Err(), transport.StatusNormalClosure, "bye", false)
			require.True(t, closed(sc.Done()))
			requireClose(t, sc.Err(), transport.StatusNormalClosure, "bye", true)
			_, err = sc.Recv(ctx) // the ended connection can still be drained
			requireClose(t, err, transport.StatusNormalClosure, "bye", true)
			require.Zero(t, fc.Waiters())
		})
	}
}

func TestDrop(t *testing.T) {
	c, sc := newPipe(t)
	ctx := testCtx(t)
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("lost")))
	require.NoError(t, c.Write(ctx, transport.Text, []byte("lost too")))
	sc.Drop()
	sc.Drop()

	require.True(t, closed(c.Done()))
	_, err := c.Read()
	ce := requireClose(t, err, transport.StatusAbnormalClosure, "", true)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Same(t, ce, c.Err())
	code, ok := transport.CloseCode(err)
	require.True(t, ok)
	require.Equal(t, transport.StatusAbnormalClosure, code)
	require.Same(t, ce, c.Write(ctx, transport.Text, nil))
	require.NoError(t, c.Close(transport.StatusNormalClosure, ""))

	require.True(t, closed(sc.Done()))
	require.ErrorIs(t, sc.Err(), memory.ErrDropped)
	_, err = sc.Recv(ctx)
	require.ErrorIs(t, err, memory.ErrDropped)
	require.ErrorIs(t, sc.Send(ctx, transport.Text, nil), memory.ErrDropped)
}

func TestDropUnblocksReadAndClose(t *testing.T) {
	c, sc := newPipe(t, memory.WithManualCloseAck())
	res := readAsync(c)
	sc.Drop()
	r := recv(t, res)
	requireClose(t, r.err, transport.StatusAbnormalClosure, "", true)

	c, sc = newPipe(t, memory.WithManualCloseAck())
	done := make(chan error, 1)
	go func() { done <- c.Close(transport.StatusNormalClosure, "") }()
	_, err := sc.Recv(testCtx(t)) // the close frame arrived: Close is waiting
	requireClose(t, err, transport.StatusNormalClosure, "", true)
	sc.Drop()
	err = recv(t, done)
	requireClose(t, err, transport.StatusAbnormalClosure, "", true)
	require.Same(t, c.Err(), err)
}

func TestCloseWithUnsendableCodeAborts(t *testing.T) {
	client, server, err := memory.Pipe(memory.WithManualCloseAck())
	require.NoError(t, err)
	server.Stall() // a black hole would make a handshake wait for its timeout
	require.NoError(t, client.Close(transport.StatusAbnormalClosure, ""))
	<-client.Done()
	<-server.Done()
	assert.ErrorIs(t, server.Err(), memory.ErrDropped)
	code, ok := transport.CloseCode(client.Err())
	require.True(t, ok)
	assert.Equal(t, transport.StatusAbnormalClosure, code)
	_, err = client.Read()
	require.Error(t, err)
}
