package tether_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

// TestStatsCountTraffic checks the message and byte counters in both
// directions, and the reconnect counters: the retry scheduled while
// Waiting, and the attempt counted once it starts.
func TestStatsCountTraffic(t *testing.T) {
	e := newEnv(t)
	c := client[string](e)
	msgs := c.Messages(context.Background())
	sc := e.accept()
	waitState(t, c, fsm.Open)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for _, p := range []string{"one", "two", "three"} {
		require.NoError(t, sc.Send(ctx, transport.Text, []byte(p)))
	}
	for range 3 {
		recv(t, msgs.C())
	}
	require.NoError(t, c.Send(ctx, "hello"))
	require.NoError(t, c.Send(ctx, []byte{1, 2}))
	for range 2 {
		_, err := sc.Recv(ctx)
		require.NoError(t, err)
	}
	st := c.Stats()
	assert.Equal(t, uint64(3), st.MessagesIn)
	assert.Equal(t, uint64(len("one")+len("two")+len("three")), st.BytesIn)
	assert.Equal(t, uint64(2), st.MessagesOut)
	assert.Equal(t, uint64(len("hello")+2), st.BytesOut)
	assert.Zero(t, st.Reconnects)
	assert.Zero(t, st.NextRetry)

	// The reconnect decision is made by a hook that runs after Waiting
	// shows (in State and on the transitions stream): wait for it.
	decided := make(chan tether.Retry, 1)
	stop := c.Watch(tether.Watcher{Retry: func(r tether.Retry) { decided <- r }})
	sc.Drop()
	assert.Equal(t, 1, recv(t, decided).Attempt)
	stop()
	st = c.Stats()
	assert.Equal(t, 1, st.NextRetry.Attempt)
	assert.Equal(t, time.Second, st.NextRetry.Delay, "exactBackoff's first delay")
	assert.Equal(t, e.clk.Now().Add(time.Second), st.NextRetryAt)
	assert.Zero(t, st.Reconnects, "not started yet")

	e.waitTimers(1)
	e.clk.Step(time.Second)
	e.accept()
	waitState(t, c, fsm.Open)
	st = c.Stats()
	assert.Equal(t, uint64(1), st.Reconnects)
	assert.Zero(t, st.NextRetry, "no retry is scheduled once it started")
	assert.True(t, st.NextRetryAt.IsZero())
	assert.Equal(t, uint64(2), st.PossiblyLost, "the two sends were never confirmed before the drop")
	assert.Equal(t, uint64(2), st.Drops())
}

// TestStatsCountDrops checks the drop counters by reason.
func TestStatsCountDrops(t *testing.T) {
	e := newEnv(t)
	c := client[string](e, tether.WithAutoConnect(false),
		tether.WithSendBuffer(1, 8, stream.DropOldest))
	ctx := context.Background()
	require.NoError(t, c.Send(ctx, "old"))
	require.NoError(t, c.Send(ctx, "new"))
	err := c.Send(ctx, "far too large to queue")
	require.ErrorIs(t, err, adapters.ErrTooLargeToQueue)
	st := c.Stats()
	assert.Equal(t, uint64(1), st.DropsBufferFull)
	assert.Equal(t, uint64(2), st.MessagesOut, "two accepted, the refused one is not counted")
	assert.Equal(t, uint64(6), st.BytesOut)

	require.NoError(t, c.Close(ctx))
	st = c.Stats()
	assert.Equal(t, uint64(1), st.DropsClosed, "the queued message, dropped by Close")
	assert.Equal(t, uint64(2), st.Drops())
}

// TestStatsWatchRoundTrips checks that a Watcher hears every round trip
// until it stops, and that Stats counts them.
func TestStatsWatchRoundTrips(t *testing.T) {
	e := newEnv(t)
	c := client[string](e, tether.WithHeartbeat(policy.Heartbeat{Interval: time.Second, PongTimeout: 500 * time.Millisecond}))
	rtts := make(chan time.Duration, 4)
	transitions := make(chan fsm.Transition, 16)
	stop := c.Watch(tether.Watcher{RTT: func(d time.Duration) { rtts <- d },
		Transition: func(tr fsm.Transition) { transitions <- tr }})
	sc := e.accept()
	waitState(t, c, fsm.Open)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	go func() { _, _ = sc.Recv(ctx) }() // the server side reads, so it answers pings
	e.waitTimers(1)
	e.clk.Step(time.Second)
	recv(t, rtts)
	assert.Equal(t, uint64(1), c.Stats().RTTSamples)
	sc.Drop()
	for tr := recv(t, transitions); tr.Event != fsm.EventDropped; tr = recv(t, transitions) {
		assert.Less(t, tr.Seq, uint64(3), "only connect and dialed come before the drop")
	}
	stop()
	stop() // idempotent
	cancel()
}
