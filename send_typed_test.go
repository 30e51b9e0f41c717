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
	select {
	case <-c.Done(): // closed once every OnDrop has run
	case <-ctx.Done():
		require.FailNow(t, "Done did not close")
	}

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

// TestSendBinaryAllocatesNothing: on an open connection with the default
// options (heartbeat on), SendBinary makes no allocation, where Send of
// the same []byte makes one (the slice boxed into Send's any).
func TestSendBinaryAllocatesNothing(t *testing.T) {
	srv, wg := newServer(t)
	c := newClient[[]byte](t, srv.URL)
	sc := acceptWS(t, srv)
	waitState(t, c, fsm.Open)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	wg.Go(func() { // the server reads everything
		for {
			if _, err := sc.Recv(ctx); err != nil {
				return
			}
		}
	})
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
