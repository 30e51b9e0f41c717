package tether_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport/memory"
)

// deadline bounds every wait. Generous: the tests wait for events, they do
// not measure time.
const deadline = 10 * time.Second

// Reading is the typed message the tests exchange.
type Reading struct {
	Sensor string  `json:"sensor"`
	Value  float64 `json:"value"`
}

type env struct {
	t   *testing.T
	srv *memory.Server
	clk *tethertest.FakeClock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	return &env{t: t, srv: srv, clk: tethertest.NewFakeClock(time.Time{})}
}

// exactBackoff is 1 s, 2 s, 4 s... with no jitter, so tests can step to it.
func exactBackoff(opts ...policy.Option) tether.Option {
	p, err := policy.New(policy.Exponential{Initial: time.Second, Max: 8 * time.Second, Multiplier: 2,
		Jitter: policy.JitterNone}, append([]policy.Option{policy.WithFloorSpread(0)}, opts...)...)
	if err != nil {
		panic(err)
	}
	return tether.WithReconnect(p)
}

// client builds a client on the memory server and the fake clock, and
// closes it when the test ends.
func client[T any](e *env, opts ...tether.Option) *tether.Client[T] {
	e.t.Helper()
	base := []tether.Option{tether.WithTransport(e.srv.Transport()), tether.WithClock(e.clk),
		tether.WithoutHeartbeat(), exactBackoff()}
	c, err := tether.New[T]("memory://feed", append(base, opts...)...)
	require.NoError(e.t, err)
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		require.NoError(e.t, c.Close(ctx))
	})
	return c
}

func (e *env) accept() *memory.ServerConn {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sc, err := e.srv.Accept(ctx)
	require.NoError(e.t, err)
	return sc
}

func (e *env) waitTimers(n int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(e.t, e.clk.BlockUntil(ctx, n))
}

// waitState waits until c is in state s.
func waitState[T any](t *testing.T, c *tether.Client[T], s fsm.State) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for st := c.State(); st != s; st = c.State() {
		require.True(t, c.WaitForStateChange(ctx, st), "still %s, waiting for %s", st, s)
	}
}

// waitDone waits until c's Done is closed: the client closed and every
// callback has run.
func waitDone[T any](t *testing.T, c *tether.Client[T]) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(deadline):
		require.FailNow(t, "Done did not close")
	}
}

// recv waits for the next value on ch.
func recv[V any](t *testing.T, ch <-chan V) V {
	t.Helper()
	select {
	case v, ok := <-ch:
		require.True(t, ok, "channel closed")
		return v
	case <-time.After(deadline):
		require.FailNow(t, "nothing arrived")
	}
	var zero V
	return zero
}

func memoryRefuse(status int) memory.Answer { return memory.Refuse(status, nil, "") }
func memoryHang() memory.Answer             { return memory.Hang() }
func memoryUnreachable() memory.Answer      { return memory.Unreachable() }

// newFastClock is a fake clock for tests that need a retry delay to show
// but never to elapse.
func newFastClock() *tethertest.FakeClock { return tethertest.NewFakeClock(time.Time{}) }
