package tether_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// valueLog keeps what OnDrop reported, by reason.
type valueLog struct {
	mu       sync.Mutex
	possibly []any
	closed   []any
}

func (l *valueLog) onDrop(d tether.Drop) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case errors.Is(d.Reason, tether.ErrPossiblyLost):
		l.possibly = append(l.possibly, d.Value)
	case errors.Is(d.Reason, tether.ErrClosed):
		l.closed = append(l.closed, d.Value)
	}
}

// TestSendBinaryAndSendText: the typed sends write what Send writes for a
// []byte and a string, refuse what it refuses, and their drop reports
// carry the payload as Send's do: a []byte and a string, whether the
// message was queued (reported at Close) or written and never confirmed
// (reported at the drop, from the record of unconfirmed writes).
func TestSendBinaryAndSendText(t *testing.T) {
	srv, _ := newServer(t)
	log := &valueLog{}
	c := newClient[[]byte](t, srv.URL, tether.WithoutHeartbeat(), tether.WithoutReconnect(),
		tether.WithAutoConnect(false), tether.OnDrop(log.onDrop))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	var ue *tether.InvalidUTF8Error
	require.ErrorAs(t, c.SendText(ctx, "ok\xff"), &ue)
	assert.Equal(t, 2, ue.Offset)

	// Written on an open connection, read by the server, never confirmed.
	go func() { _ = c.Connect(ctx) }()
	sc := acceptWS(t, srv)
	waitState(t, c, fsm.Open)
	bin := []byte{0, 1, 2, 0xff}
	require.NoError(t, c.SendBinary(ctx, bin))
	require.NoError(t, c.SendText(ctx, "héllo"))
	require.NoError(t, c.SendBinary(ctx, nil))
	for _, want := range []transport.Message{
		{Type: transport.Binary, Payload: bin},
		{Type: transport.Text, Payload: []byte("héllo")},
		{Type: transport.Binary, Payload: []byte{}},
	} {
		got, err := sc.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, want.Type, got.Type)
		assert.Equal(t, string(want.Payload), string(got.Payload))
	}
	sc.Drop()
	waitState(t, c, fsm.Closed) // without reconnect, the policy gives up
	waitDone(t, c)              // closed once every OnDrop has run

	// Reported as possibly lost, with their values.
	log.mu.Lock()
	assert.Equal(t, []any{bin, "héllo", []byte{}}, log.possibly)
	log.mu.Unlock()

	require.ErrorIs(t, c.SendBinary(ctx, bin), tether.ErrClosed)
	require.ErrorIs(t, c.SendText(ctx, "x"), tether.ErrClosed)
}

// TestTypedSendsQueuedAtCloseAreReported: messages waiting in the buffer
// when Close comes are reported with ErrClosed and their payloads; a
// queued one is copied, so the caller may reuse its slice at once.
func TestTypedSendsQueuedAtCloseAreReported(t *testing.T) {
	log := &valueLog{}
	c, err := tether.New[[]byte]("ws://127.0.0.1:1/never", tether.WithAutoConnect(false), tether.OnDrop(log.onDrop))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	buf := []byte("first")
	require.NoError(t, c.SendBinary(ctx, buf))
	copy(buf, "XXXXX") // reused at once
	require.NoError(t, c.SendText(ctx, "second"))
	require.NoError(t, c.Close(ctx))
	<-c.Done()
	log.mu.Lock()
	defer log.mu.Unlock()
	require.Len(t, log.closed, 2)
	assert.Equal(t, []byte("first"), log.closed[0], "the report shows what was queued")
	assert.Equal(t, "second", log.closed[1])
}

// quietTransport dials quietConns: a connection that takes every write
// at once, allocating nothing, and never receives anything. With it, an
// allocation count sees the client's own send path alone (a network
// transport may start a goroutine to flush a backlog when the machine is
// busy, which allocates).
type quietTransport struct{}

func (quietTransport) Name() string { return "quiet" }

func (quietTransport) Dial(context.Context, transport.Target) (transport.Conn, error) {
	return &quietConn{done: make(chan struct{})}, nil
}

type quietConn struct {
	once sync.Once
	done chan struct{}
}

func (c *quietConn) Read() (transport.Message, error) {
	<-c.done
	return transport.Message{}, transport.ErrClosed
}
func (c *quietConn) Write(context.Context, transport.MessageType, []byte) error { return nil }
func (c *quietConn) Ping(context.Context, []byte) error                         { return nil }
func (c *quietConn) Close(transport.StatusCode, string) error {
	c.once.Do(func() { close(c.done) })
	return nil
}
func (c *quietConn) Done() <-chan struct{} { return c.done }
func (c *quietConn) Err() error {
	select {
	case <-c.done:
		return transport.ErrClosed
	default:
		return nil
	}
}
func (c *quietConn) Subprotocol() string { return "" }

// TestSendBinaryAllocatesNothing: on an open connection with the default
// options (heartbeat on), SendBinary makes no allocation of the client's,
// where Send of the same []byte makes one (the slice boxed into Send's
// any). BenchmarkSend in bench/ measures the same over a real WebSocket.
func TestSendBinaryAllocatesNothing(t *testing.T) {
	c := newClient[[]byte](t, "ws://quiet.example/", tether.WithTransport(quietTransport{}))
	waitState(t, c, fsm.Open)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	p := []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	var sendErr error
	typed := testing.AllocsPerRun(1000, func() {
		if err := c.SendBinary(ctx, p); err != nil {
			sendErr = err
		}
	})
	boxed := testing.AllocsPerRun(1000, func() {
		if err := c.Send(ctx, p); err != nil {
			sendErr = err
		}
	})
	require.NoError(t, sendErr)
	assert.Zero(t, typed, "SendBinary allocations a message")
	// The baseline this test compares with: 1 (2 under -race, which
	// inlines less).
	assert.GreaterOrEqual(t, boxed, 1.0, "Send allocations a message")
}
