package rpc

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/integration/peer"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/rpc/jsonrpc"
)

// deadline bounds every real-time wait: generous, since nothing is
// asserted about elapsed time, only about what happens.
const deadline = 30 * time.Second

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx
}

// startServer starts rpc-server.mjs named name, on port (0: any).
func startServer(t *testing.T, port int, name string) *peer.Peer {
	t.Helper()
	return peer.StartT(t, peer.WithScript(peer.RPCScript, "--name", name), peer.WithPort(port))
}

// dial builds an rpc client over a tether client connected to p, and
// closes both when the test ends.
func dial(t *testing.T, p *peer.Peer) (*rpc.Client, *tether.Client[string]) {
	t.Helper()
	rc := rpc.New(jsonrpc.RPCWebSockets())
	pol, err := policy.New(policy.Constant(100 * time.Millisecond))
	require.NoError(t, err)
	tc, err := tether.New[string](p.URL("/"), append(rc.Options(), tether.WithReconnect(pol))...)
	require.NoError(t, err)
	require.True(t, rc.Bind(tc))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		assert.NoError(t, tc.Close(ctx))
		assert.NoError(t, rc.Close())
	})
	require.NoError(t, tc.Connect(ctxT(t)))
	return rc, tc
}

// received waits until the server has received a message containing s.
func received(t *testing.T, p *peer.Peer, s string) {
	t.Helper()
	_, err := p.Wait(ctxT(t), func(e peer.Event) bool {
		return e.Kind == peer.KindMessage && strings.Contains(e.Payload, s)
	})
	require.NoError(t, err, "the server never received %s", s)
}

// next reads one notification.
func next[T any](t *testing.T, s *rpc.Subscription[T]) T {
	t.Helper()
	select {
	case v, ok := <-s.C():
		require.True(t, ok, "the subscription ended: %v", s.Err())
		return v
	case <-ctxT(t).Done():
		require.FailNow(t, "no notification")
	}
	panic("unreachable")
}

