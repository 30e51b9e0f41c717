package tether_test

// Helpers shared by the regression tests of issue 11 (inbound_promises_test.go,
// shutdown_promises_test.go and, with the newapi build tag,
// inbound_newapi_test.go).

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// shortBeat is the heartbeat of the reports: a probe every second,
// a peer that stays silent for half a second after it is dead.
var shortBeat = policy.Heartbeat{Interval: time.Second, PongTimeout: 500 * time.Millisecond}

// stepThroughProbes moves clk well past interval+timeout, rounds times: a
// probe goes out and its deadline passes, again and again. After each step
// it waits until the timers' functions have returned (Settle) and a timer
// is armed again (the next tick, or the probe's deadline), so each step
// lands after the heartbeat's own goroutines ran: a deadline's function
// judges its own probe before the next step starts a newer one (a
// heartbeat that only judges the latest probe would otherwise never be
// caught blaming the peer).
func stepThroughProbes(t *testing.T, clk *tethertest.FakeClock, rounds int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for range rounds {
		clk.Step(shortBeat.Interval)
		require.NoError(t, clk.Settle(ctx), "the tick's function did not return")
		require.NoError(t, clk.BlockUntil(ctx, 1), "the heartbeat armed nothing after its tick")
		clk.Step(shortBeat.PongTimeout)
		require.NoError(t, clk.Settle(ctx), "the deadline's function did not return")
		require.NoError(t, clk.BlockUntil(ctx, 1), "the heartbeat armed nothing after the deadline")
	}
}

// reconnectAtOnce retries with no delay, so a reconnect needs no clock step.
func reconnectAtOnce() tether.Option {
	p, err := policy.New(policy.Constant(0))
	if err != nil {
		panic(err)
	}
	return tether.WithReconnect(p)
}

// closer is what the shutdown assertions need of a Client of any T.
type closer interface {
	Close(ctx context.Context) error
	Done() <-chan struct{}
	Trace() []fsm.Transition
}

// newClient builds a client for url and shuts it down when the test ends.
func newClient[T any](t *testing.T, url string, opts ...tether.Option) *tether.Client[T] {
	t.Helper()
	c, err := tether.New[T](url, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { shutDown(t, c) })
	return c
}

// shutDown closes c and waits for Done, each bounded. After a failure the
// bound is short: the failure is already reported, a hang need not cost
// another ten seconds.
func shutDown(t *testing.T, c closer) {
	t.Helper()
	bound := deadline
	if t.Failed() {
		bound = time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	assert.NoError(t, c.Close(ctx), "Close when the test ends")
	select {
	case <-c.Done():
	case <-ctx.Done():
		assert.Fail(t, "Done did not close when the test ended")
	}
}

// newServer starts a WebSocket server, and returns a WaitGroup for the
// goroutines a test starts to drive it. Both end when the test does: the
// server first, which unblocks every Send, then the goroutines.
func newServer(t *testing.T, opts ...tethertest.WSServerOption) (*tethertest.WSServer, *sync.WaitGroup) {
	t.Helper()
	srv := tethertest.NewWSServer(opts...)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	return srv, &wg
}

// acceptWS waits for the next connection to srv.
func acceptWS(t *testing.T, srv *tethertest.WSServer) *tethertest.WSConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc, err := srv.Accept(ctx)
	require.NoError(t, err)
	return sc
}

// numbered is message i of a test feed.
func numbered(i int) string { return fmt.Sprintf("m-%d", i) }

// counter is a count a test can wait on without polling.
type counter struct {
	mu      sync.Mutex
	n       int
	changed chan struct{}
}

func newCounter() *counter { return &counter{changed: make(chan struct{})} }

func (c *counter) add(d int) {
	c.mu.Lock()
	c.n += d
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

func (c *counter) set(n int) {
	c.mu.Lock()
	c.n = n
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

func (c *counter) load() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// waitAtLeast waits until the count is at least n, or ctx ends.
func (c *counter) waitAtLeast(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		cur, changed := c.n, c.changed
		c.mu.Unlock()
		if cur >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("count %d of %d: %w", cur, n, ctx.Err())
		}
	}
}

// sendNumbered sends payload(0) to payload(n-1) on sc, counting each one
// on sent once it is queued.
func sendNumbered(ctx context.Context, sc *memory.ServerConn, n int, sent *counter, payload func(int) []byte) error {
	for i := range n {
		if err := sc.Send(ctx, transport.Text, payload(i)); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
		sent.add(1)
	}
	return nil
}

// assertSequence checks that got is 0, 1, ..., n-1, and reports how many
// values arrived and where the first gap is rather than a diff of
// thousands of lines.
func assertSequence(t *testing.T, got []int, n int, what string) bool {
	t.Helper()
	for i, v := range got {
		if v != i {
			return assert.Failf(t, what+" lost or reordered values",
				"%d of %d arrived; position %d holds %d", len(got), n, i, v)
		}
	}
	return assert.Equalf(t, n, len(got), "%s: %d of %d arrived", what, len(got), n)
}

// recvWatching waits for the next value on ch and fails as soon as the
// connection leaves Open (a heartbeat timeout, a drop, a close).
func recvWatching[V any](t *testing.T, ch <-chan V, trs *stream.Subscription[fsm.Transition]) V {
	t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for {
		select {
		case v, ok := <-ch:
			require.True(t, ok, "the stream ended")
			return v
		case tr, ok := <-trs.C():
			require.True(t, ok, "the transitions stream ended")
			if tr.From == fsm.Open {
				require.FailNow(t, "the live connection was given up", "%v", tr)
			}
		case <-timer.C:
			require.FailNow(t, "nothing arrived")
		}
	}
}

// assertStayedOpen checks from the trace that the connection never left
// Open: no heartbeat timeout, no drop, no reconnect.
func assertStayedOpen[T any](t *testing.T, c *tether.Client[T]) {
	t.Helper()
	for _, tr := range c.Trace() {
		assert.NotEqualf(t, fsm.EventHeartbeatTimeout, tr.Event, "heartbeat timeout: %v", tr)
		assert.NotEqualf(t, fsm.Open, tr.From, "the connection left Open: %v", tr)
	}
	assert.Equal(t, fsm.Open, c.State())
}

// assertDeadPeerFound stalls sc, now that the consumer keeps up again, and
// checks that the heartbeat finds the peer dead: a heartbeat that spared a
// slow consumer must not have stopped judging the connection for good (an
// audit: staying open alone proved nothing of that).
func assertDeadPeerFound[T any](t *testing.T, clk *tethertest.FakeClock, c *tether.Client[T], sc *tethertest.WSConn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc.Stall()
	timedOut := func() bool {
		return slices.ContainsFunc(c.Trace(), func(tr fsm.Transition) bool { return tr.Event == fsm.EventHeartbeatTimeout })
	}
	// Bounded by ctx, not by fake time: a deadline gives no verdict while
	// the client's reader is not waiting for the network, and fake time
	// can run through many rounds before the reader's goroutine is back in
	// its Read (a bound of two rounds failed in CI: 3.5 s of fake time,
	// each deadline finding the reader not yet waiting).
	for !timedOut() {
		require.NoError(t, ctx.Err(), "the heartbeat did not find the stalled peer")
		require.NoError(t, clk.BlockUntil(ctx, 1), "the heartbeat did not find the stalled peer")
		clk.StepToNext()
		require.NoError(t, clk.Settle(ctx))
	}
}
