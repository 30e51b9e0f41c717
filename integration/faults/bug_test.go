package faults

// A minimal reproduction of a library bug found while writing the fault
// tests. It fails until the library is fixed; its name says what is wrong.
// It uses the public API only.

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/tethertest"
)

// TestStalePongConfirmsNothingLater is the regression test of a bug this
// suite found: the heartbeat took any pong that arrived while a probe was
// outstanding as that probe's answer and confirmed every write before it.
// A late pong for an earlier probe (the peer is slow, other frames kept the
// connection alive) then confirmed messages the peer had not read, and when
// the connection failed they were lost without a report. Pings now carry
// the probe's number and only the pong that echoes it confirms anything.
//
// A raw WebSocket server reads the first ping and nothing after it, sends
// a data frame (a sign of life), and answers the first ping (echoing its
// payload) only once the second probe is outstanding; then it closes
// without reading message A, which must be reported.
func TestStalePongConfirmsNothingLater(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		if _, err := ws.Upgrade(conn); err != nil {
			_ = conn.Close()
			close(accepted)
			return
		}
		accepted <- conn
	}()

	const interval, pongTimeout = 10 * time.Second, 5 * time.Second // on the fake clock
	clk := tethertest.NewFakeClock(time.Time{})
	rtts := make(chan time.Duration, 8)
	c, err := tether.New[string]("ws://"+ln.Addr().String()+"/", tether.WithAutoConnect(false), tether.WithClock(clk),
		tether.WithHeartbeat(policy.Heartbeat{Interval: interval, PongTimeout: pongTimeout}),
		tether.WithoutReconnect(), tether.OnRTT(func(d time.Duration) { rtts <- d }))
	require.NoError(t, err)
	defer func() { _ = c.Close(ctx) }()
	errs := c.Errors(ctx, stream.WithBuffer(1024))
	msgs := c.Messages(ctx)
	require.NoError(t, c.Connect(ctx))
	conn, ok := <-accepted
	require.True(t, ok, "the raw server did not accept")
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(deadline)))

	require.NoError(t, clk.BlockUntil(ctx, 1)) // the heartbeat's tick
	clk.Step(interval)                         // probe 1
	h, err := ws.ReadHeader(conn)
	require.NoError(t, err)
	require.Equal(t, ws.OpPing, h.OpCode, "probe 1")
	ping1 := make([]byte, h.Length) // its payload; nothing after it is read
	_, err = io.ReadFull(conn, ping1)
	require.NoError(t, err)
	if h.Masked {
		ws.Cipher(ping1, h.Mask, 0)
	}
	require.NoError(t, ws.WriteFrame(conn, ws.NewTextFrame([]byte("alive"))))
	select {
	case <-msgs.C():
	case <-ctx.Done():
		require.FailNow(t, "the sign of life did not arrive")
	}
	clk.Step(pongTimeout) // probe 1's deadline: frames arrived, so no timeout

	idA, err := c.SendID(ctx, "A") // written; the server will never read it
	require.NoError(t, err)
	clk.Step(interval - pongTimeout)                                // probe 2, whose mark covers A
	require.NoError(t, clk.BlockUntil(ctx, 2))                      // probe 2 armed its deadline: it is outstanding
	require.NoError(t, ws.WriteFrame(conn, ws.NewPongFrame(ping1))) // probe 1's pong, late
	require.NoError(t, conn.Close())                                // the server leaves without reading A
	// The state is read once per turn: read again for the wait, it could
	// already be Closed, and the wait for a change from Closed lasted the
	// whole deadline (a CI run saw it).
	for st := c.State(); st != fsm.Closed; st = c.State() {
		require.True(t, c.WaitForStateChange(ctx, st), "the client did not see the server leave: %s, Err %v, %+v",
			st, c.Err(), c.Stats())
	}

	require.NoError(t, c.Close(ctx))
	assert.True(t, reportedIDs(errs)[idA],
		"message %d was confirmed by a pong that answered an earlier probe, then lost without a report", idA)
	assert.Empty(t, rtts, "a stale pong is not a round trip")
}