func TestRequests(t *testing.T) {
	p := startServer(t, 0, "first")
	rc, _ := dial(t, p)
	ctx := ctxT(t)

	sum, err := rpc.Call[int](ctx, rc, "sum", []int{1, 2, 3})
	require.NoError(t, err)
	assert.Equal(t, 6, sum)

	echo, err := rc.Request(ctx, "echo", map[string]any{"a": "b"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":"b"}`, string(echo))

	// A method that throws: rpc-websockets' own error object.
	_, err = rc.Request(ctx, "fail", nil)
	var remote *rpc.RemoteError
	require.ErrorAs(t, err, &remote)
	assert.Equal(t, -32000, remote.Code)
	assert.Equal(t, "Error", remote.Message)
	assert.JSONEq(t, `"it broke"`, string(remote.Data))

	_, err = rc.Request(ctx, "no_such_method", nil)
	require.ErrorAs(t, err, &remote)
	assert.Equal(t, -32601, remote.Code)

	// A reply that does not come in time, then comes: the request has
	// timed out, the late reply is reported.
	errs := rc.Errors(ctx)
	defer errs.Close()
	req := rc.Go(ctx, "slow", []any{300, "late"}, rpc.Timeout(20*time.Millisecond))
	_, err = req.Wait(ctx)
	require.ErrorIs(t, err, rpc.ErrTimeout)
	select {
	case err := <-errs.C():
		var unknown *rpc.UnknownReplyError
		require.ErrorAs(t, err, &unknown)
		assert.Equal(t, req.ID(), unknown.ID)
	case <-ctx.Done():
		require.FailNow(t, "the late reply was not reported")
	}

	// Many at once, answered out of order (slow ones first).
	var wg sync.WaitGroup
	got := make([]int, 200)
	fails := make([]error, 200)
	for i := range got {
		wg.Go(func() {
			if i%10 == 0 {
				var s string
				s, fails[i] = rpc.Call[string](ctx, rc, "slow", []any{50, "x"})
				got[i] = len(s) - 1 + i
				return
			}
			got[i], fails[i] = rpc.Call[int](ctx, rc, "sum", []int{i, 0})
		})
	}
	wg.Wait()
	for i := range got {
		require.NoError(t, fails[i])
		assert.Equal(t, i, got[i])
	}
}

type tick struct {
	N      int    `json:"n"`
	Server string `json:"server"`
}

func TestSubscriptions(t *testing.T) {
	p := startServer(t, 0, "first")
	rc, tc := dial(t, p)
	ctx := ctxT(t)

	ticks, err := rpc.SubscribeTo[tick](ctx, rc, "tick", nil)
	require.NoError(t, err)
	a, b := next(t, ticks), next(t, ticks)
	assert.Equal(t, a.N+1, b.N, "ticks in order")

	news, err := rc.Subscribe(ctx, "news", nil)
	require.NoError(t, err)
	ok, err := rpc.Call[bool](ctx, rc, "publish", []any{"news", map[string]any{"headline": "hello"}})
	require.NoError(t, err)
	assert.True(t, ok)
	assert.JSONEq(t, `{"headline":"hello"}`, string(next(t, news)))

	// An event the server does not have: its own refusal, typed.
	_, err = rc.Subscribe(ctx, "nope", nil)
	var refused *rpc.RefusedError
	require.ErrorAs(t, err, &refused)
	assert.JSONEq(t, `{"nope":"provided event invalid"}`, string(refused.Result))

	// The last reader leaves: rpc.off goes out and the server confirms.
	news.Close()
	received(t, p, `"rpc.off"`)
	ticks.Close()
	require.NoError(t, rc.Close()) // waits for the unsubscribes' answers
	assert.Equal(t, rpc.Unsubscribed, news.State())
	assert.Equal(t, []rpc.SubState{rpc.Subscribing, rpc.Subscribed, rpc.Unsubscribing, rpc.Unsubscribed},
		subStates(news.Trace()), "%s", rpc.SubscriptionTraceMermaid(news.Trace()))
	assert.True(t, tc.IsConnected())
}

func subStates(trace []rpc.SubTransition) []rpc.SubState {
	var out []rpc.SubState
	for _, tr := range trace {
		out = append(out, tr.To)
	}
	return out
}

// The server is killed with requests in flight and subscriptions live,
// and started again on the same port: every subscription is back before
// the client reports ready (Resubscribing precedes Open), the request that
// is not idempotent is reported lost, the idempotent one is sent again
// and answered.
func TestServerRestart(t *testing.T) {
	p := startServer(t, 0, "first")
	port := p.Port()
	rc, tc := dial(t, p)
	ctx := ctxT(t)

	ticks, err := rpc.SubscribeTo[tick](ctx, rc, "tick", nil)
	require.NoError(t, err)
	next(t, ticks)
	news, err := rc.Subscribe(ctx, "news", nil)
	require.NoError(t, err)

	lost := rc.Go(ctx, "slow", []any{60000, "never"})
	retried := rc.Go(ctx, "slow", []any{200, "again"}, rpc.Idempotent())
	received(t, p, `"never"`)
	received(t, p, `"again"`)

	trs := tc.Transitions(ctx)
	defer trs.Close()
	require.NoError(t, p.Stop())
	p2 := startServer(t, port, "second")

	// The lifecycle after the kill, up to the next Open.
	var seen []fsm.State
	for tr := range trs.All() {
		if len(seen) == 0 || seen[len(seen)-1] != tr.To {
			seen = append(seen, tr.To)
		}
		if tr.To == fsm.Open && len(seen) > 1 {
			// Ready: every subscription is back already.
			assert.Equal(t, rpc.Subscribed, ticks.State())
			assert.Equal(t, rpc.Subscribed, news.State())
			break
		}
	}
	require.GreaterOrEqual(t, len(seen), 3)
	assert.Equal(t, rpc.ResubscribeStage, seen[len(seen)-2], "Resubscribing precedes Open: %v", seen)
	received(t, p2, `"rpc.on"`)

	_, err = lost.Wait(ctx)
	require.ErrorIs(t, err, rpc.ErrLost, "the request in flight is reported, never silent")
	res, err := retried.Wait(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `"again"`, string(res))
	assert.Equal(t, rpc.EventRetry, retried.Trace()[1].Event, "%s", rpc.RequestTraceMermaid(retried.Trace()))

	// Notifications flow from the new server.
	for next(t, ticks).Server != "second" {
	}
	_, err = rc.Request(ctx, "publish", []any{"news", "after"})
	require.NoError(t, err)
	// rpc-websockets sends one object as it is, anything else in an array.
	assert.JSONEq(t, `["after"]`, string(next(t, news)))
	assert.Equal(t, []rpc.SubState{rpc.Subscribing, rpc.Subscribed, rpc.Resubscribing, rpc.Subscribed},
		subStates(news.Trace()))
	ticks.Close()
	news.Close()
}
