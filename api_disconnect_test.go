package tether_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// TestDisconnectIsReversible: the seed's disconnect() then connect() used
// to need a new client (Close is final). Disconnect runs the close
// handshake and leaves the client Idle with its subscriptions and send
// buffer; nothing reconnects by itself; Connect opens a new connection
// that the old subscription reads from, and what was sent meanwhile goes
// out on it.
func TestDisconnectIsReversible(t *testing.T) {
	e := newEnv(t)
	c := client[Reading](e)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	msgs := c.Messages(ctx)
	defer msgs.Close()
	first := e.accept()
	waitState(t, c, fsm.Open)

	require.NoError(t, c.Disconnect(ctx))
	assert.Equal(t, fsm.Idle, c.State())
	assert.Equal(t, tether.StatusClosed, c.Status())
	code, _, ok := first.CloseReceived()
	require.True(t, ok, "the server got a close frame")
	assert.Equal(t, transport.StatusNormalClosure, code)
	require.NoError(t, c.Disconnect(ctx), "Disconnect when idle is a no-op")

	require.NoError(t, c.Send(ctx, Reading{Sensor: "queued"}), "Send while idle queues")
	queued, _ := c.Buffered()
	assert.Equal(t, 1, queued)
	e.clk.Step(time.Hour) // long past any backoff: still idle
	assert.Equal(t, fsm.Idle, c.State(), "nothing reconnects after Disconnect")
	assert.Len(t, e.srv.Dials(), 1)

	require.NoError(t, c.Connect(ctx))
	second := e.accept()
	m, err := second.Recv(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"sensor":"queued","value":0}`, string(m.Payload), "the buffer survives Disconnect")
	require.NoError(t, second.Send(ctx, transport.Text, []byte(`{"sensor":"after"}`)))
	assert.Equal(t, "after", recv(t, msgs.C()).Sensor, "the subscription survives Disconnect")
}

// TestDisconnectWhileWaitingOrConnecting: Disconnect stops a pending
// reconnect (its timer never fires a dial) and abandons a dial under way.
func TestDisconnectWhileWaitingOrConnecting(t *testing.T) {
	t.Run("waiting", func(t *testing.T) {
		e := newEnv(t)
		c := client[Reading](e)
		e.accept().Drop()
		waitState(t, c, fsm.Waiting)
		e.waitTimers(1)
		require.NoError(t, c.Disconnect(context.Background()))
		assert.Equal(t, fsm.Idle, c.State())
		e.clk.Step(time.Hour)
		assert.Equal(t, fsm.Idle, c.State())
		assert.Len(t, e.srv.Dials(), 1, "the reconnect timer was stopped")
	})
	t.Run("connecting", func(t *testing.T) {
		e := newEnv(t)
		e.srv.Script(memoryHang())
		c := client[Reading](e)
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		_, err := e.srv.WaitDials(ctx, 1) // the dial reached the server, which holds it
		require.NoError(t, err)
		require.NoError(t, c.Disconnect(ctx))
		assert.Equal(t, fsm.Idle, c.State())
		require.NoError(t, c.Connect(ctx), "the next answer accepts")
		assert.Len(t, e.srv.Dials(), 2)
	})
}

// TestConnectEndedByDisconnect: a Connect waiting for a connection returns
// ErrDisconnected when Disconnect ends the attempt, instead of waiting on.
func TestConnectEndedByDisconnect(t *testing.T) {
	e := newEnv(t)
	e.srv.Script(memoryHang())
	c := client[Reading](e, tether.WithAutoConnect(false))
	done := make(chan error, 1)
	go func() { done <- c.Connect(context.Background()) }()
	waitState(t, c, fsm.Connecting)
	require.NoError(t, c.Disconnect(context.Background()))
	require.ErrorIs(t, recv(t, done), tether.ErrDisconnected)
}

// TestCloseWhileDisconnecting: Close during a Disconnect's handshake ends
// the client for good, and Disconnect after Close says ErrClosed.
func TestCloseWhileDisconnecting(t *testing.T) {
	srv, err := memory.NewServer(memory.WithAutoAccept(), memory.WithManualCloseAck())
	require.NoError(t, err)
	e := &env{t: t, srv: srv, clk: newFastClock()}
	c := client[Reading](e)
	sc := e.accept() // the server never answers the close frame
	waitState(t, c, fsm.Open)
	disconnected := make(chan error, 1)
	go func() { disconnected <- c.Disconnect(context.Background()) }()
	waitState(t, c, fsm.Disconnecting)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- c.Close(ctx) }()
	waitState(t, c, fsm.Closing)
	sc.Close(transport.StatusNormalClosure, "") // answer: the handshake ends
	require.NoError(t, recv(t, closed))
	assert.Equal(t, fsm.Closed, c.State())
	assert.ErrorIs(t, recv(t, disconnected), tether.ErrClosed)
	require.ErrorIs(t, c.Disconnect(ctx), tether.ErrClosed)
}

// TestOnClosePerConnection: OnClose used to fire only at the final Closed,
// so a server's clean 1000 close under the default policy reached no close
// callback. It now fires once per connection that opened, whoever ended
// it, with the code the wire carried; OnDone fires once, at the end.
func TestOnClosePerConnection(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var opens, closes, dones []fsm.Transition
	c := client[Reading](e,
		tether.OnOpen(func(tr fsm.Transition) { mu.Lock(); opens = append(opens, tr); mu.Unlock() }),
		tether.OnClose(func(tr fsm.Transition) { mu.Lock(); closes = append(closes, tr); mu.Unlock() }),
		tether.OnDone(func(tr fsm.Transition) { mu.Lock(); dones = append(dones, tr); mu.Unlock() }),
	)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	e.accept().Close(transport.StatusNormalClosure, "bye") // the server closes cleanly
	waitState(t, c, fsm.Waiting)
	e.waitTimers(1)
	e.clk.StepToNext()
	e.accept().Drop() // the network fails
	waitState(t, c, fsm.Waiting)
	e.waitTimers(1)
	e.clk.StepToNext()
	e.accept()
	waitState(t, c, fsm.Open)
	require.NoError(t, c.Disconnect(ctx)) // the client disconnects
	require.NoError(t, c.Connect(ctx))
	e.accept()
	require.NoError(t, c.Close(ctx)) // the client closes
	waitDone(t, c)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, closes, 4, "one OnClose per connection")
	assert.Len(t, opens, len(closes), "exactly one OnClose per OnOpen")
	assert.Equal(t, uint16(transport.StatusNormalClosure), closes[0].CloseCode, "the server's clean close")
	var ce *transport.CloseError
	require.ErrorAs(t, closes[0].Cause, &ce)
	assert.True(t, ce.Remote)
	assert.Equal(t, "bye", ce.Reason)
	assert.Equal(t, uint16(transport.StatusAbnormalClosure), closes[1].CloseCode, "the network failure")
	assert.Equal(t, fsm.Idle, closes[2].To, "the Disconnect")
	assert.Equal(t, fsm.Closed, closes[3].To, "the Close")
	require.Len(t, dones, 1)
	assert.Equal(t, fsm.Closed, dones[0].To)
	assert.False(t, errors.Is(closes[2].Cause, tether.ErrClosed))
}

// TestReadersNeverOverlapAcrossDisconnect: a Connect right after a
// Disconnect used to start the new connection's reader while the previous
// one was still delivering when the new connection had already ended (a
// race on the inbound buffer under -race, and once a panic). Readers run
// one at a time: OnMessage never overlaps itself, at volume.
func TestReadersNeverOverlapAcrossDisconnect(t *testing.T) {
	srv, wg := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	wg.Go(func() { // greet every connection at once
		for {
			sc, err := srv.Accept(ctx)
			if err != nil {
				return
			}
			_ = sc.Send(transport.Text, []byte(`"hello"`))
		}
	})
	var running, overlaps atomic.Int32
	c, err := tether.New[string](srv.URL, tether.WithAutoConnect(false), tether.OnMessage(func(string) {
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		running.Add(-1)
	}))
	require.NoError(t, err)
	defer shutDown(t, c)
	msgs := c.Messages(ctx)
	defer msgs.Close()
	go func() {
		for range msgs.All() {
		}
	}()
	for range 300 {
		require.NoError(t, c.Connect(ctx))
		require.NoError(t, c.Disconnect(ctx))
	}
	assert.Zero(t, overlaps.Load(), "OnMessage ran on two readers at once")
}

// TestConnectReportsAnOpenThatWasLeftAtOnce: a connection that opened is a
// Connect that succeeded, even when the program leaves it before Connect's
// caller is woken: here OnRaw starts a Disconnect on the first message,
// which the server sends with its handshake answer. Connect used to return
// ErrDisconnected when it looked after the Disconnect had begun.
func TestConnectReportsAnOpenThatWasLeftAtOnce(t *testing.T) {
	srv := newRawServer(t, func(w io.Writer) { _, _ = w.Write(frame(ws.OpText, true, []byte("hello"), false, 0)) })
	for i := range 60 {
		var c *tether.Client[[]byte]
		var once sync.Once
		left := make(chan error, 1)
		c, err := tether.New[[]byte](srv.url, tether.WithAutoConnect(false), tether.WithoutReconnect(),
			tether.OnRaw(func(transport.Message) {
				once.Do(func() { go func() { left <- c.Disconnect(context.Background()) }() })
			}))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		require.NoError(t, c.Connect(ctx), "attempt %d: the connection opened", i)
		require.NoError(t, recv(t, left))
		require.NoError(t, c.Close(ctx))
		cancel()
	}
}

// TestOnCloseOnAHeartbeatTimeout: a connection the heartbeat gives up on
// gets its OnClose too, with the timeout's event and 1006 (an audit found
// the server's close, a drop, Disconnect and Close covered, not this).
func TestOnCloseOnAHeartbeatTimeout(t *testing.T) {
	srv, _ := newServer(t)
	clk := tethertest.NewFakeClock(time.Time{})
	var mu sync.Mutex
	var opens, closes []fsm.Transition
	c := newClient[string](t, srv.URL, tether.WithAutoConnect(false), tether.WithClock(clk),
		tether.WithHeartbeat(shortBeat), tether.WithoutReconnect(),
		tether.OnOpen(func(tr fsm.Transition) { mu.Lock(); opens = append(opens, tr); mu.Unlock() }),
		tether.OnClose(func(tr fsm.Transition) { mu.Lock(); closes = append(closes, tr); mu.Unlock() }))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)
	assertDeadPeerFound(t, clk, c, sc) // stalls the server, steps to the timeout
	waitDone(t, c)                     // the policy gives up at once
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, opens, 1)
	require.Len(t, closes, 1, "one OnClose for the connection that opened")
	assert.Equal(t, fsm.EventHeartbeatTimeout, closes[0].Event)
	assert.Equal(t, uint16(transport.StatusAbnormalClosure), closes[0].CloseCode)
	assert.ErrorIs(t, closes[0].Cause, tether.ErrHeartbeatTimeout)
}
