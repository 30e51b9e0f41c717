package tethertest_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

// TestGuideReconnectAfterACrash is the first test of docs/testing.md: a
// client on the fake clock reconnects after the server crashes, with no
// sleep.
func TestGuideReconnectAfterACrash(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := tethertest.NewWSServer()
	defer srv.Close()
	clk := tethertest.NewFakeClock(time.Time{})

	c, err := tether.New[string](srv.URL, tether.WithAutoConnect(false),
		tether.WithClock(clk), tether.WithoutHeartbeat())
	require.NoError(t, err)
	defer c.Close(ctx)
	msgs := c.Messages(ctx)
	require.NoError(t, c.Connect(ctx))
	_, err = srv.Accept(ctx) // the server's end of the first connection
	require.NoError(t, err)

	srv.DropAll()                                        // a crash: Connect has returned, so this drops its connection
	require.True(t, c.WaitForStateChange(ctx, fsm.Open)) // the client noticed
	require.NoError(t, clk.BlockUntil(ctx, 1))           // and armed its reconnect delay...
	clk.StepToNext()                                     // ...which elapses at once
	sc, err := srv.Accept(ctx)                           // the second connection
	require.NoError(t, err)

	require.NoError(t, sc.Send(transport.Text, []byte("back")))
	m, ok := <-msgs.C()
	require.True(t, ok)
	assert.Equal(t, "back", m)
}

// TestGuideStall is the stall recipe of docs/testing.md and
// docs/heartbeat.md: a server that stops answering is found dead by the
// heartbeat, on the fake clock, with no sleep. (The recipe used to be two
// fixed steps, interval then pong timeout, which failed every time: the
// probe's deadline is armed only once the tick's step has run, and Stall
// may let the first ping through.)
func TestGuideStall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := tethertest.NewWSServer()
	defer srv.Close()
	clk := tethertest.NewFakeClock(time.Time{})
	c, err := tether.New[string](srv.URL, tether.WithAutoConnect(false), tether.WithClock(clk),
		tether.WithHeartbeat(policy.Heartbeat{Interval: time.Second, PongTimeout: 500 * time.Millisecond}))
	require.NoError(t, err)
	defer c.Close(ctx)
	require.NoError(t, c.Connect(ctx))
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)

	sc.Stall()
	for !heartbeatTimedOut(c) {
		require.NoError(t, clk.BlockUntil(ctx, 1)) // the next tick, or the probe's deadline
		clk.StepToNext()
		require.NoError(t, clk.Settle(ctx)) // what the timer's function did is done
	}
	for _, tr := range c.Trace() {
		if tr.Event == fsm.EventHeartbeatTimeout {
			assert.ErrorIs(t, tr.Cause, tether.ErrHeartbeatTimeout)
		}
	}
}

// TestStallLoopStopsAtTheTimeout: with Settle between the step and the
// look, the guide's stall loop stops at the heartbeat's timeout, so the
// test can see and step the reconnect delay that follows. Without it the
// look raced the timeout's function and the loop stepped through the
// delay (an outside review: a one-hour delay elapsed before the test saw
// the timeout, 25 to 29 times in 30).
func TestStallLoopStopsAtTheTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := tethertest.NewWSServer()
	defer srv.Close()
	for range 30 {
		clk := tethertest.NewFakeClock(time.Time{})
		c, err := tether.New[string](srv.URL, tether.WithAutoConnect(false), tether.WithClock(clk),
			tether.WithHeartbeat(policy.Heartbeat{Interval: time.Second, PongTimeout: 500 * time.Millisecond}),
			tether.WithReconnect(policy.Constant(time.Hour)))
		require.NoError(t, err)
		require.NoError(t, c.Connect(ctx))
		sc, err := srv.Accept(ctx)
		require.NoError(t, err)

		sc.Stall()
		for !heartbeatTimedOut(c) {
			require.NoError(t, clk.BlockUntil(ctx, 1))
			clk.StepToNext()
			require.NoError(t, clk.Settle(ctx))
		}
		last := c.Trace()[len(c.Trace())-1]
		require.Equal(t, fsm.EventHeartbeatTimeout, last.Event, "the loop stepped past the timeout: %v", last)
		require.Equal(t, fsm.Waiting, last.To)
		assert.Contains(t, clk.Pending(), time.Hour, "the reconnect delay is the test's to step")
		require.NoError(t, c.Close(ctx))
		sc.Drop()
	}
}

// heartbeatTimedOut reports whether c's heartbeat has dropped a
// connection.
func heartbeatTimedOut(c *tether.Client[string]) bool {
	return slices.ContainsFunc(c.Trace(), func(tr fsm.Transition) bool { return tr.Event == fsm.EventHeartbeatTimeout })
}
